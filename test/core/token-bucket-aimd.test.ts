/**
 * The adaptive bucket as an AIMD client of a quota it shares (functions/core/token-bucket.ts): the shape of its
 * rate (multiplicative decrease on a throttle, additive increase after), its dither, and how it shares the
 * AssociateKmsKey quota with a neighbour that calls at a fixed 2 TPS and never adapts. Everything runs in
 * virtual time (a scheduler that jumps to the next timer), against the emulator's own quota model
 * (local/emulator/quota.ts) and the real associateKey loop, with seeded randomness: no timed assertion.
 */
import { describe, expect, it } from 'vitest';
import { associateKey } from '../../functions/core/associate.ts';
import type { Clock } from '../../functions/core/clock.ts';
import { silentLog } from '../../functions/core/log.ts';
import { SHARED_QUOTA_PACING } from '../../functions/core/sweep/quotas.ts';
import { type AdaptiveOptions, AdaptiveTokenBucket } from '../../functions/core/token-bucket.ts';
import { Quotas } from '../../local/emulator/quota.ts';
import { fakeClock } from '../helpers.ts';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** A deterministic [0, 1) source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** Virtual time: sleeps wait for `run`, which jumps to the earliest timer, resolves it and lets its work go on. */
function virtualTime(start = 1_800_000_000_000) {
  let now = start;
  let seq = 0;
  const timers: { at: number; seq: number; wake: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((wake) => {
        timers.push({ at: now + Math.max(0, ms), seq: seq++, wake });
      }),
  };
  const settle = async () => {
    for (let i = 0; i < 50; i++) await Promise.resolve();
  };
  /** Runs timers in order until `done()` (or none is left). */
  async function run(done: () => boolean): Promise<void> {
    await settle();
    while (!done() && timers.length > 0) {
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = timers.shift() as (typeof timers)[number];
      now = Math.max(now, next.at);
      next.wake();
      await settle();
    }
  }
  return { clock, run };
}

interface Share {
  /** Our work's time from its start to its last association, ms. */
  elapsedMs: number;
  ours: { calls: number; throttled: number };
  neighbour: { calls: number; throttled: number };
}

/**
 * `n` associations by `workers` associateKey loops sharing `pacers` adaptive buckets of `ceiling` TPS each (the
 * CLI: one bucket at 5, 8 groups in flight; the enforce function: two containers at 2.5), beside a neighbour at
 * `neighbourTps` (0: alone), all against the emulator's AssociateKmsKey quota. Calls take 2 to 42 ms to arrive.
 */
async function share(options: {
  n: number;
  pacers: number;
  ceiling: number;
  workers: number;
  neighbourTps: number;
  aimd: AdaptiveOptions;
  seed: number;
}): Promise<Share> {
  const { clock, run } = virtualTime();
  const random = seeded(options.seed);
  const quotas = new Quotas({ enabled: true, timeScale: 1, overrides: {} });
  const admit = () => quotas.admit('logs', 'us-east-1', 'AssociateKmsKey', clock.now());
  const latency = () => 2 + random() * 40;
  const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  const buckets = Array.from(
    { length: options.pacers },
    () =>
      new AdaptiveTokenBucket(options.ceiling, Math.min(2, Math.floor(options.ceiling)), clock, {
        ...options.aimd,
        random,
      }),
  );
  const ours = { calls: 0, throttled: 0 };
  const neighbour = { calls: 0, throttled: 0 };
  const logs = {
    send: async () => {
      await clock.sleep(latency());
      ours.calls++;
      if (admit()) return {};
      ours.throttled++;
      throw throttle();
    },
  };
  const start = clock.now() + 1_000; // the neighbour runs alone for a second first
  let stop = false;
  const neighbourLoop = async () => {
    for (let k = 0; !stop && options.neighbourTps > 0; k++) {
      await clock.sleep(start - 1_000 + (k * 1000) / options.neighbourTps - clock.now());
      void clock.sleep(latency()).then(() => {
        if (stop) return;
        neighbour.calls++;
        if (!admit()) neighbour.throttled++;
      });
    }
  };
  let left = options.n;
  let done = 0;
  let end = start;
  const worker = async (i: number) => {
    await clock.sleep(start - clock.now());
    for (; left > 0; left--) {
      await associateKey({
        logs: logs as never,
        name: `/app/${left}`,
        keyArn: KEY,
        deadline: clock.now() + 600_000,
        log: silentLog,
        clock,
        bucket: buckets[i % options.pacers],
        backoff: { baseMs: 250, maxMs: 4_000, random },
      });
      done++;
      end = clock.now();
    }
  };
  void neighbourLoop();
  for (let i = 0; i < options.workers; i++) void worker(i);
  await run(() => done >= options.n);
  stop = true;
  return { elapsedMs: end - start, ours, neighbour };
}

const pct = (x: { calls: number; throttled: number }) => (100 * x.throttled) / x.calls;
const CLI = { n: 150, pacers: 1, ceiling: 5, workers: 8 };
const FUNCTION = { n: 150, pacers: 2, ceiling: 2.5, workers: 20 };
/** N / (5 − 2) s: the quota left by a 2 TPS neighbour. */
const FLOOR_MS = (150 / 3) * 1000;

