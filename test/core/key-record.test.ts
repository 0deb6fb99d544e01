/**
 * The key-dependency record's pure logic (functions/core/key-record.ts): parse, plan (merge, expire, bound),
 * and whether a group's data depends on a key. No mocks: plain data in, plain data out.
 */
import { describe, expect, it } from 'vitest';
import {
  dependsOn,
  isLive,
  keyIdOf,
  MAX_RECORDS,
  neededUntil,
  OWNER_KEY_TAG,
  PREV_KEY_TAG_PREFIX,
  parseRecords,
  planRecord,
  recordTag,
} from '../../functions/core/key-record.ts';

const A = '11111111-1111-1111-1111-111111111111';
const B = '22222222-2222-2222-2222-222222222222';
const arn = (id: string) => `arn:aws:kms:us-east-1:123456789012:key/${id}`;
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('keyIdOf', () => {
  it('takes the id from a key ARN, a bare id or a multi-Region id; refuses aliases', () => {
    expect(keyIdOf(arn(A))).toBe(A);
    expect(keyIdOf(A)).toBe(A);
    expect(keyIdOf('mrk-1234abcd')).toBe('mrk-1234abcd');
    expect(keyIdOf('alias/x')).toBeUndefined();
    expect(keyIdOf('arn:aws:kms:us-east-1:123456789012:alias/x')).toBeUndefined();
  });
});

describe('parseRecords / recordTag', () => {
  it('reads back what recordTag writes, oldest first, ignoring other and malformed tags', () => {
    const tags = Object.fromEntries([
      recordTag({ keyId: B, stoppedAt: T0 + DAY }),
      recordTag({ keyId: A, stoppedAt: T0 }),
      [`${PREV_KEY_TAG_PREFIX}not a key`, '2026-01-01T00:00:00Z'],
      [`${PREV_KEY_TAG_PREFIX}${A}x`, 'yesterday'],
      ['team', 'x'],
    ]);
    expect(parseRecords(tags)).toEqual([
      { keyId: A, stoppedAt: T0 },
      { keyId: B, stoppedAt: T0 + DAY },
    ]);
    expect(recordTag({ keyId: A, stoppedAt: T0 + 1234 })).toEqual([
      `${PREV_KEY_TAG_PREFIX}${A}`,
      '2026-01-01T00:00:01Z',
    ]);
  });
});

describe('neededUntil / isLive', () => {
  it('until = stopped + retention; no retention = forever', () => {
    const r = { keyId: A, stoppedAt: T0 };
    expect(neededUntil(r, 30)).toBe(T0 + 30 * DAY);
    expect(neededUntil(r, undefined)).toBeUndefined();
    expect(isLive(r, 30, T0 + 29 * DAY)).toBe(true);
    expect(isLive(r, 30, T0 + 30 * DAY)).toBe(false);
    expect(isLive(r, undefined, T0 + 10_000 * DAY)).toBe(true);
  });
});

describe('planRecord', () => {
  it('adds one tag for a new record', () => {
    const plan = planRecord({ team: 'x' }, { keyId: A, stoppedAt: T0 }, { now: T0, retentionInDays: 7 });
    expect(plan).toEqual({
      set: { [`${PREV_KEY_TAG_PREFIX}${A}`]: '2026-01-01T00:00:00Z' },
      remove: [],
      dropped: [],
    });
  });

  it('a record of the same key keeps the later time', () => {
    const tags = Object.fromEntries([recordTag({ keyId: A, stoppedAt: T0 + DAY })]);
    const plan = planRecord(tags, { keyId: A, stoppedAt: T0 }, { now: T0 + DAY });
    expect(plan.set[`${PREV_KEY_TAG_PREFIX}${A}`]).toBe('2026-01-02T00:00:00Z');
  });

  it('expires the records whose data retention has removed, only when retention is known', () => {
    const tags = Object.fromEntries([recordTag({ keyId: B, stoppedAt: T0 })]);
    const add = { keyId: A, stoppedAt: T0 + 10 * DAY };
    expect(planRecord(tags, add, { now: add.stoppedAt, retentionInDays: 7 }).remove).toEqual([
      `${PREV_KEY_TAG_PREFIX}${B}`,
    ]);
    expect(planRecord(tags, add, { now: add.stoppedAt, retentionInDays: 30 }).remove).toEqual([]);
    expect(planRecord(tags, add, { now: add.stoppedAt }).remove).toEqual([]);
  });

  it(`keeps at most ${MAX_RECORDS} records: the oldest goes and is reported`, () => {
    const ids = Array.from({ length: MAX_RECORDS }, (_, i) => `0000000${i}-aaaa-bbbb-cccc-dddddddddddd`);
    const tags = Object.fromEntries(ids.map((id, i) => recordTag({ keyId: id, stoppedAt: T0 + i * DAY })));
    const plan = planRecord(tags, { keyId: A, stoppedAt: T0 + 100 * DAY }, { now: T0 + 100 * DAY });
    expect(plan.dropped).toEqual([{ keyId: ids[0], stoppedAt: T0 }]);
    expect(plan.remove).toEqual([`${PREV_KEY_TAG_PREFIX}${ids[0]}`]);
  });

  it('empties the owner-key tag once its key becomes a record', () => {
    const plan = planRecord({ [OWNER_KEY_TAG]: arn(A) }, { keyId: A, stoppedAt: T0 }, { now: T0 });
    expect(plan.set[OWNER_KEY_TAG]).toBe('');
    expect(
      planRecord({ [OWNER_KEY_TAG]: arn(B) }, { keyId: A, stoppedAt: T0 }, { now: T0 }).set,
    ).not.toHaveProperty(OWNER_KEY_TAG);
  });
});

describe('dependsOn', () => {
  const tags = Object.fromEntries([recordTag({ keyId: A, stoppedAt: T0 })]);

  it('the current key, by ARN or id', () => {
    expect(dependsOn({ kmsKeyId: arn(A) }, arn(A), T0)).toEqual({ kind: 'current' });
  });

  it('a previous key while the retained data needs it; not once retention has passed', () => {
    expect(dependsOn({ kmsKeyId: arn(B), tags, retentionInDays: 30 }, arn(A), T0 + DAY)).toEqual({
      kind: 'previous',
      until: T0 + 30 * DAY,
    });
    expect(dependsOn({ kmsKeyId: arn(B), tags, retentionInDays: 30 }, arn(A), T0 + 31 * DAY)).toBeUndefined();
  });

  it('no retention: forever; no record: not at all', () => {
    expect(dependsOn({ tags }, arn(A), T0 + 5000 * DAY)).toEqual({ kind: 'previous' });
    expect(dependsOn({ kmsKeyId: arn(B) }, arn(A), T0)).toBeUndefined();
  });
});
