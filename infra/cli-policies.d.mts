// Types of infra/cli-policies.mjs, so that functions/cli/session-policy.ts is checked against the plain-JavaScript
// module infra/stackset.mjs runs as is.
import type { Statement } from '../functions/cli/session-policy.ts';

/** What every command reads: the groups, their tags, the keys they use and their policies, the caller. */
export const READ: Statement;
/** doctor's checks beyond READ. */
export const DOCTOR_READ: Statement;
/** enforce's writes: associate, the KMS calls CloudWatch Logs makes with the caller's credentials, the guard key. */
export const ENFORCE_WRITE: Statement[];
/** rollback's writes: remove the key, after tagging the group with the opt-out tag (and that tag only). */
export const ROLLBACK_WRITE: Statement[];