describe('AIMD: the shape of the rate', () => {
  it('a saw-tooth: each throttle past the window halves the rate, each quiet second adds the same step', () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 2, clock, {
      windowMs: 1_000,
      quietMs: 4_000,
      recoverPerSecond: 0.2,
    });
    const seen: number[] = [];
    // Act: throttle, then 4 s quiet and 5 s of climbing, three times.
    for (let i = 0; i < 3; i++) {
      bucket.reportThrottle();
      seen.push(bucket.rate);
      clock.advance(4_000);
      seen.push(bucket.rate);
      clock.advance(5_000);
      seen.push(bucket.rate);
    }
    // Assess: 5 → 2.5 (+1) → 3.5 → 1.75 (+1) → 2.75 → 1.375 (+1) → 2.375
    const expected = [2.5, 2.5, 3.5, 1.75, 1.75, 2.75, 1.375, 1.375, 2.375];
    expect(seen).toHaveLength(expected.length);
    for (const [i, r] of seen.entries()) expect(r).toBeCloseTo(expected[i] as number, 9);
  });

  it('dither: a token is handed over a random share of one interval at the current rate late, never early', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 1, clock, { dither: 1, random: () => 0.5 });
    // Act
    await bucket.take(); // the first token of a quiet bucket (a cold container): at once
    await bucket.take(); // a full token (200 ms at 5 TPS), then half an interval (100 ms)
    bucket.reportThrottle(); // 2.5 TPS
    await bucket.take(); // a full token at 2.5 (400 ms), then half an interval at 2.5 (200 ms)
    // Assess
    expect(clock.slept).toEqual([200, 100, 400, 200]);
  });

  it('dither: none for a bucket quiet for quietMs (a new group in a quiet account goes at once)', async () => {
    // Prepare: in use, then quiet for 20 intervals (the default quietMs: 4 s at 5 TPS)
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 1, clock, { dither: 1, random: () => 0.5 });
    await bucket.take();
    await bucket.take();
    clock.advance(4_000);
    clock.slept.length = 0;
    // Act
    await bucket.take();
    // Assess: the saved token, no dither
    expect(clock.slept).toEqual([]);
  });

  it('dither off by default: no wait beyond the token', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 1, clock);
    // Act
    await bucket.take();
    // Assess
    expect(clock.slept).toEqual([]);
  });
});

describe('AIMD beside a neighbour that never adapts (virtual time, the emulator quota model)', () => {
  it('alone at the ceiling, the dithered bucket is never throttled and runs at the quota', async () => {
    // Act
    const r = await share({ ...CLI, n: 300, neighbourTps: 0, aimd: SHARED_QUOTA_PACING, seed: 7 });
    // Assess: 300 at 5 TPS (the quota's 5 saved calls and the bucket's 2 going at once: 293 / 5 s at least).
    expect(r.ours.throttled).toBe(0);
    expect(r.elapsedMs).toBeGreaterThanOrEqual((293 / 5) * 1000);
    expect(r.elapsedMs).toBeLessThan((300 / 5) * 1000 * 1.05);
  });

  for (const [what, setup] of [
    ['the CLI (one bucket at 5, 8 in flight)', CLI],
    ['the enforce function (two containers at 2.5)', FUNCTION],
  ] as const) {
    it(`${what}: under 10 % of ours and 5 % of the neighbour's calls throttled, within 1.15× of N / (5 − 2)`, async () => {
      for (const seed of [1, 2, 3]) {
        // Act
        const r = await share({ ...setup, neighbourTps: 2, aimd: SHARED_QUOTA_PACING, seed });
        // Assess
        expect(pct(r.ours), `seed ${seed}: ours`).toBeLessThan(10);
        expect(pct(r.neighbour), `seed ${seed}: neighbour`).toBeLessThan(5);
        expect(r.elapsedMs / FLOOR_MS, `seed ${seed}: ratio`).toBeLessThanOrEqual(1.15);
      }
    });
  }

  it('without the dither, a bucket paced at the quota leaves the neighbour its throttles far more often', async () => {
    // Act: the CLI's bucket with and without the dither, over the same 24 seeds.
    const neighbourShares = async (aimd: AdaptiveOptions) => {
      const shares: number[] = [];
      for (let seed = 1; seed <= 24; seed++)
        shares.push(pct((await share({ ...CLI, neighbourTps: 2, aimd, seed })).neighbour));
      return shares;
    };
    const plain = await neighbourShares({});
    const dithered = await neighbourShares(SHARED_QUOTA_PACING);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // Assess: undithered, some runs throttle the neighbour past the goal (tokens taken on the refill's beat, ours
    // unthrottled and not slowing down); dithered, the neighbour loses about a third less in all. (Over 12 seeds
    // this once read "less than half"; over these 24 it is 0.62 of the plain sum with a dither on every token,
    // 0.65 with the quiet bucket's first token undithered.)
    expect(Math.max(...plain)).toBeGreaterThan(5);
    expect(sum(dithered)).toBeLessThan((sum(plain) * 2) / 3);
  });
});
