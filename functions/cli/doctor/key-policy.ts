/**
 * The key policy checks. CloudWatch Logs may use the key only if its policy lets it; Insights query results are
 * encrypted with it only if the deployment wrote their statement; and the enforce function's role may use and
 * repair the key only as far as the policy says (CloudWatch Logs calls KMS with the caller's credentials when
 * it associates a key, and the guard's authority over its own key is that key's policy).
 */
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { partitionOf } from '../../core/arn.ts';
import {
  admitsLogs,
  GUARD_ADMIN_ACTIONS,
  hasQueryResultsStatement,
  missingCallerAccess,
  namesRoleFor,
  type PolicyContext,
  type PolicyDocument,
  parsePolicy,
  VIA_LOGS_ACTIONS,
} from '../../core/policy.ts';
import { type CheckInput, type CheckResult, couldNot, type Finding, finding } from './check.ts';

/** `key policy`: the policy admits CloudWatch Logs of this region for the account's log groups (learns `keyPolicy`). */
export async function checkKeyPolicy({
  clients,
  region,
  account,
  key,
}: Pick<CheckInput, 'clients' | 'region' | 'account' | 'key'>): Promise<CheckResult> {
  if (!key) return { findings: [] };
  let keyPolicy: PolicyDocument | undefined;
  try {
    const policy = await clients.kms.send(new GetKeyPolicyCommand({ KeyId: key.Arn, PolicyName: 'default' }));
    keyPolicy = parsePolicy(policy.Policy ?? '');
    const admits =
      account !== undefined && admitsLogs(keyPolicy, { partition: partitionOf(region), region, account });
    const found = admits
      ? finding('key policy', 'ok', `admits logs.${region} for this account's log groups`)
      : finding(
          'key policy',
          'fail',
          `does not let CloudWatch Logs in ${region} use the key: associations fail`,
          `logs-kms-guard key setup --region ${region}`,
        );
    return { findings: [found], learned: { keyPolicy } };
  } catch (err) {
    return { findings: [couldNot('key policy', err)], ...(keyPolicy ? { learned: { keyPolicy } } : {}) };
  }
}

/**
 * `query results`: AWS has no call to read the Insights query results' key association back; the key policy
 * tells whether the deployment set it up (EncryptQueryResults=true writes that statement and associates them).
 */
export function checkQueryResults({ keyPolicy }: Pick<CheckInput, 'keyPolicy'>): CheckResult {
  if (!keyPolicy) return { findings: [] };
  if (hasQueryResultsStatement(keyPolicy))
    return {
      findings: [
        finding(
          'query results',
          'ok',
          'the key admits CloudWatch Logs for Insights query results: the deployment associated them (AWS offers no call to read it back; see the stack output reason)',
        ),
      ],
    };
  return {
    findings: [
      finding(
        'query results',
        'info',
        'Insights query results are not encrypted with this key (optional; not a problem)',
        'deploy with EncryptQueryResults=true (optional)',
      ),
    ],
  };
}

/**
 * `function role`: the enforce function's role (--function-role, else the function's configuration) may use the
 * key through CloudWatch Logs; for the guard's own key, the policy must also name the role to let it repair it.
 */
export async function checkFunctionRole(
  input: Pick<
    CheckInput,
    'clients' | 'config' | 'region' | 'account' | 'key' | 'keyPolicy' | 'enforceFunction'
  >,
): Promise<CheckResult> {
  const { clients, config, region, account, key, keyPolicy, enforceFunction } = input;
  if (!key?.Arn || !keyPolicy || !account) return { findings: [] };
  try {
    let role = config.guardRoleArn;
    if (!role && enforceFunction) {
      const fnConfig = await clients
        .lambda()
        .send(new GetFunctionConfigurationCommand({ FunctionName: enforceFunction }));
      role = fnConfig.Role;
    }
    if (!role)
      return {
        findings: [
          finding(
            'function role',
            'warn',
            'could not check: the enforce function role is unknown (pass --function-role ARN)',
          ),
        ],
      };
    const policyContext = { partition: partitionOf(region), region, account };
    return {
      findings: [
        config.keyArn
          ? configuredKeyRole(keyPolicy, policyContext, role, key.Arn)
          : guardKeyRole(keyPolicy, role, region),
      ],
    };
  } catch (err) {
    return { findings: [couldNot('function role', err)] };
  }
}

/** A configured key: its policy must let the role use it, by naming the role or by delegating to IAM. */
function configuredKeyRole(
  keyPolicy: PolicyDocument,
  policyContext: PolicyContext,
  role: string,
  keyArn: string,
): Finding {
  const missing = missingCallerAccess(keyPolicy, policyContext, role);
  if (missing.length === 0)
    return finding('function role', 'ok', `${role} may use ${keyArn} through CloudWatch Logs`);
  return finding(
    'function role',
    'fail',
    `the key policy lets ${role} use ${missing.join(', ')} neither itself nor through IAM: every AssociateKmsKey fails`,
    'add the account-root statement to the key policy, or a statement naming the role (docs/DEPLOY.md)',
  );
}

/** The guard's own key: its policy must name the role for the actions that use and repair it. */
function guardKeyRole(keyPolicy: PolicyDocument, role: string, region: string): Finding {
  if (namesRoleFor(keyPolicy, role, [...GUARD_ADMIN_ACTIONS, ...VIA_LOGS_ACTIONS]))
    return finding('function role', 'ok', `the guard key's policy names ${role}`);
  return finding(
    'function role',
    'fail',
    `the guard key's policy does not name ${role}: the function can neither use nor repair the key`,
    `logs-kms-guard key setup --region ${region} --function-role ${role}`,
  );
}
