// Types of infra/scp-protect-log-keys.mjs (the optional SCP protecting the guard's keys), for its tests.

/** The tag the guard puts on its own keys. */
export const GUARD_KEY_TAG: { key: string; value: string };
/** An SCP's size limit in characters. */
export const SCP_MAX_CHARS: number;
/** The SCP document for these break-glass roles (and roles that may still remove a log group's key). */
export function protectLogKeysScp(options: {
  breakGlassRoleArns: string[];
  disassociateExceptRoleArns?: string[];
}): { Version: string; Statement: Record<string, unknown>[] };
