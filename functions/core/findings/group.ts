/**
 * One log group's encryption compliance as a finding document, for `audit --format asff|ocsf`: encrypted with
 * the guard key or another customer-managed key (PASSED), unencrypted in the guard's scope or on a key that is
 * unusable or at risk (FAILED), unencrypted but left out of scope on purpose (WARNING), or not encryptable at
 * all: an AWS-reserved group (NOT_AVAILABLE). Pure: takes the audit's row, returns the document.
 */
import { logGroupArn, partitionOf } from '../arn.ts';
import type { FindingSeverity } from '../finding.ts';
import { type ComplianceStatus, type FindingDocument, GENERATOR_PREFIX } from './document.ts';

/** The check every audit document reports on: one per log group. */
export const GROUP_CHECK = 'log-group-encryption';

/** What the audit knows of one group: the part of its report row (functions/cli/report.ts AuditRow) a finding needs. */
export interface GroupState {
  /** The account of the log group (from its ARN). */
  account: string;
  region: string;
  logGroup: string;
  /** guard-key, other-key, no-key, key-unusable, or reserved (an AWS-reserved group). */
  keyState: string;
  inScope: boolean;
  kmsKeyId: string;
  keyStatus: string;
  note: string;
  /** Why the group's data is at risk (`key-pending-deletion`, `key-disabled`, `key-policy-excludes-logs`), or ''. */
  atRisk: string;
  /** Key pending deletion: its DeletionDate (ISO 8601), from when the group's data is unreadable; or ''. */
  unreadableFrom: string;
}

interface Verdict {
  compliance: ComplianceStatus;
  severity: FindingSeverity;
  /** The compliance in a few words: encrypted with the guard key / other CMK / unencrypted / not encryptable. */
  state: string;
  title: string;
  fix?: string;
}

/** How a group stands, in the words both formats carry. */
function verdictOf(g: GroupState): Verdict {
  const name = g.logGroup;
  if (g.atRisk)
    return {
      compliance: 'FAILED',
      severity: g.atRisk === 'key-pending-deletion' ? 'HIGH' : 'MEDIUM',
      state: 'key-at-risk',
      title: `Log group ${name}: its KMS key is at risk (${g.atRisk})`,
      fix: `aws kms cancel-key-deletion / enable-key --key-id ${g.kmsKeyId}, or re-encrypt ${name} with a usable key (logs-kms-guard enforce)`,
    };
  if (g.keyState === 'key-unusable')
    return {
      compliance: 'FAILED',
      severity: 'MEDIUM',
      state: 'key-unusable',
      title: `Log group ${name} is on a KMS key that is not usable (${g.keyStatus || 'unknown'})`,
      fix: `logs-kms-guard enforce --region ${g.region} --prefix ${name}`,
    };
  if (g.keyState === 'guard-key')
    return {
      compliance: 'PASSED',
      severity: 'INFORMATIONAL',
      state: 'encrypted-guard-key',
      title: `Log group ${name} is encrypted with the guard key`,
    };
  if (g.keyState === 'other-key')
    return {
      compliance: 'PASSED',
      severity: 'INFORMATIONAL',
      state: 'encrypted-other-cmk',
      title: `Log group ${name} is encrypted with a customer-managed KMS key (not the guard's)`,
    };
  if (g.keyState === 'reserved')
    return {
      compliance: 'NOT_AVAILABLE',
      severity: 'INFORMATIONAL',
      state: 'not-encryptable',
      title: `Log group ${name} is reserved by AWS and cannot be encrypted with a customer key`,
    };
  if (!g.inScope)
    return {
      compliance: 'WARNING',
      severity: 'LOW',
      state: 'unencrypted-out-of-scope',
      title: `Log group ${name} is not encrypted with a KMS key (out of the guard's scope)`,
    };
  return {
    compliance: 'FAILED',
    severity: 'MEDIUM',
    state: 'unencrypted',
    title: `Log group ${name} is not encrypted with a KMS key`,
    fix: `logs-kms-guard enforce --region ${g.region} --prefix ${name}`,
  };
}

/** One log group's compliance as a finding document (id `logs-kms-guard/log-group-encryption/<group ARN>`). */
export function documentOfGroup(g: GroupState, observedAt: string): FindingDocument {
  const partition = partitionOf(g.region);
  const arn = logGroupArn(partition, g.region, g.account, g.logGroup);
  const v = verdictOf(g);
  const facts = [
    g.kmsKeyId ? `KMS key: ${g.kmsKeyId}${g.keyStatus ? ` (${g.keyStatus})` : ''}.` : 'No KMS key.',
    g.note ? `${g.note}.` : '',
    g.unreadableFrom ? `Unreadable from ${g.unreadableFrom}.` : '',
  ].filter(Boolean);
  const fields: Record<string, string> = { compliance: v.state, inScope: String(g.inScope) };
  if (g.kmsKeyId) fields.kmsKeyId = g.kmsKeyId;
  if (g.atRisk) fields.atRisk = g.atRisk;
  if (g.unreadableFrom) fields.unreadableFrom = g.unreadableFrom;
  return {
    id: `${GENERATOR_PREFIX}/${GROUP_CHECK}/${arn}`,
    generatorId: `${GENERATOR_PREFIX}/${GROUP_CHECK}`,
    kind: GROUP_CHECK,
    account: g.account,
    region: g.region,
    partition,
    resource: { type: 'AwsLogsLogGroup', arn, name: g.logGroup },
    title: v.title,
    description: `${v.title}. ${facts.join(' ')}`,
    ...(v.fix ? { fix: v.fix } : {}),
    severity: v.severity,
    compliance: v.compliance,
    resolved: false,
    observedAt,
    fields,
  };
}
