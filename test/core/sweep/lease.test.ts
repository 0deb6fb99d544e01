/**
 * The sweep's run lease (functions/core/sweep/lease.ts decideLease), from lease streams given as data: which
 * run holds it, with a fast-check property that exactly one active run does whatever the streams, and a
 * squatter adding streams on a fake clock for days against the daily scheduled runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideLease,
  LEASE_PREFIX,
  type LeaseStream,
  maxRunMs,
} from '../../../functions/core/sweep/lease.ts';
import { LEASE_TTL_MS } from '../../../functions/core/sweep/run.ts';
import { loadSweepSettings } from '../../../functions/core/sweep/settings.ts';

const TTL = 20 * 60_000;
const LIMITS = { ttlMs: TTL, maxInvocations: 200 };
const NOW = 1_800_000_000_000;
const stream = (run: string, invocation: number, createdAt: number) => ({
  name: `${LEASE_PREFIX}${run}/${String(invocation).padStart(5, '0')}`,
  createdAt,
});

describe('decideLease', () => {
  it('a run alone holds the lease', () => {
    expect(decideLease([stream('a', 1, NOW)], 'a', NOW, LIMITS)).toEqual({ held: true });
  });

  it('of two active runs the one that started first holds it; the other yields to it', () => {
    // Prepare: a started 10 min ago and renewed 1 min ago; b starts now
    const streams = [stream('a', 1, NOW - 600_000), stream('a', 2, NOW - 60_000), stream('b', 1, NOW)];

    // Assess
    expect(decideLease(streams, 'b', NOW, LIMITS)).toEqual({ held: false, holder: 'a' });
    expect(decideLease(streams, 'a', NOW, LIMITS)).toEqual({ held: true });
  });

  it('a run that stopped renewing (died) loses the lease after the lease time', () => {
    const streams = [stream('a', 1, NOW - TTL - 1), stream('b', 1, NOW)];
    expect(decideLease(streams, 'b', NOW, LIMITS)).toEqual({ held: true });
  });

  it('runs started in the same millisecond: the smaller run id holds it, whoever asks', () => {
    const streams = [stream('b', 1, NOW), stream('a', 1, NOW)];
    expect(decideLease(streams, 'a', NOW, LIMITS)).toEqual({ held: true });
    expect(decideLease(streams, 'b', NOW, LIMITS)).toEqual({ held: false, holder: 'a' });
  });

  it('ignores streams that are not lease streams', () => {
    const streams = [{ name: '2026/12/01/[$LATEST]abc', createdAt: NOW - 5 }, stream('b', 1, NOW)];
    expect(decideLease(streams, 'b', NOW, LIMITS)).toEqual({ held: true });
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
        const holders = active.filter((run) => decideLease(streams, run, NOW, LIMITS).held);
        expect(holders).toHaveLength(active.length > 0 ? 1 : 0);
      }),
      { numRuns: 1_000 },
    );
  });

  it('property: with the run bounds, exactly one believable active run holds it (or none)', () => {
    const limits = { ttlMs: TTL, maxInvocations: 3 };
    const arb = fc.array(
      fc.record({ run: fc.constantFrom('r1', 'r2', 'r3'), inv: fc.nat(6), age: fc.nat(4 * TTL) }),
      { minLength: 1, maxLength: 20 },
    );
    fc.assert(
      fc.property(arb, (items) => {
        const byName = new Map(items.map((i) => [`${i.run}/${i.inv}`, i]));
        const unique = [...byName.values()];
        const streams = unique.map((i) => stream(i.run, i.inv, NOW - i.age));
        const believable = (run: string) => {
          const mine = unique.filter((i) => i.run === run);
          return (
            mine.some((i) => i.age <= TTL) &&
            mine.every((i) => i.age <= 3 * TTL) &&
            mine.length <= limits.maxInvocations
          );
        };
        const active = [...new Set(unique.map((i) => i.run))].filter(believable);
        const holders = active.filter((run) => decideLease(streams, run, NOW, limits).held);
        expect(holders).toHaveLength(active.length > 0 ? 1 : 0);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('decideLease against a squatter (anyone who may create log streams in the group)', () => {
  // The deployed bounds: the default SWEEP_MAX_INVOCATIONS and the lease time of run.ts.
  const limits = { ttlMs: LEASE_TTL_MS, maxInvocations: loadSweepSettings({}).maxInvocations };
  const DAY = 86_400_000;
  const MINUTE = 60_000;

  /** A fake clock over `days`: the squatter adds a stream every `paceMs` to one run; a new run asks daily. */
  function scheduledRunsHold(paceMs: number, days: number): boolean[] {
    const streams: LeaseStream[] = [];
    let added = 0;
    return Array.from({ length: days }, (_, d) => {
      const at = NOW + (d + 1) * DAY;
      for (; NOW + added * paceMs <= at; added++)
        streams.push(stream('squat', added + 1, NOW + added * paceMs));
      const run = `scheduled-${d + 1}`;
      // A run that yields removes its own stream again (acquireSweepLease): nothing of it stays behind.
      return decideLease([...streams, stream(run, 1, at)], run, at, limits).held;
    });
  }

  it('a stream every 5 minutes: outgrows what a run can be within a day; every scheduled run holds', () => {
    expect(scheduledRunsHold(5 * MINUTE, 7)).toEqual([true, true, true, true, true, true, true]);
  });

  it('a stream every 19 minutes (within the lease time): held at most one longest run, then never again', () => {
    // Prepare
    const held = scheduledRunsHold(19 * MINUTE, 10);
    const longest = maxRunMs(limits);

    // Assess: the squatter wins only the runs inside the longest possible run from its first stream
    expect(longest).toBe(limits.maxInvocations * limits.ttlMs);
    held.forEach((h, d) => {
      if ((d + 1) * DAY > longest) expect(h, `day ${d + 1}`).toBe(true);
    });
    expect(held.slice(0, 2)).toEqual([false, false]);
  });

  it('a run started longer ago than the longest possible run is ignored, however fresh its streams', () => {
    const start = NOW - maxRunMs(limits) - 1;
    const streams = [stream('old', 1, start), stream('old', 2, NOW - 60_000), stream('b', 1, NOW)];
    expect(decideLease(streams, 'b', NOW, limits)).toEqual({ held: true });
  });

  it('a run with more streams than a run has invocations is ignored', () => {
    const many = Array.from({ length: limits.maxInvocations + 1 }, (_, i) =>
      stream('many', i + 1, NOW - 1_000),
    );
    expect(decideLease([...many, stream('b', 1, NOW)], 'b', NOW, limits)).toEqual({ held: true });
    expect(decideLease([...many.slice(1), stream('b', 1, NOW)], 'b', NOW, limits)).toEqual({
      held: false,
      holder: 'many',
    });
  });

  it('never ignores a run of this sweep: the longest run (every invocation a full 15 min plus its start) keeps it', () => {
    // Prepare: a run of maxInvocations invocations, each 15 min 30 s after the previous
    const step = 15 * MINUTE + 30_000;
    const start = NOW - (limits.maxInvocations - 1) * step;
    const streams = Array.from({ length: limits.maxInvocations }, (_, i) =>
      stream('long', i + 1, start + i * step),
    );

    // Assess: at its last invocation a newer run still yields to it
    expect(decideLease([...streams, stream('b', 1, NOW)], 'b', NOW, limits)).toEqual({
      held: false,
      holder: 'long',
    });
  });
});
