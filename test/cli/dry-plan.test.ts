/**
 * What a dry run shows and what the prompt says (functions/cli/dry-plan.ts), as plain functions: the planned
 * group of a report, its key by alias, the table, the "would create" line and the confirmation question.
 */
import { describe, expect, it } from 'vitest';
import {
  planKeyText,
  plannedGroup,
  planTable,
  promptText,
  wouldCreateLine,
} from '../../functions/cli/dry-plan.ts';
import type { GroupReport } from '../../functions/core/sweep/report.ts';

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718`;
const OTHER = `arn:aws:kms:us-east-1:${ACCOUNT}:key/99999999-5b6a-7988-a1b2-c3d4e5f60718`;

function report(overrides: Partial<GroupReport>): GroupReport {
  return {
    name: '/app/x',
    region: 'us-east-1',
    arn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/app/x`,
    keyState: 'no-key',
    inScope: true,
    action: 'would-encrypt',
    ...overrides,
  };
}

describe('plannedGroup', () => {
  it('plans the groups a dry run would change, with the key, and nothing else', () => {
    expect(plannedGroup(report({}), '', { arn: KEY, alias: 'alias/g' })).toMatchObject({
      account: ACCOUNT,
      logGroup: '/app/x',
      action: 'would-encrypt',
      keyArn: KEY,
      keyAlias: 'alias/g',
    });
    expect(plannedGroup(report({}), ACCOUNT, { alias: 'alias/g' })).toMatchObject({ keyArn: null });
    for (const action of ['none', 'failed', 'already-encrypted', 'group-gone'] as const)
      expect(plannedGroup(report({ action }), ACCOUNT, { arn: KEY })).toBeUndefined();
  });
});

describe('planKeyText and planTable', () => {
  it('names the key by alias and id, by ARN without an alias, and a key to be created as such', () => {
    expect(planKeyText({ keyArn: KEY, keyAlias: 'alias/g' })).toBe(
      'alias/g (key 1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718)',
    );
    expect(planKeyText({ keyArn: KEY })).toBe(KEY);
    expect(planKeyText({ keyArn: null, keyAlias: 'alias/g' })).toBe('alias/g (to be created)');
  });

  it('has one row per group: account, region, group, what it would do, with which key', () => {
    const rows = [
      plannedGroup(report({}), ACCOUNT, { arn: KEY, alias: 'alias/g' }),
      plannedGroup(report({ name: '/app/y', kmsKeyId: OTHER, keyState: 'other-key' }), ACCOUNT, {
        arn: KEY,
        alias: 'alias/g',
      }),
      plannedGroup(report({ name: '/app/z', action: 'would-disassociate' }), ACCOUNT, { arn: KEY }),
    ].filter((g) => g !== undefined);
    const lines = planTable(rows).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^ACCOUNT\s+REGION\s+LOG GROUP\s+WOULD\s+KEY$/);
    expect(lines[2]).toMatch(/^123456789012\s+us-east-1\s+\/app\/x\s+encrypt with\s+alias\/g \(key 1f2e/);
    expect(lines[3]).toContain(`re-encrypt (now ${OTHER}) with`);
    expect(lines[4]).toMatch(/\/app\/z\s+disassociate from\s+arn:aws:kms:/);
  });
});

describe('wouldCreateLine', () => {
  it('names the alias, the account and the region', () => {
    expect(wouldCreateLine({ account: ACCOUNT, region: 'eu-west-1', keyAlias: 'alias/g' })).toBe(
      `would create the guard key alias/g in ${ACCOUNT} eu-west-1`,
    );
  });
});

describe('promptText', () => {
  const what = 'associate the guard key alias/g with';

  it('one account-region: names the account, the region and the count, and asks last', () => {
    const q = promptText({
      what,
      counts: [{ account: ACCOUNT, region: 'us-east-1', groups: 12 }],
      uncounted: [],
      creates: [],
    });
    expect(q.split('\n')[0]).toBe(
      `This will associate the guard key alias/g with 12 log group(s) in account ${ACCOUNT}, region us-east-1.`,
    );
    expect(q.endsWith('Proceed? [y/N] ')).toBe(true);
  });

  it('many accounts: counts them and the regions, lists a short list, elides a long one', () => {
    const accounts = Array.from({ length: 7 }, (_, i) => String(i + 1).repeat(12));
    const counts = accounts.flatMap((account) =>
      ['us-east-1', 'eu-west-1'].map((region) => ({ account, region, groups: 3 })),
    );
    const q = promptText({ what, counts, uncounted: [], creates: [] });
    expect(q).toContain(
      `42 log group(s) in 14 account-regions: 7 accounts (${accounts.slice(0, 5).join(', ')}, …) × 2 regions (us-east-1, eu-west-1).`,
    );
    const few = promptText({ what, counts: counts.slice(0, 4), uncounted: [], creates: [] });
    expect(few).toContain(`2 accounts (${accounts[0]}, ${accounts[1]})`);
  });

  it('says which keys it would create and what could not be counted', () => {
    const q = promptText({
      what,
      counts: [
        { account: ACCOUNT, region: 'us-east-1', groups: 1 },
        { account: ACCOUNT, region: 'eu-west-1', groups: 0 },
      ],
      uncounted: ['555555555555: role refused'],
      creates: [{ account: ACCOUNT, region: 'us-east-1', keyAlias: 'alias/g' }],
    });
    expect(q).toContain(`in 2 account-regions: account ${ACCOUNT} × 2 regions (us-east-1, eu-west-1).`);
    expect(q).toContain('It would first create the guard key alias/g in that account-region.');
    expect(q).toContain('Not counted (the run tries them too):\n  555555555555: role refused');
  });

  it('a single-account run whose account is unknown says "this account"', () => {
    const q = promptText({
      what,
      counts: [{ account: '', region: 'us-east-1', groups: 2 }],
      uncounted: [],
      creates: [],
    });
    expect(q).toContain('2 log group(s) in this account, region us-east-1.');
  });
});
