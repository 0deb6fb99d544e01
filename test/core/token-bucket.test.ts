/**
 * The fixed and adaptive token buckets (functions/core/token-bucket.ts) on a fake clock: pacing, slowing down
 * on throttles and recovering, with a fast-check property that the rate stays in bounds; and the callers that
 * report throttles to them (associateKey with aws-sdk-client-mock, pacedCall, isThrottle).
 */
import { AssociateKmsKeyCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { associateKey } from '../../functions/core/associate.ts';
import { silentLog } from '../../functions/core/log.ts';
import { isThrottle } from '../../functions/core/retry.ts';
import { AdaptiveTokenBucket, pacedCall, TokenBucket } from '../../functions/core/token-bucket.ts';
import { fakeClock } from '../helpers.ts';

const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

/** Takes `n` tokens one after the other. */
async function takeN(bucket: TokenBucket, n: number) {
  for (let i = 0; i < n; i++) await bucket.take();
}

describe('TokenBucket (fixed)', () => {
  it('paces takes at its rate after the burst, and ignores reported throttles', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new TokenBucket(5, 1, clock);
    // Act
    bucket.reportThrottle();
    await takeN(bucket, 6);
    // Assess: 6 takes at 5 per second with a burst of 1: 5 waits of 200 ms; the rate never moved.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeCloseTo(1000, 6);
    expect(bucket.rate).toBe(5);
  });

  it('refuses a rate that is not above 0', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/rate above 0/);
  });
});

