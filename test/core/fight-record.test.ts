/** The fight records' stream names (functions/core/fight-record.ts), made and read back. Pure. */
import { describe, expect, it } from 'vitest';
import { FIGHT_PREFIX, fightStreamName, parseFightStream } from '../../functions/core/fight-record.ts';

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
