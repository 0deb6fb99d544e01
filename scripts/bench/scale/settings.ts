/**
 * The scale section's fixed names and numbers, shared by its region, its runs and its figures: the sweep
 * function's name in the emulator's Lambda service, and a megabyte. (The quota its floor is made of,
 * DescribeLogGroups at 10 TPS and 50 groups a page, is the bench's: scripts/bench/settings.ts.)
 */
export const SWEEP_FUNCTION = 'logs-kms-guard-bench-sweep';
export const MB = 2 ** 20;
