/**
 * A finding document as an OCSF Compliance Finding (class_uid 2003, category Findings), OCSF 1.3.0 with the
 * cloud profile: the event Prowler's json-ocsf output emits for a check on a resource. Validated in the tests
 * against requirement data derived from the published schema (test/fixtures/findings/ocsf-requirements.json).
 * Pure: shared by `audit --format ocsf` and anything that forwards findings as OCSF.
 */
import type { FindingSeverity } from '../finding.ts';
import type { ComplianceStatus, FindingDocument } from './document.ts';

/** The OCSF schema version of every event written here. */
export const OCSF_VERSION = '1.3.0';
/** Findings category (2), Compliance Finding class (3): class_uid = 2 * 1000 + 3. */
export const OCSF_CATEGORY_UID = 2;
export const OCSF_CLASS_UID = 2003;

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
const SEVERITY_ID: Record<FindingSeverity, number> = {
  INFORMATIONAL: 1,
  LOW: 2,
  MEDIUM: 3,
  HIGH: 4,
  CRITICAL: 5,
};
const SEVERITY_NAME: Record<FindingSeverity, string> = {
  INFORMATIONAL: 'Informational',
  LOW: 'Low',
  MEDIUM: 'Medium',
  HIGH: 'High',
  CRITICAL: 'Critical',
};
/** compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 99 Other (not applicable: a group no one can encrypt). */
const COMPLIANCE: Record<ComplianceStatus, [number, string]> = {
  PASSED: [1, 'Pass'],
  WARNING: [2, 'Warning'],
  FAILED: [3, 'Fail'],
  NOT_AVAILABLE: [99, 'Not Applicable'],
};

/** The guard's control, named in compliance.control and finding_info.types. */
export const OCSF_STANDARD =
  'logs-kms-guard: CloudWatch Logs log groups encrypted with a customer-managed KMS key';

/** The document as an OCSF Compliance Finding event (a plain JSON object). */
export function toOcsf(doc: FindingDocument, version: string): Record<string, unknown> {
  const time = Date.parse(doc.observedAt);
  // activity: 1 Create; 3 Close once resolved. status_id: 1 New, 4 Resolved.
  const activityId = doc.resolved ? 3 : 1;
  const [complianceId, complianceName] = COMPLIANCE[doc.compliance];
  return {
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'logs-kms-guard', vendor_name: 'logs-kms-guard', version },
      profiles: ['cloud'],
      event_code: doc.kind,
      tenant_uid: doc.account,
    },
    category_uid: OCSF_CATEGORY_UID,
    category_name: 'Findings',
    class_uid: OCSF_CLASS_UID,
    class_name: 'Compliance Finding',
    activity_id: activityId,
    activity_name: doc.resolved ? 'Close' : 'Create',
    type_uid: OCSF_CLASS_UID * 100 + activityId,
    type_name: `Compliance Finding: ${doc.resolved ? 'Close' : 'Create'}`,
    time,
    severity_id: SEVERITY_ID[doc.severity],
    severity: SEVERITY_NAME[doc.severity],
    status_id: doc.resolved ? 4 : 1,
    status: doc.resolved ? 'Resolved' : 'New',
    status_code: doc.compliance,
    status_detail: doc.title,
    message: doc.description,
    finding_info: {
      uid: doc.id,
      title: doc.title,
      desc: doc.description,
      types: [doc.kind],
      created_time: time,
    },
    compliance: {
      standards: [OCSF_STANDARD],
      control: doc.generatorId,
      status_id: complianceId,
      status: complianceName,
    },
    ...(doc.fix ? { remediation: { desc: doc.fix } } : {}),
    resources: [
      {
        uid: doc.resource.arn,
        name: doc.resource.name,
        type: doc.resource.type,
        region: doc.region,
        cloud_partition: doc.partition,
        data: { ...doc.fields },
      },
    ],
    cloud: {
      provider: 'AWS',
      region: doc.region,
      account: { uid: doc.account, type_id: 10, type: 'AWS Account' },
    },
    unmapped: { compliance: doc.compliance },
  };
}
