/**
 * The sweep's per-group classification and counting (functions/core/sweep/report.ts): key state, scope, what
 * to act on in each mode, the audit's at-risk findings, and the totals.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/core/config.ts';
import {
  addCounts,
  type ClassifyContext,
  classifyGroup,
  countAudited,
  countReport,
  countReports,
  countRisk,
  doneCountsOf,
  emptyAuditTally,
  emptyCounts,
  emptyRiskCounts,
  type GroupReport,
  keyStateOf,
} from '../../../functions/core/sweep/report.ts';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718`;
const OTHER = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-5b6a-7988-a1b2-c3d4e5f60718`;
const config = loadConfig({ EXCLUDE_LOG_GROUPS: '/skip/' });
const context: ClassifyContext = {
  mode: 'enforce',
  config,
  region: REGION,
  account: ACCOUNT,
  guardKeyArn: KEY,
};

function report(overrides: Partial<GroupReport>): GroupReport {
  return {
    name: '/app/x',
    region: REGION,
    arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/app/x`,
    keyState: 'no-key',
    inScope: true,
    action: 'none',
    ...overrides,
  };
}

describe('counts', () => {
  it('adds counts key by key into a copy', () => {
    const a = { ...emptyCounts(), listed: 2, failed: 1 };
    const b = { ...emptyCounts(), listed: 3, encrypted: 4 };
    const sum = addCounts(a, b);
    expect(sum).toEqual({ ...emptyCounts(), listed: 5, failed: 1, encrypted: 4 });
    expect(a.listed).toBe(2);
  });

  it('keeps only what was done of a page left half-way', () => {
    const page = { ...emptyCounts(), pages: 1, listed: 9, noKey: 5, candidates: 3, encrypted: 2, failed: 1 };
    expect(doneCountsOf(page)).toEqual({ ...emptyCounts(), encrypted: 2, failed: 1 });
  });
});

describe('keyStateOf', () => {
  it('tells no key, the guard key (by ARN or id) and another key apart', () => {
    expect(keyStateOf(undefined, KEY)).toBe('no-key');
    expect(keyStateOf(KEY, KEY)).toBe('guard-key');
    expect(keyStateOf('1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718', KEY)).toBe('guard-key');
    expect(keyStateOf(OTHER, KEY)).toBe('other-key');
    expect(keyStateOf(OTHER, undefined)).toBe('other-key');
  });
});

describe('classifyGroup', () => {
  it('acts on an unencrypted group in scope and counts it by its key state', () => {
    const c = classifyGroup({ logGroupName: '/app/x', creationTime: 5, storedBytes: 7 }, context);
    expect(c.act).toBe(true);
    expect(c.counts).toEqual(['listed', 'noKey']);
    expect(c.report).toEqual({
      name: '/app/x',
      region: REGION,
      arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/app/x`,
      keyState: 'no-key',
      inScope: true,
      action: 'none',
      createdAt: 5,
      storedBytes: 7,
    });
  });

  it('leaves the guard key and, without ALLOW_KEY_OVERRIDE, another key alone', () => {
    expect(classifyGroup({ logGroupName: '/app/g', kmsKeyId: KEY }, context)).toMatchObject({
      act: false,
      counts: ['listed', 'guardKey'],
    });
    expect(classifyGroup({ logGroupName: '/app/o', kmsKeyId: OTHER }, context)).toMatchObject({
      act: false,
      counts: ['listed', 'otherKey'],
    });
    const override = { ...context, config: { ...config, allowKeyOverride: true } };
    expect(classifyGroup({ logGroupName: '/app/o', kmsKeyId: OTHER }, override).act).toBe(true);
  });

  it('counts a group out of scope by name, or reserved for AWS, and never acts on it', () => {
    const excluded = classifyGroup({ logGroupName: '/skip/me' }, context);
    expect(excluded.act).toBe(false);
    expect(excluded.counts).toEqual(['listed', 'noKey', 'outOfScope']);
    expect(excluded.report).toMatchObject({ inScope: false, scopeReason: expect.stringContaining('/skip/') });
    expect(excluded.report.reserved).toBeUndefined();
    const reserved = classifyGroup({ logGroupName: 'aws/spans' }, context);
    expect(reserved.act).toBe(false);
    expect(reserved.counts).toEqual(['listed', 'noKey', 'reserved']);
    expect(reserved.report).toMatchObject({ inScope: false, reserved: true });
  });

  it('in a rollback, acts on the guard key wherever it is and counts no scope', () => {
    const rollback = { ...context, mode: 'rollback' as const };
    expect(classifyGroup({ logGroupName: '/skip/me', kmsKeyId: KEY }, rollback)).toMatchObject({
      act: true,
      counts: ['listed', 'guardKey'],
    });
    expect(classifyGroup({ logGroupName: '/app/x' }, rollback)).toMatchObject({
      act: false,
      counts: ['listed', 'noKey'],
    });
  });

  it('in a rollback, acts on the guard key even when the key check finds it unusable (counted as audit counts it)', () => {
    const disabled = classifyGroup(
      { logGroupName: '/app/x', kmsKeyId: KEY },
      {
        ...context,
        mode: 'rollback',
        risk: { facts: { status: 'Disabled', state: 'Disabled' }, atRisk: 'key-disabled' },
      },
    );
    expect(disabled).toMatchObject({ act: true, counts: ['listed', 'keyUnusable', 'atRisk'] });
  });

  it('takes the audit finding: an unusable key, the policy verdict, at risk and since when', () => {
    const pending = classifyGroup(
      { logGroupName: '/app/p', kmsKeyId: OTHER },
      {
        ...context,
        mode: 'audit',
        risk: {
          facts: {
            status: 'PendingDeletion',
            state: 'PendingDeletion',
            deletionDate: '2030-01-01T00:00:00.000Z',
          },
          atRisk: 'key-pending-deletion',
        },
      },
    );
    expect(pending.counts).toEqual(['listed', 'keyUnusable', 'atRisk']);
    expect(pending.report).toMatchObject({
      keyState: 'key-unusable',
      keyStatus: 'PendingDeletion',
      atRisk: 'key-pending-deletion',
      unreadableFrom: '2030-01-01T00:00:00.000Z',
    });
    const excluded = classifyGroup(
      { logGroupName: '/app/e', kmsKeyId: OTHER },
      {
        ...context,
        mode: 'audit',
        risk: {
          facts: { status: 'Enabled', state: 'Enabled' },
          keyPolicy: 'excludes-logs',
          atRisk: 'key-policy-excludes-logs',
        },
      },
    );
    expect(excluded.counts).toEqual(['listed', 'otherKey', 'atRisk']);
    expect(excluded.report).toMatchObject({ keyState: 'other-key', keyPolicy: 'excludes-logs' });
    expect(excluded.report.unreadableFrom).toBeUndefined();
    const unknown = classifyGroup(
      { logGroupName: '/app/u', kmsKeyId: OTHER },
      { ...context, mode: 'audit', risk: { facts: { status: 'unknown', state: 'unknown' } } },
    );
    expect(unknown.report).toMatchObject({ keyState: 'other-key', keyStatus: 'unknown' });
  });

  it('builds the ARN from the region and account when the listing gives none', () => {
    expect(
      classifyGroup({ logGroupName: '/app/x', arn: 'arn:aws:logs:r:1:log-group:/app/x:*' }, context).report
        .arn,
    ).toBe('arn:aws:logs:r:1:log-group:/app/x');
  });
});

describe('countReport', () => {
  it('counts a finished report: listed, key state, scope when left alone, what was done', () => {
    let c = emptyCounts();
    c = countReport(c, report({ action: 'encrypted' }));
    c = countReport(c, report({ keyState: 'guard-key' }));
    c = countReport(c, report({ inScope: false, scopeReason: 'tagged' }));
    c = countReport(c, report({ inScope: false, reserved: true }));
    c = countReport(c, report({ action: 'failed' }));
    c = countReport(c, report({ action: 'skipped-duplicate' }));
    c = countReport(c, report({ keyState: 'other-key', atRisk: 'key-disabled' }));
    expect(c).toEqual({
      ...emptyCounts(),
      listed: 7,
      noKey: 5,
      guardKey: 1,
      otherKey: 1,
      outOfScope: 1,
      reserved: 1,
      encrypted: 1,
      failed: 1,
      skippedDuplicate: 1,
      atRisk: 1,
      candidates: 2,
    });
  });

  it('counts what the run set out to change as candidates, in every mode', () => {
    const actions = ['would-encrypt', 'queued', 'disassociated', 'would-disassociate', 'group-gone'] as const;
    const c = countReports(actions.map((action) => report({ action })));
    expect(c).toMatchObject({
      listed: 5,
      candidates: 5,
      wouldEncrypt: 1,
      queued: 1,
      disassociated: 1,
      wouldDisassociate: 1,
      gone: 1,
    });
    expect(countReport(emptyCounts(), report({ action: 'already-encrypted' })).candidates).toBe(0);
  });

  it("counts an audit's candidate (left alone, action none) as a candidate; a group merely unencrypted is not", () => {
    const c = countReports([
      report({ candidate: true }),
      report({}),
      report({ candidate: true, action: 'encrypted' }),
    ]);
    expect(c).toMatchObject({ listed: 3, noKey: 3, candidates: 2, encrypted: 1 });
  });

  it('returns new counts and leaves the given ones alone', () => {
    const before = emptyCounts();
    const after = countReport(before, report({ action: 'encrypted' }));
    expect(before).toEqual(emptyCounts());
    expect(after.encrypted).toBe(1);
  });
});

describe('countRisk', () => {
  it('counts every report at risk by reason and keeps the earliest unreadable date', () => {
    let t = emptyRiskCounts();
    t = countRisk(t, { atRisk: 'key-pending-deletion', unreadableFrom: '2030-02-01T00:00:00.000Z' });
    t = countRisk(t, { atRisk: 'key-pending-deletion', unreadableFrom: '2030-01-01T00:00:00.000Z' });
    t = countRisk(t, { atRisk: 'key-disabled' });
    t = countRisk(t, {});
    t = countRisk(t, { atRisk: 'key-policy-excludes-logs' });
    expect(t).toEqual({
      'key-pending-deletion': 2,
      'key-disabled': 1,
      'key-policy-excludes-logs': 1,
      earliest: '2030-01-01T00:00:00.000Z',
    });
  });
});

describe('countAudited', () => {
  it('counts every audited report, its unreadable key policy and its risk, into a copy', () => {
    const before = emptyAuditTally();
    let t = countAudited(before, { keyPolicy: 'unknown' });
    t = countAudited(t, { keyPolicy: 'admits-logs' });
    t = countAudited(t, { atRisk: 'key-pending-deletion', unreadableFrom: '2030-01-01T00:00:00.000Z' });
    t = countAudited(t, { keyPolicy: 'excludes-logs', atRisk: 'key-policy-excludes-logs' });
    t = countAudited(t, {});
    expect(t).toEqual({
      listed: 5,
      unchecked: 1,
      risks: {
        'key-pending-deletion': 1,
        'key-disabled': 0,
        'key-policy-excludes-logs': 1,
        earliest: '2030-01-01T00:00:00.000Z',
      },
    });
    expect(before).toEqual(emptyAuditTally());
  });
});
