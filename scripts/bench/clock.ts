import type { Clock } from '../../functions/core/retry.ts';

/** What a scaled clock is built on: the real clock and timer (injectable for tests). */
export interface TimeBase {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

const realTime: TimeBase = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms) };

/**
 * A clock `scale` times faster than real time, starting at the real now: now() advances `scale` ms per real
 * ms and sleep(ms) waits ms / scale real ms. It matches an emulator started with `timeScale: scale`, whose
 * quotas are × scale and delays ÷ scale, so the guard's own waits shrink exactly as AWS's do.
 */
export function scaledClock(scale: number, base: TimeBase = realTime): Clock {
  if (!(scale > 0)) throw new Error(`scale must be positive, got ${scale}`);
  const t0 = base.now();
  return {
    now: () => t0 + (base.now() - t0) * scale,
    sleep: (ms) => new Promise<void>((resolve) => void base.setTimeout(resolve, Math.max(0, ms) / scale)),
  };
}
