/**
 * A finding document in the AWS Security Finding Format (ASFF), as BatchImportFindings takes it: the shape of
 * the Security Hub API's AwsSecurityFinding (validated in the tests against the model, test/fixtures/findings).
 * The finding is the account's own ("default" product ARN: a custom integration's findings, which the account
 * may import with BatchImportFindings and which aggregate in the administrator account like any other).
 * Pure: no SDK import, so the CLI's `audit --format asff` and the findings function share it.
 */
import type { Partition } from '../arn.ts';
import type { FindingSeverity } from '../finding.ts';
import type { ComplianceStatus, FindingDocument } from './document.ts';

/** The ASFF schema version Security Hub accepts (the only one). */
export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** Every guard finding is a configuration check against AWS security best practices (ASFF Types taxonomy). */
export const ASFF_TYPE = 'Software and Configuration Checks/AWS Security Best Practices';

/** The shape of one ASFF finding this module writes (a subset of the SDK's AwsSecurityFinding, same names). */
export interface AsffFinding {
  SchemaVersion: string;
  Id: string;
  ProductArn: string;
  ProductName: string;
  CompanyName: string;
  Region: string;
  GeneratorId: string;
  AwsAccountId: string;
  Types: string[];
  FirstObservedAt: string;
  LastObservedAt: string;
  CreatedAt: string;
  UpdatedAt: string;
  Severity: { Label: FindingSeverity; Original: string };
  FindingProviderFields: { Severity: { Label: FindingSeverity; Original: string }; Types: string[] };
  Title: string;
  Description: string;
  Remediation?: { Recommendation: { Text: string } };
  ProductFields: Record<string, string>;
  Resources: { Type: string; Id: string; Partition?: 'aws' | 'aws-cn' | 'aws-us-gov'; Region: string }[];
  Compliance: { Status: ComplianceStatus };
  Workflow: { Status: 'NEW' | 'RESOLVED' };
  RecordState: 'ACTIVE' | 'ARCHIVED';
}

/** The account's own product ARN: findings a custom integration imports from the account itself. */
export function defaultProductArn(partition: string, region: string, account: string): string {
  return `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`;
}

/** Resource.Partition where the model has the value (aws, aws-cn, aws-us-gov); other partitions leave it out. */
function asffPartition(p: Partition): { Partition?: 'aws' | 'aws-cn' | 'aws-us-gov' } {
  return p === 'aws' || p === 'aws-cn' || p === 'aws-us-gov' ? { Partition: p } : {};
}

/** Cuts a text to the model's length limit (an ellipsis marks the cut). */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The document as an ASFF finding; `now` is when it is imported (UpdatedAt). */
export function toAsff(doc: FindingDocument, now: string = doc.observedAt): AsffFinding {
  const severity = { Label: doc.severity, Original: doc.severity };
  const fields: Record<string, string> = { 'logs-kms-guard/kind': doc.kind };
  for (const [k, v] of Object.entries(doc.fields)) fields[clip(`logs-kms-guard/${k}`, 128)] = clip(v, 2048);
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: clip(doc.id, 512),
    ProductArn: defaultProductArn(doc.partition, doc.region, doc.account),
    ProductName: 'logs-kms-guard',
    CompanyName: 'logs-kms-guard',
    Region: doc.region,
    GeneratorId: doc.generatorId,
    AwsAccountId: doc.account,
    Types: [ASFF_TYPE],
    FirstObservedAt: doc.observedAt,
    LastObservedAt: doc.observedAt,
    // Security Hub keeps the CreatedAt of the first import of an Id; this one stands for a first import.
    CreatedAt: doc.observedAt,
    UpdatedAt: now,
    // Providers set severity and types through FindingProviderFields (BatchImportFindings API reference);
    // the top-level copies are what a first import shows.
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: [ASFF_TYPE] },
    Title: clip(doc.title, 256),
    Description: clip(doc.description, 1024),
    ...(doc.fix ? { Remediation: { Recommendation: { Text: clip(doc.fix, 512) } } } : {}),
    ProductFields: fields,
    Resources: [
      { Type: doc.resource.type, Id: doc.resource.arn, ...asffPartition(doc.partition), Region: doc.region },
    ],
    Compliance: { Status: doc.compliance },
    // Resolved: compliance PASSED and the record archived. BatchImportFindings never changes the Workflow of
    // a finding that exists (it is the customer's), so Workflow RESOLVED takes effect when the first import
    // is already resolved; an update resolves through RecordState and Compliance.
    Workflow: { Status: doc.resolved ? 'RESOLVED' : 'NEW' },
    RecordState: doc.resolved ? 'ARCHIVED' : 'ACTIVE',
  };
}
