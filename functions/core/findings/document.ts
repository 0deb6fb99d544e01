/**
 * The one shape both finding formats are rendered from: a finding of the guard's functions (GuardFinding) or
 * one log group's compliance as `audit` sees it, each turned into a FindingDocument here, then into ASFF
 * (asff.ts) or OCSF (ocsf.ts). Keeping the mapping of meaning (compliance, severity, resolution) in one place
 * means the two formats never disagree about a finding. Pure functions, no I/O.
 */
import { type Partition, parseArn, partitionOf } from '../arn.ts';
import { type FindingSeverity, findingId, type GuardFinding } from '../finding.ts';

/** ASFF's Compliance.Status values (the OCSF mapping follows them). */
export type ComplianceStatus = 'PASSED' | 'WARNING' | 'FAILED' | 'NOT_AVAILABLE';

/** The generator of the guard's findings: one per kind of check, as Security Hub groups them. */
export const GENERATOR_PREFIX = 'logs-kms-guard';

/** What a finding is about, in the terms both formats need. */
export interface DocumentResource {
  /** ASFF resource type: AwsLogsLogGroup, AwsKmsKey, AwsLambdaFunction, AwsSqsQueue or Other. */
  type: string;
  arn: string;
  name: string;
}

/** A finding ready to be rendered in either format. */
export interface FindingDocument {
  /** Deterministic: the same resource and check always give the same id (updated in place, never duplicated). */
  id: string;
  /** The check: `logs-kms-guard/<kind>`. */
  generatorId: string;
  /** The kind of check, for ProductFields and OCSF's finding_info.types. */
  kind: string;
  account: string;
  region: string;
  partition: Partition;
  resource: DocumentResource;
  title: string;
  description: string;
  fix?: string;
  severity: FindingSeverity;
  compliance: ComplianceStatus;
  /** RESOLVED: the problem was fixed (ASFF: Workflow RESOLVED, RecordState ARCHIVED; OCSF: status Resolved). */
  resolved: boolean;
  observedAt: string;
  /** Extra facts (key-at-risk dependents, the IaC tool...) as flat strings: ASFF ProductFields, OCSF unmapped. */
  fields: Record<string, string>;
}

/** The ASFF resource type of a resource ARN (the service's Security Hub type where there is one, else Other). */
export function resourceTypeOf(arn: string): string {
  const parsed = parseArn(arn);
  if (!parsed) return 'Other';
  if (parsed.service === 'logs' && parsed.resource.startsWith('log-group:')) return 'AwsLogsLogGroup';
  if (parsed.service === 'kms' && parsed.resource.startsWith('key/')) return 'AwsKmsKey';
  if (parsed.service === 'lambda' && parsed.resource.startsWith('function:')) return 'AwsLambdaFunction';
  if (parsed.service === 'sqs') return 'AwsSqsQueue';
  return 'Other';
}

/** A finding of the guard's functions as a document: ACTIVE fails its check, RESOLVED passes it. */
export function documentOfFinding(finding: GuardFinding): FindingDocument {
  const resolved = finding.state === 'RESOLVED';
  const fields: Record<string, string> = {};
  if (finding.dependents?.length) fields.dependents = finding.dependents.join(', ');
  if (finding.unreadableFrom) fields.unreadableFrom = finding.unreadableFrom;
  if (finding.tool) fields.tool = finding.tool;
  return {
    id: findingId(finding),
    generatorId: `${GENERATOR_PREFIX}/${finding.kind}`,
    kind: finding.kind,
    account: finding.account,
    region: finding.region,
    partition: partitionOf(finding.region),
    resource: {
      type: resourceTypeOf(finding.resource.arn),
      arn: finding.resource.arn,
      name: finding.resource.name,
    },
    title: finding.title,
    description: finding.description,
    ...(finding.fix ? { fix: finding.fix } : {}),
    // A resolved finding is informational: nothing is left to do.
    severity: resolved ? 'INFORMATIONAL' : finding.severity,
    compliance: resolved ? 'PASSED' : 'FAILED',
    resolved,
    observedAt: finding.observedAt,
    fields,
  };
}
