/**
 * The finding of a log group the guard cannot encrypt (issue 22), from one handled event: a refusal that will not
 * go away by retrying (an unsafe key, a key policy that shuts CloudWatch Logs out, an association CloudWatch
 * Logs refuses, an AccessDenied: a Deny in an SCP or a permission boundary) is ACTIVE; a group encrypted on a
 * later delivery of the same work (the queue delivered it again after a failure) is RESOLVED. Transient
 * failures (throttling, the deadline) and AWS-reserved groups (`aws/…`, not encryptable by anyone) are not
 * findings. Pure: the handler writes the line (core/finding.ts reportFinding).
 */
import { logGroupArn, partitionOf } from './arn.ts';
import { AssociationError, KeyPolicyError, UnsafeKeyError } from './errors.ts';
import type { GuardFinding } from './finding.ts';

/** What the decision of one event says about the group. */
export interface GroupDecision {
  outcome: string;
  logGroupName: string;
  reason: string;
  error?: Error;
}

/** Refusals a retry does not cure: the group stays unencrypted until someone acts. */
export function isLastingRefusal(error: Error | undefined): boolean {
  if (!error) return false;
  if (error instanceof UnsafeKeyError || error instanceof KeyPolicyError || error instanceof AssociationError)
    return true;
  return /AccessDenied|NotAuthorized|UnauthorizedOperation/.test(error.name);
}

/** The group-not-encryptable finding of this decision, or undefined when there is none to report. */
export function groupFindingOf(
  d: GroupDecision,
  where: { account: string; region: string; attempt: number; now: string },
): GuardFinding | undefined {
  if (!d.logGroupName) return undefined;
  const failed = d.outcome === 'failed' && isLastingRefusal(d.error);
  const resolved = d.outcome === 'encrypted' && where.attempt > 1;
  if (!failed && !resolved) return undefined;
  const name = d.logGroupName;
  const base = {
    kind: 'group-not-encryptable' as const,
    account: where.account,
    region: where.region,
    resource: {
      type: 'log-group' as const,
      arn: logGroupArn(partitionOf(where.region), where.region, where.account, name),
      name,
    },
    observedAt: where.now,
  };
  if (resolved)
    return {
      ...base,
      state: 'RESOLVED',
      severity: 'INFORMATIONAL',
      title: `Log group ${name} is now encrypted by the guard`,
      description: `The guard encrypted ${name} on a later attempt; the earlier refusal is resolved.`,
    };
  return {
    ...base,
    state: 'ACTIVE',
    severity: 'HIGH',
    title: `The guard cannot encrypt log group ${name}`,
    description: `The guard could not associate its KMS key with ${name}: ${d.reason}. The group's new data is written unencrypted by a customer key until this is fixed.`,
    fix: `Fix the cause named above (key policy, an SCP or permission boundary Deny, the key state), then run: logs-kms-guard enforce --region ${where.region} --prefix ${name}`,
  };
}
