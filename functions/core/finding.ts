/**
 * A finding: something a security team must act on (or may now stop acting on), as the guard's functions see
 * it. The functions do not call Security Hub, AWS Config or EventBridge themselves (their SDK clients would
 * weigh on the enforce function's cold start): they write one structured log line per finding
 * (`reportFinding`), and the findings function, subscribed to their log groups, turns each line into an ASFF
 * finding, a Config evaluation and an EventBridge event. Pure data and one log call; no I/O of its own.
 */
import type { Log } from './log.ts';

/** The message of every finding line: the findings function's subscription filter matches on it. */
export const FINDING_MESSAGE = 'logs-kms-guard finding';

/** What went wrong (or came right); one finding per resource and kind, updated in place. */
export type FindingKind =
  /** A log group the guard cannot encrypt: an unsafe key, a Deny, a refusal (reserved `aws/` groups are not findings). */
  | 'group-not-encryptable'
  /** A key that log data depends on was disabled or scheduled for deletion. */
  | 'key-at-risk'
  /** The guard key's policy was narrowed (CloudWatch Logs shut out) and the guard repaired it. */
  | 'key-policy-repaired'
  /** A log group whose key an infrastructure-as-code tool keeps removing. */
  | 'group-fought-over'
  /** The guard itself: dead-letter queue not empty, sweep yielding or not completing. */
  | 'guard-unhealthy';

/** Whether the problem stands (ACTIVE) or was fixed (RESOLVED: the finding is closed, not deleted). */
export type FindingState = 'ACTIVE' | 'RESOLVED';

/** ASFF's normalized labels; the findings function maps them to Severity.Label / OCSF severity_id. */
export type FindingSeverity = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

/** The resource a finding is about: its ARN is the finding's identity together with the kind. */
export interface FindingResource {
  type: 'log-group' | 'kms-key' | 'guard';
  /** The log group ARN (without `:*`), the key ARN, or for `guard` the function or queue ARN. */
  arn: string;
  /** Human name: the log group name, the key alias or id, the function name. */
  name: string;
}

/** One finding, as written to the log and read back by the findings function. */
export interface GuardFinding {
  kind: FindingKind;
  state: FindingState;
  severity: FindingSeverity;
  account: string;
  region: string;
  resource: FindingResource;
  /** One line: what happened. */
  title: string;
  /** What happened, in a sentence or two, with the names a reader needs. */
  description: string;
  /** The exact fix a person can apply (a command, a snippet); omitted when nothing is to be done. */
  fix?: string;
  /** When the guard observed it (ISO 8601). */
  observedAt: string;
  /** key-at-risk: the log groups whose retained data needs the key. */
  dependents?: readonly string[];
  /** key-at-risk: when the dependents' data becomes unreadable (the deletion date), ISO 8601. */
  unreadableFrom?: string;
  /** group-fought-over: the tool recognised from CloudTrail (terraform, pulumi, cloudformation, cdk, aws-cli…). */
  tool?: string;
}

/** The identity of a finding: the same resource and kind always give the same id (updated in place). */
export function findingId(finding: Pick<GuardFinding, 'kind' | 'resource'>): string {
  return `logs-kms-guard/${finding.kind}/${finding.resource.arn}`;
}

/** Writes the finding's one structured line; the findings function picks it up from the log group. */
export function reportFinding(log: Log, finding: GuardFinding): void {
  const line = { findingId: findingId(finding), finding };
  if (finding.state === 'RESOLVED') log.info(FINDING_MESSAGE, line);
  else log.warn(FINDING_MESSAGE, line);
}
