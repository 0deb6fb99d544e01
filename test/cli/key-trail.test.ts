/**
 * Reconstructing previous keys from CloudTrail records (functions/cli/key-trail.ts): pure, no mocks.
 */
import { describe, expect, it } from 'vitest';
import { parseTrailEvent, type TrailKeyEvent, trailRecords } from '../../functions/cli/key-trail.ts';

const A = 'arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111';
const B = 'arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222';
const ev = (eventName: string, at: number, group: string, kmsKeyId?: string): TrailKeyEvent => ({
  eventName,
  at,
  group,
  ...(kmsKeyId ? { kmsKeyId } : {}),
});

describe('parseTrailEvent', () => {
  it('reads the name, time, group (by name or resourceIdentifier) and key; refuses failed calls', () => {
    const record = (extra: Record<string, unknown>) =>
      JSON.stringify({ eventName: 'AssociateKmsKey', eventTime: '2026-12-01T10:00:00Z', ...extra });
    expect(parseTrailEvent(record({ requestParameters: { logGroupName: '/a', kmsKeyId: A } }))).toEqual({
      eventName: 'AssociateKmsKey',
      at: Date.parse('2026-12-01T10:00:00Z'),
      group: '/a',
      kmsKeyId: A,
    });
    expect(
      parseTrailEvent(
        record({ requestParameters: { resourceIdentifier: 'arn:aws:logs:us-east-1:1:log-group:/b:*' } }),
      )?.group,
    ).toBe('/b');
    expect(
      parseTrailEvent(record({ errorCode: 'AccessDenied', requestParameters: { logGroupName: '/a' } })),
    ).toBeUndefined();
    expect(parseTrailEvent('not json')).toBeUndefined();
  });
});

describe('trailRecords', () => {
  it('a key replaced by another, or removed, is a previous key from that time', () => {
    const out = trailRecords([
      ev('DisassociateKmsKey', 30, '/b'),
      ev('CreateLogGroup', 10, '/a', A),
      ev('AssociateKmsKey', 20, '/a', B),
      ev('AssociateKmsKey', 5, '/b', A),
    ]);
    expect(out).toEqual([
      { group: '/a', key: A, stoppedAt: 20 },
      { group: '/b', key: A, stoppedAt: 30 },
    ]);
  });

  it('the same key associated again is no change; a removal of a key never seen is unknown', () => {
    expect(trailRecords([ev('AssociateKmsKey', 1, '/a', A), ev('AssociateKmsKey', 2, '/a', A)])).toEqual([]);
    expect(trailRecords([ev('DisassociateKmsKey', 1, '/a')])).toEqual([]);
  });

  it('a deleted group needs nothing; within one second, a group life order', () => {
    expect(
      trailRecords([
        ev('CreateLogGroup', 1, '/a', A),
        ev('DisassociateKmsKey', 2, '/a'),
        ev('DeleteLogGroup', 3, '/a'),
        ev('CreateLogGroup', 4, '/a'),
      ]),
    ).toEqual([]);
    expect(trailRecords([ev('AssociateKmsKey', 1, '/a', B), ev('CreateLogGroup', 1, '/a', A)])).toEqual([
      { group: '/a', key: A, stoppedAt: 1 },
    ]);
  });
});
