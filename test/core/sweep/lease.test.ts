/**
 * The sweep's run lease (functions/core/sweep/lease.ts decideLease), from lease streams given as data: which
 * run holds it, with a fast-check property that exactly one active run does whatever the streams.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideLease, LEASE_PREFIX } from '../../../functions/core/sweep/lease.ts';

const TTL = 20 * 60_000;
const NOW = 1_800_000_000_000;
const stream = (run: string, invocation: number, createdAt: number) => ({
  name: `${LEASE_PREFIX}${run}/${String(invocation).padStart(5, '0')}`,
  createdAt,
});

describe('decideLease', () => {
  it('a run alone holds the lease', () => {
    expect(decideLease([stream('a', 1, NOW)], 'a', NOW, TTL)).toEqual({ held: true });
  });

  it('of two active runs the one that started first holds it; the other yields to it', () => {
    // Prepare: a started 10 min ago and renewed 1 min ago; b starts now
    const streams = [stream('a', 1, NOW - 600_000), stream('a', 2, NOW - 60_000), stream('b', 1, NOW)];

    // Assess
    expect(decideLease(streams, 'b', NOW, TTL)).toEqual({ held: false, holder: 'a' });
    expect(decideLease(streams, 'a', NOW, TTL)).toEqual({ held: true });
  });

  it('a run that stopped renewing (died) loses the lease after the lease time', () => {
    const streams = [stream('a', 1, NOW - TTL - 1), stream('b', 1, NOW)];
    expect(decideLease(streams, 'b', NOW, TTL)).toEqual({ held: true });
  });

  it('runs started in the same millisecond: the smaller run id holds it, whoever asks', () => {
    const streams = [stream('b', 1, NOW), stream('a', 1, NOW)];
    expect(decideLease(streams, 'a', NOW, TTL)).toEqual({ held: true });
    expect(decideLease(streams, 'b', NOW, TTL)).toEqual({ held: false, holder: 'a' });
  });

  it('ignores streams that are not lease streams', () => {
    const streams = [{ name: '2026/12/01/[$LATEST]abc', createdAt: NOW - 5 }, stream('b', 1, NOW)];
    expect(decideLease(streams, 'b', NOW, TTL)).toEqual({ held: true });
  });

  it('property: exactly one of the active runs holds the lease, whatever the streams', () => {
    const arb = fc.array(
      fc.record({ run: fc.constantFrom('r1', 'r2', 'r3', 'r4'), inv: fc.nat(20), age: fc.nat(2 * TTL) }),
      { minLength: 1, maxLength: 30 },
    );
    fc.assert(
      fc.property(arb, (items) => {
        const streams = items.map((i) => stream(i.run, i.inv, NOW - i.age));
        const active = [...new Set(items.filter((i) => i.age <= TTL).map((i) => i.run))];
        const holders = active.filter((run) => decideLease(streams, run, NOW, TTL).held);
        expect(holders).toHaveLength(active.length > 0 ? 1 : 0);
      }),
      { numRuns: 1_000 },
    );
  });
});
