/**
 * Clocks that run faster than real time, to match an emulator started with `timeScale: T` (quotas × T, delays ÷ T):
 * `scaledClock` for the guard run in-process (its clock is injected), `installScaledTime` for a child process
 * that runs a deployable bundle (its clock, `systemClock`, cannot be injected). Shared by the tests and the
 * benchmark, so both scale time the same way.
 */
import type { Clock } from '../functions/core/clock.ts';

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

/** A `setTimeout` as the bench sees it: a callback, a delay in ms and the callback's arguments. */
export type TimerFn = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => unknown;

/** What `installScaledTime` patches: the process's `Date.now` and `setTimeout`, scaled. */
export interface ScaledTimers {
  now(): number;
  setTimeout: TimerFn;
}

/**
 * `Date.now` and `setTimeout` for a whole process that runs `scale` times faster, starting at the real now:
 * now() advances `scale` ms per real ms and a timer of ms fires after ms / scale real ms. For a child process
 * that runs the deployable bundle, whose clock (`systemClock`) cannot be injected: the guard's backoff, pacing
 * and deadlines, the Lambda context's remaining time and the SDK's own timers all run on the emulator's
 * (`timeScale: scale`) clock, as `scaledClock` does for the guard run in-process.
 */
export function scaledTimers(scale: number, base: { now(): number; setTimeout: TimerFn }): ScaledTimers {
  if (!(scale > 0)) throw new Error(`scale must be positive, got ${scale}`);
  const t0 = base.now();
  return {
    now: () => t0 + (base.now() - t0) * scale,
    setTimeout: (fn, ms, ...args) => base.setTimeout(fn, Math.max(0, Number(ms) || 0) / scale, ...args),
  };
}

/** Patches this process's `Date.now` and `setTimeout` with `scaledTimers(scale)`; before anything is imported. */
export function installScaledTime(scale: number): void {
  const realNow = Date.now.bind(Date);
  const realSetTimeout = globalThis.setTimeout as unknown as TimerFn;
  const timers = scaledTimers(scale, { now: realNow, setTimeout: realSetTimeout });
  Date.now = timers.now;
  globalThis.setTimeout = timers.setTimeout as unknown as typeof globalThis.setTimeout;
}
