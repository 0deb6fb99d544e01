#!/usr/bin/env node
// An optional service control policy for organizations (issue 21, item 2): denies, in every member account it
// is attached above, the deletion, disabling and untagging of the guard's keys (KMS keys tagged
// ManagedBy=logs-kms-guard, by aws:ResourceTag) and the removal of any log group's key
// (logs:DisassociateKmsKey), to every principal but the named break-glass roles (aws:PrincipalArn). It is the
// organization-level twin of the guard key's own policy (functions/core/key-protection.ts): that one guards one
// key and can be changed by its break-glass roles; this one cannot be changed from inside a member account.
// Trade-offs and the break-glass path: docs/DEPLOY.md#key-protection-and-break-glass. Tested with iam-simulate (test/deploy).
//
// Run: node infra/scp-protect-log-keys.mjs <break-glass role ARN>[,<ARN>…] [--allow-disassociate <role ARN>,…]
// prints the policy JSON for `aws organizations create-policy --type SERVICE_CONTROL_POLICY --content file://…`.

/** The guard tags its own keys ManagedBy=logs-kms-guard (functions/core/key.ts MANAGED_BY_TAG/VALUE). */
export const GUARD_KEY_TAG = { key: 'ManagedBy', value: 'logs-kms-guard' };
/** SCPs are at most 5,120 characters (AWS Organizations quotas, "Maximum size of a policy document"). */
export const SCP_MAX_CHARS = 5_120;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/[\w+=.@/*-]+$/;

/**
 * The SCP document. `breakGlassRoleArns`: the roles excepted from every Deny (ARN patterns allowed here, e.g.
 * `arn:aws:iam::*:role/LogKeysBreakGlass` for the same role in every account). `disassociateExceptRoleArns`:
 * more roles that may still remove a log group's key (an infrastructure pipeline whose plans remove keys, the
 * role running `logs-kms-guard rollback`).
 */
export function protectLogKeysScp({ breakGlassRoleArns, disassociateExceptRoleArns = [] }) {
  const roles = [...new Set(breakGlassRoleArns)].sort();
  if (roles.length === 0) throw new Error('at least one break-glass role ARN is needed');
  const bad = [...roles, ...disassociateExceptRoleArns].find((r) => !ROLE_ARN.test(r));
  if (bad !== undefined) throw new Error(`not an IAM role ARN (pattern): ${bad}`);
  const one = (list) => (list.length === 1 ? list[0] : list);
  const except = (list) => ({ ArnNotLike: { 'aws:PrincipalArn': one(list) } });
  const guardKey = { StringEquals: { [`aws:ResourceTag/${GUARD_KEY_TAG.key}`]: GUARD_KEY_TAG.value } };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyGuardKeyDeletionOrDisabling',
        Effect: 'Deny',
        Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'],
        Resource: '*',
        Condition: { ...guardKey, ...except(roles) },
      },
      {
        // Else an administrator removes or changes the tag first, and the Deny above no longer matches.
        Sid: 'DenyGuardKeyUntagging',
        Effect: 'Deny',
        Action: ['kms:UntagResource', 'kms:TagResource'],
        Resource: '*',
        Condition: {
          ...guardKey,
          'ForAnyValue:StringEquals': { 'aws:TagKeys': [GUARD_KEY_TAG.key] },
          ...except(roles),
        },
      },
      {
        Sid: 'DenyLogGroupKeyRemoval',
        Effect: 'Deny',
        Action: 'logs:DisassociateKmsKey',
        Resource: '*',
        Condition: except([...new Set([...roles, ...disassociateExceptRoleArns])].sort()),
      },
    ],
  };
}

/** The command line: role lists in, policy JSON out. */
function main(argv) {
  const [roles, flag, extra] = argv;
  if (!roles || (flag !== undefined && flag !== '--allow-disassociate')) {
    process.stderr.write(
      'usage: node infra/scp-protect-log-keys.mjs <break-glass role ARN>[,…] [--allow-disassociate <role ARN>[,…]]\n',
    );
    return 2;
  }
  const list = (text) =>
    (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const policy = protectLogKeysScp({
    breakGlassRoleArns: list(roles),
    disassociateExceptRoleArns: list(extra),
  });
  const text = JSON.stringify(policy);
  if (text.length > SCP_MAX_CHARS) {
    process.stderr.write(`the policy is ${text.length} characters; an SCP may have ${SCP_MAX_CHARS}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
