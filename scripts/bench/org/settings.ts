/**
 * The org section's fixed names, shared by its seeding, its CLI run, its check and its figures: the
 * organization's management account, the role the members are reached through and the caller's fake
 * credentials. (The quotas its floor is made of and the page size are the bench's, scripts/bench/settings.ts;
 * the guard key's alias is the world's, local/world.ts.)
 */
export const MANAGEMENT = '210000000000';
export const ROLE = 'OrganizationAccountAccessRole';
/** The management account's own (fake) credentials: the bench's and the CLI's. */
export const CALLER = { accessKeyId: 'bench-management', secretAccessKey: 'bench' };
