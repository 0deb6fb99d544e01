/**
 * The org section's fixed numbers and names, shared by its seeding, its CLI run, its check and its figures: the
 * quotas the floor is made of, the page size, the organization's management account, the role the members are
 * reached through, the caller's fake credentials and the guard key's alias.
 */

/** The quotas the floor is made of (AWS's published TPS; the emulator's table, local/emulator/quota.ts). */
export const QUOTA = { associate: 5, tags: 5, describe: 10 };
export const PAGE = 50;
export const MANAGEMENT = '210000000000';
export const ROLE = 'OrganizationAccountAccessRole';
export const ALIAS = 'alias/logs-kms-guard';
/** The management account's own (fake) credentials: the bench's and the CLI's. */
export const CALLER = { accessKeyId: 'bench-management', secretAccessKey: 'bench' };
