/**
 * A finding as an EventBridge event (issue 22 item 4): the `source`, the documented `detail-type` per finding
 * kind and the `detail` users route on with one rule (to Slack through AWS Chatbot, Teams, a ticket, a central
 * account's bus). Pure mapping; the schema is docs/events.schema.json and the reference docs/EVENTS.md, held
 * equal to this by test/core/findings/finding-event.test.ts.
 */
import type { FindingKind, GuardFinding } from '../finding.ts';
import { findingId } from '../finding.ts';

/** The `source` of every event the guard puts (a custom source may not start with `aws.`). */
export const EVENT_SOURCE = 'logs-kms-guard';

/** The detail-type of each finding kind: what a rule's `detail-type` pattern names. */
export const DETAIL_TYPES: Readonly<Record<FindingKind, string>> = {
  'group-not-encryptable': 'Log Group Not Encryptable',
  'key-at-risk': 'Key At Risk',
  'key-policy-repaired': 'Key Policy Repaired',
  'group-fought-over': 'Log Group Fought Over',
  'guard-unhealthy': 'Guard Unhealthy',
};

/** The version of the detail's shape; bumped on an incompatible change (docs/EVENTS.md). */
export const DETAIL_VERSION = '1';

/** The `detail` of a finding event (docs/EVENTS.md, "detail"). */
export interface FindingEventDetail {
  detailVersion: string;
  findingId: string;
  kind: FindingKind;
  state: GuardFinding['state'];
  severity: GuardFinding['severity'];
  account: string;
  region: string;
  resource: GuardFinding['resource'];
  /** The log group's name, for a finding about a log group. */
  logGroup?: string;
  /** The key's ARN, for a finding about a KMS key. */
  keyArn?: string;
  title: string;
  description: string;
  fix?: string;
  observedAt: string;
  /** At most MAX_DEPENDENTS names (an event is at most 256 KB); `dependentCount` is the full count. */
  dependents?: readonly string[];
  dependentCount?: number;
  unreadableFrom?: string;
  tool?: string;
}

/** How many dependent group names an event carries (the finding in Security Hub and the log has them all). */
export const MAX_DEPENDENTS = 200;

/** One PutEvents entry, as the SDK takes it (PutEventsRequestEntry). */
export interface FindingEventEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Resources: string[];
  Time: Date;
  EventBusName?: string;
}

/** The detail of a finding's event: the finding, its id, and the group or key named at the top. */
export function findingEventDetail(finding: GuardFinding): FindingEventDetail {
  const { resource } = finding;
  return {
    detailVersion: DETAIL_VERSION,
    findingId: findingId(finding),
    kind: finding.kind,
    state: finding.state,
    severity: finding.severity,
    account: finding.account,
    region: finding.region,
    resource: { type: resource.type, arn: resource.arn, name: resource.name },
    ...(resource.type === 'log-group' ? { logGroup: resource.name } : {}),
    ...(resource.type === 'kms-key' ? { keyArn: resource.arn } : {}),
    title: finding.title,
    description: finding.description,
    ...(finding.fix !== undefined ? { fix: finding.fix } : {}),
    observedAt: finding.observedAt,
    ...(finding.dependents !== undefined
      ? {
          dependents: finding.dependents.slice(0, MAX_DEPENDENTS),
          dependentCount: finding.dependents.length,
        }
      : {}),
    ...(finding.unreadableFrom !== undefined ? { unreadableFrom: finding.unreadableFrom } : {}),
    ...(finding.tool !== undefined ? { tool: finding.tool } : {}),
  };
}

/** The PutEvents entry of a finding (on `eventBusName`, the account's default bus when omitted). */
export function findingEventEntry(finding: GuardFinding, eventBusName?: string): FindingEventEntry {
  const observed = Date.parse(finding.observedAt);
  return {
    Source: EVENT_SOURCE,
    DetailType: DETAIL_TYPES[finding.kind],
    Detail: JSON.stringify(findingEventDetail(finding)),
    Resources: [finding.resource.arn],
    Time: new Date(Number.isNaN(observed) ? Date.now() : observed),
    ...(eventBusName ? { EventBusName: eventBusName } : {}),
  };
}