describe('AdaptiveTokenBucket', () => {
  const options = { windowMs: 1_000, quietMs: 4_000, recoverPerSecond: 0.5 };

  it('starts at the ceiling and halves on a throttle', () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock, options);
    // Act
    const before = bucket.rate;
    bucket.reportThrottle();
    // Assess
    expect(before).toBe(5);
    expect(bucket.rate).toBe(2.5);
    expect(bucket.decreases).toBe(1);
  });

  it('counts the throttles of one moment once: one decrease per window', () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(8, 8, clock, options);
    // Act: five throttles within 900 ms, then one after the window.
    for (let i = 0; i < 5; i++) {
      bucket.reportThrottle();
      clock.advance(180);
    }
    const afterBurst = bucket.rate;
    clock.advance(200);
    bucket.reportThrottle();
    // Assess
    expect(afterBurst).toBe(4);
    expect(bucket.rate).toBe(2);
    expect(bucket.throttles).toBe(6);
    expect(bucket.decreases).toBe(2);
  });

  it('stays down while throttles keep coming, then recovers additively after a quiet period', () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock, options);
    bucket.reportThrottle(); // 2.5
    // Act / Assess: nothing regained before the quiet period is over.
    clock.advance(3_999);
    expect(bucket.rate).toBe(2.5);
    // 2 s after it: 2 × 0.5 regained.
    clock.advance(2_001);
    expect(bucket.rate).toBeCloseTo(3.5, 9);
    // A throttle restarts the quiet period (and, past the window, decreases again).
    bucket.reportThrottle();
    expect(bucket.rate).toBeCloseTo(1.75, 9);
    clock.advance(4_000);
    expect(bucket.rate).toBeCloseTo(1.75, 9);
  });

  it('never climbs above the ceiling', () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock, options);
    bucket.reportThrottle();
    // Act
    clock.advance(3_600_000);
    // Assess
    expect(bucket.rate).toBe(5);
  });

  it('never drops below the floor', () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock, { ...options, minRate: 0.4 });
    // Act: a throttle every window for a minute.
    for (let i = 0; i < 60; i++) {
      bucket.reportThrottle();
      clock.advance(1_000);
    }
    // Assess
    expect(bucket.rate).toBe(0.4);
  });

  it('defaults: ×0.5, a tenth of the ceiling as floor, windows counted in call intervals at the ceiling', () => {
    // Prepare: at 5 TPS a call interval is 200 ms: window 1 s, quiet 4 s, 0.125 TPS regained per second.
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock);
    // Act / Assess
    bucket.reportThrottle();
    clock.advance(999);
    bucket.reportThrottle(); // inside the window: the same event
    expect(bucket.rate).toBe(2.5);
    clock.advance(4_000); // quiet for 4 s since the last throttle
    expect(bucket.rate).toBe(2.5);
    clock.advance(8_000);
    expect(bucket.rate).toBeCloseTo(2.5 + 8 * 0.125, 9);
    for (let i = 0; i < 20; i++) {
      bucket.reportThrottle();
      clock.advance(1_000);
    }
    expect(bucket.rate).toBe(0.5);
  });

  it('behaves the same at any time scale: a ceiling T times higher on a clock T times slower', () => {
    // Prepare: 5 TPS, and 500 TPS whose every span is 100 times shorter.
    const slow = fakeClock();
    const fast = fakeClock();
    const a = new AdaptiveTokenBucket(5, 5, slow);
    const b = new AdaptiveTokenBucket(500, 500, fast);
    // Act
    const steps = [0, 500, 1_500, 6_000, 30_000];
    const ratios: number[] = [];
    a.reportThrottle();
    b.reportThrottle();
    for (const ms of steps) {
      slow.advance(ms);
      fast.advance(ms / 100);
      ratios.push(b.rate / a.rate);
    }
    // Assess
    expect(ratios).toHaveLength(steps.length);
    for (const r of ratios) expect(r).toBeCloseTo(100, 6);
  });

  it('drops the tokens saved up when it slows down, so the next call waits', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock, options);
    // Act
    bucket.reportThrottle();
    await bucket.take();
    // Assess: a full token at 2.5 per second: 400 ms, though 5 were saved up.
    expect(clock.slept).toEqual([400]);
  });

  it('a caller already waiting for a token waits at the lowered rate', async () => {
    // Prepare
    const clock = fakeClock();
    let throttleAt: (() => void) | undefined;
    const sleeps: number[] = [];
    const bucket = new AdaptiveTokenBucket(
      5,
      1,
      {
        now: clock.now,
        sleep: async (ms) => {
          sleeps.push(ms);
          // The throttle arrives half-way through the first wait.
          clock.advance(ms / 2);
          throttleAt?.();
          throttleAt = undefined;
          clock.advance(ms / 2);
        },
      },
      options,
    );
    await bucket.take(); // the saved token
    throttleAt = () => bucket.reportThrottle();
    // Act
    await bucket.take();
    // Assess: 200 ms asked at 5 TPS; the throttle 100 ms in drops the half token, and a full one comes
    // 400 ms later at 2.5 TPS: 500 ms in all.
    expect(sleeps[0]).toBeCloseTo(200, 9);
    expect(sleeps.reduce((x, y) => x + y, 0)).toBeCloseTo(100 + 400, 9);
  });

  it('refuses a decrease outside (0, 1)', () => {
    expect(() => new AdaptiveTokenBucket(5, 5, fakeClock(), { decrease: 1 })).toThrow(/decrease/);
  });

  it('property: the rate stays within [floor, ceiling], falls only on a throttle past the window, rises only after quiet', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
      fc.record({ kind: fc.constant('throttle' as const) }),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 1_000, noNaN: true }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.array(op, { maxLength: 60 }),
        (ceiling, decrease, ops) => {
          // Prepare
          const clock = fakeClock();
          const bucket = new AdaptiveTokenBucket(ceiling, 1, clock, { decrease });
          const interval = 1000 / ceiling;
          let lastThrottle = Number.NEGATIVE_INFINITY;
          let lastDecrease = Number.NEGATIVE_INFINITY;
          for (const o of ops) {
            const before = bucket.rate;
            // Act
            if (o.kind === 'advance') clock.advance(o.ms);
            else bucket.reportThrottle();
            const after = bucket.rate;
            // Assess
            expect(after).toBeGreaterThanOrEqual(bucket.minRate - 1e-9);
            expect(after).toBeLessThanOrEqual(ceiling + 1e-9);
            if (o.kind === 'throttle') {
              const now = clock.now();
              if (now - lastDecrease >= 5 * interval) {
                expect(after).toBeCloseTo(Math.max(bucket.minRate, before * decrease), 9);
                lastDecrease = now;
              } else expect(after).toBe(before);
              lastThrottle = now;
            } else if (clock.now() < lastThrottle + 20 * interval) {
              expect(after).toBe(before);
            } else {
              expect(after).toBeGreaterThanOrEqual(before);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('callers tell their bucket', () => {
  it('associateKey reports a throttled AssociateKmsKey to its bucket, and the retry waits at the lower rate', async () => {
    // Prepare
    const logs = mockClient(CloudWatchLogsClient);
    logs.on(AssociateKmsKeyCommand).rejectsOnce(throttle()).resolves({});
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 1, clock);
    // Act
    const result = await associateKey({
      logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
      name: '/x',
      keyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      deadline: clock.now() + 60_000,
      log: silentLog,
      clock,
      bucket,
      backoff: { baseMs: 1, maxMs: 1, random: () => 0 },
    });
    // Assess
    expect(result).toEqual({ outcome: 'associated', attempts: 2 });
    expect(bucket.throttles).toBe(1);
    // The backoff and the token: a full one at 2.5 TPS, 400 ms after the throttle.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeCloseTo(400, 6);
    logs.restore();
  });
});

describe('pacedCall and isThrottle', () => {
  it('takes a token, and reports a throttle (only a throttle) to the bucket before rethrowing', async () => {
    // Prepare
    const clock = fakeClock();
    const bucket = new AdaptiveTokenBucket(5, 5, clock);
    // Act
    const ok = await pacedCall(bucket, async () => 'done');
    const denied = await pacedCall(bucket, async () => {
      throw Object.assign(new Error('no'), { name: 'AccessDeniedException' });
    }).catch((e: Error) => e);
    const afterDenied = bucket.rate;
    const throttled = await pacedCall(bucket, async () => {
      throw throttle();
    }).catch((e: Error) => e);
    // Assess
    expect(ok).toBe('done');
    expect(denied.name).toBe('AccessDeniedException');
    expect(afterDenied).toBe(5);
    expect(throttled.name).toBe('ThrottlingException');
    expect(bucket.rate).toBe(2.5);
    expect(bucket.throttles).toBe(1);
  });

  it('works without a bucket', async () => {
    expect(await pacedCall(undefined, async () => 1)).toBe(1);
  });

  it('knows AWS throttling by name or HTTP 429, and not resource limits', () => {
    expect(isThrottle(throttle())).toBe(true);
    expect(isThrottle({ name: 'TooManyRequestsException' })).toBe(true);
    expect(isThrottle({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottle({ name: 'LimitExceededException' })).toBe(false);
    expect(isThrottle({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } })).toBe(
      false,
    );
    expect(isThrottle(undefined)).toBe(false);
  });
});
