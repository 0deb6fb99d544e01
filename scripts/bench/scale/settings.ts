/**
 * The scale section's fixed numbers, shared by its region, its runs and its figures: the quota its floor is made
 * of, the page size, the sweep function's name in the emulator's Lambda service, and a megabyte.
 */

/** The AWS quota the floor is made of: DescribeLogGroups, 10 TPS, 50 groups a page. */
export const DESCRIBE_TPS = 10;
export const PAGE = 50;
export const SWEEP_FUNCTION = 'logs-kms-guard-bench-sweep';
export const MB = 2 ** 20;
