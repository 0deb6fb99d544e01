/**
 * The fight records' names (functions/core/fight-record.ts) and how `audit` reads them back
 * (functions/cli/fights.ts fightsText, foughtLines). Pure.
 */
import { describe, expect, it } from 'vitest';
import { fightsText, foughtLines } from '../../functions/cli/fights.ts';
import type { AuditRow } from '../../functions/cli/report.ts';
import { FIGHT_PREFIX, fightStreamName, parseFightStream } from '../../functions/core/fight-record.ts';
import { KEY_ARN } from '../helpers.ts';

const day = (iso: string) => Date.parse(iso);

describe('fight record streams', () => {
  it('name the tool and the group, and read back as such', () => {
    const name = fightStreamName('terraform', '/platform/audit');
    expect(name).toBe(`${FIGHT_PREFIX}terraform//platform/audit`);
    expect(
      parseFightStream({
        logStreamName: name,
        creationTime: day('2026-12-07T10:00:00Z'),
        lastEventTimestamp: day('2026-12-09T08:00:00Z'),
      }),
    ).toEqual({
      tool: 'terraform',
      logGroupName: '/platform/audit',
      since: '2026-12-07T10:00:00.000Z',
      last: '2026-12-09T08:00:00.000Z',
    });
  });

  it('a group name too long for a stream name keeps within 512 characters, distinct per group', () => {
    const a = fightStreamName('pulumi', `/${'a'.repeat(510)}`);
    const b = fightStreamName('pulumi', `/${'a'.repeat(509)}b`);
    expect(a.length).toBeLessThanOrEqual(512);
    expect(a).not.toBe(b);
  });

  it('other streams (the change claims, the lease) are not fight records', () => {
    for (const logStreamName of [
      'logs-kms-guard-change/abc',
      'sweep-lease/r/1',
      `${FIGHT_PREFIX}terraform`,
      FIGHT_PREFIX,
    ]) {
      expect(parseFightStream({ logStreamName, creationTime: 1 })).toBeUndefined();
    }
  });
});

describe('what audit prints of them', () => {
  const records = [
    {
      tool: 'terraform' as const,
      logGroupName: '/platform/audit',
      since: '2026-12-07T10:00:00.000Z',
      last: '2026-12-09T08:00:00.000Z',
    },
  ];
  it('one cell per group: tool, since, last', () => {
    expect(fightsText(records)).toBe('terraform since 2026-12-07 (last 2026-12-09)');
    expect(fightsText(undefined)).toBe('');
  });

  it('a headline, then each group with the fix for its tool and its key', () => {
    const row = {
      account: '123456789012',
      region: 'us-east-1',
      logGroup: '/platform/audit',
      kmsKeyId: KEY_ARN,
    } as AuditRow;
    const lines = foughtLines([{ row, records }]);
    expect(lines[0]).toMatch(/^1 log group\(s\) fought over by infrastructure as code/);
    expect(lines[1]).toContain(`/platform/audit: Terraform:`);
    expect(lines[1]).toContain(`kms_key_id = "${KEY_ARN}"`);
    expect(foughtLines([])).toEqual([]);
  });
});
