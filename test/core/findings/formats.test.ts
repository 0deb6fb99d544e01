/**
 * The ASFF and OCSF documents of every finding kind and state and of every audit compliance validate against
 * the published formats (test/fixtures/findings: the Security Hub API model, the OCSF 1.3.0 schema), and carry
 * the meaning they should: deterministic ids, RESOLVED as resolved, compliance and severity mapped alike.
 */
import { describe, expect, it } from 'vitest';
import { findingId } from '../../../functions/core/finding.ts';
import { toAsff } from '../../../functions/core/findings/asff.ts';
import { documentOfFinding } from '../../../functions/core/findings/document.ts';
import { documentOfGroup } from '../../../functions/core/findings/group.ts';
import { OCSF_CLASS_UID, toOcsf } from '../../../functions/core/findings/ocsf.ts';
import { validateAsff, validateOcsf } from './format-validators.ts';
import { GROUP_STATES, KINDS, sampleFinding } from './samples.ts';

const NOW = '2026-12-07T10:05:00.000Z';

describe('ASFF documents', () => {
  for (const kind of KINDS)
    for (const state of ['ACTIVE', 'RESOLVED'] as const)
      it(`${kind} ${state} is a valid AwsSecurityFinding`, () => {
        expect(validateAsff(toAsff(documentOfFinding(sampleFinding(kind, state)), NOW))).toEqual([]);
      });

  it('has the deterministic id, the default product ARN and the resource types', () => {
    const f = sampleFinding('key-at-risk');
    const asff = toAsff(documentOfFinding(f), NOW);
    expect(asff.Id).toBe(findingId(f));
    expect(asff.ProductArn).toBe('arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default');
    expect(asff.Resources[0]?.Type).toBe('AwsKmsKey');
    expect(asff.ProductFields['logs-kms-guard/dependents']).toBe('/app/one, /app/two');
    expect(toAsff(documentOfFinding(sampleFinding('group-fought-over'))).Resources[0]?.Type).toBe(
      'AwsLogsLogGroup',
    );
    expect(toAsff(documentOfFinding(sampleFinding('guard-unhealthy'))).Resources[0]?.Type).toBe(
      'AwsLambdaFunction',
    );
  });

  it('ACTIVE fails the check and is open; RESOLVED passes it, resolved and archived', () => {
    const active = toAsff(documentOfFinding(sampleFinding('group-not-encryptable')), NOW);
    expect(active).toMatchObject({
      Compliance: { Status: 'FAILED' },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
    });
    expect(active.Remediation?.Recommendation.Text).toContain('associate-kms-key');
    const resolved = toAsff(documentOfFinding(sampleFinding('group-not-encryptable', 'RESOLVED')), NOW);
    expect(resolved).toMatchObject({
      Compliance: { Status: 'PASSED' },
      Workflow: { Status: 'RESOLVED' },
      RecordState: 'ARCHIVED',
    });
    expect(resolved.Id).toBe(active.Id);
  });

  it('cuts texts to the model limits instead of emitting what Security Hub rejects', () => {
    const long = {
      ...sampleFinding('group-not-encryptable'),
      title: 't'.repeat(400),
      description: 'd'.repeat(3000),
      fix: 'f'.repeat(900),
    };
    expect(validateAsff(toAsff(documentOfFinding(long), NOW))).toEqual([]);
  });

  it('the validator catches what the model forbids', () => {
    const asff = toAsff(documentOfFinding(sampleFinding('key-at-risk')), NOW) as unknown as Record<
      string,
      unknown
    >;
    expect(validateAsff({ ...asff, Title: undefined })).toContain('$.Title: required member missing');
    expect(validateAsff({ ...asff, Severity: { Label: 'SEVERE' } }).join()).toMatch(
      /Severity.Label.*not one of/,
    );
    expect(validateAsff({ ...asff, RecordState: 'OPEN' }).join()).toMatch(/RecordState/);
    expect(validateAsff({ ...asff, Types: ['Made Up/Thing'] }).join()).toMatch(/namespace/);
    expect(validateAsff({ ...asff, Extra: 1 })).toContain('$.Extra: not a member of the model');
    expect(validateAsff({ ...asff, CreatedAt: 'yesterday' }).join()).toMatch(/RFC 3339/);
  });
});

describe('OCSF documents', () => {
  for (const kind of KINDS)
    for (const state of ['ACTIVE', 'RESOLVED'] as const)
      it(`${kind} ${state} is a valid Compliance Finding`, () => {
        expect(validateOcsf(toOcsf(documentOfFinding(sampleFinding(kind, state)), '1.2.3'))).toEqual([]);
      });

  it('maps state, severity and compliance as ASFF does', () => {
    const active = toOcsf(documentOfFinding(sampleFinding('key-at-risk')), '1.2.3');
    expect(active).toMatchObject({
      class_uid: OCSF_CLASS_UID,
      type_uid: 200301,
      severity_id: 4,
      status_id: 1,
    });
    expect(active.compliance).toMatchObject({ status_id: 3, status: 'Fail' });
    const resolved = toOcsf(documentOfFinding(sampleFinding('key-at-risk', 'RESOLVED')), '1.2.3');
    expect(resolved).toMatchObject({ activity_id: 3, type_uid: 200303, status_id: 4, severity_id: 1 });
    expect(resolved.compliance).toMatchObject({ status_id: 1, status: 'Pass' });
  });

  it('the validator catches what the class forbids', () => {
    const event = toOcsf(documentOfFinding(sampleFinding('key-at-risk')), '1.2.3');
    expect(validateOcsf({ ...event, severity_id: 7 }).join()).toMatch(/severity_id/);
    expect(validateOcsf({ ...event, finding_info: { title: 'x' } })).toContain(
      '$.finding_info.uid: required attribute missing',
    );
    expect(validateOcsf({ ...event, class_uid: 2004 }).join()).toMatch(/class_uid/);
    expect(validateOcsf({ ...event, surprise: true })).toContain(
      '$.surprise: not an attribute of this class/object',
    );
  });
});

describe('per-group audit documents', () => {
  for (const [group, status] of GROUP_STATES)
    it(`${group.logGroup} (${group.keyState}${group.atRisk ? `, ${group.atRisk}` : ''}) is ${status} in both formats`, () => {
      const doc = documentOfGroup(group, NOW);
      const asff = toAsff(doc, NOW);
      expect(validateAsff(asff)).toEqual([]);
      expect(asff.Compliance.Status).toBe(status);
      expect(asff.Id).toBe(
        `logs-kms-guard/log-group-encryption/arn:aws:logs:eu-west-1:111122223333:log-group:${group.logGroup}`,
      );
      const ocsf = toOcsf(doc, '1.2.3');
      expect(validateOcsf(ocsf)).toEqual([]);
      expect((ocsf.compliance as { status_id: number }).status_id).toBe(
        { PASSED: 1, WARNING: 2, FAILED: 3, NOT_AVAILABLE: 99 }[status],
      );
    });
});
