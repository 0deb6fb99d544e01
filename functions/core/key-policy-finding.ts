/**
 * The finding of a guard key policy that was narrowed and repaired (issue 22): someone (or some tool) removed
 * CloudWatch Logs from the key's policy, the guard merged its statement back, and a security team should know
 * who did it and stop it happening again. Pure: drift.ts writes the line (core/finding.ts reportFinding).
 */
import type { GuardFinding } from './finding.ts';

/** The key-policy-repaired finding of the guard key `keyArn` in `where`. */
export function keyPolicyRepairedFinding(
  keyArn: string,
  keyName: string,
  where: { account: string; region: string; now: string },
): GuardFinding {
  return {
    kind: 'key-policy-repaired',
    state: 'ACTIVE',
    severity: 'MEDIUM',
    account: where.account,
    region: where.region,
    resource: { type: 'kms-key', arn: keyArn, name: keyName },
    title: `The guard key's policy was narrowed and repaired (${keyName})`,
    description: `The policy of ${keyArn} no longer let CloudWatch Logs use the key, which makes every log group on it unreadable and unwritable; the guard merged its statement back. Find who changed it (CloudTrail PutKeyPolicy on the key) and stop the change at its source.`,
    fix: `aws cloudtrail lookup-events --region ${where.region} --lookup-attributes AttributeKey=ResourceName,AttributeValue=${keyArn} --max-results 20`,
    observedAt: where.now,
  };
}
