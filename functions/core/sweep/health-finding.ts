/**
 * The guard-unhealthy finding of the sweep (issue 22): a run that yields because another run holds the lease is
 * ACTIVE (the daily evaluation is not happening; the SweepYielded and SweepNotCompleted alarms watch the same),
 * a run that completes RESOLVES it. One finding per sweep function. Pure: run.ts writes the line.
 */
import type { GuardFinding } from '../finding.ts';

/** The sweep's health finding: `yielded` to a run id that holds the lease, or completed (RESOLVED). */
export function sweepHealthFinding(
  where: { account: string; region: string; functionArn: string; now: string },
  yieldedTo?: string,
): GuardFinding {
  const name = where.functionArn.split(':').pop() ?? where.functionArn;
  const base = {
    kind: 'guard-unhealthy' as const,
    account: where.account,
    region: where.region,
    resource: { type: 'guard' as const, arn: where.functionArn, name },
    observedAt: where.now,
  };
  if (yieldedTo === undefined)
    return {
      ...base,
      state: 'RESOLVED',
      severity: 'INFORMATIONAL',
      title: `The sweep (${name}) completed a run`,
      description: `A sweep run of ${name} completed: existing log groups are being checked again.`,
    };
  return {
    ...base,
    state: 'ACTIVE',
    severity: 'MEDIUM',
    title: `The sweep (${name}) is not running: it yields to another run`,
    description: `A sweep run of ${name} found the lease taken by run ${yieldedTo} and stopped; while this lasts, log groups that events missed are not encrypted. A run that never ends, or someone creating sweep-lease/ log streams in the function's log group, keeps it yielding.`,
    fix: `logs-kms-guard doctor --region ${where.region}; check who creates log streams sweep-lease/* in /aws/lambda/${name} (CloudTrail CreateLogStream)`,
  };
}
