/**
 * local/clock.ts (scaledClock, scaledTimers), the time-scaled clocks the tests and the benchmark run the
 * guard on, checked against a fake time base: no real time here.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { scaledClock, scaledTimers, type TimerFn } from '../../local/clock.ts';

describe('scaledClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs `scale` times faster than the clock under it, and its sleeps are shorter by as much', async () => {
    // Prepare: a fake clock under it, so nothing depends on real time
    vi.useFakeTimers({ now: 1_000_000 });
    const clock = scaledClock(50);
    const t0 = clock.now();
    let woke = false;
    // Act
    const sleeping = clock.sleep(1_000).then(() => {
      woke = true;
    });
    await vi.advanceTimersByTimeAsync(19);
    const before = woke;
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    // Assess: 1,000 scaled ms are 20 real ms, and 20 real ms read as 1,000 scaled ms
    expect(before).toBe(false);
    expect(woke).toBe(true);
    expect(clock.now() - t0).toBe(1_000);
  });

  it('refuses a scale that is not positive', () => {
    // Act / Assess
    expect(() => scaledClock(0)).toThrow(/positive/);
  });
});

describe('scaledTimers', () => {
  it("runs a process's Date.now and setTimeout `scale` times faster, passing the timer's arguments on", () => {
    // Prepare: a fake time base that records the real delays asked of it
    let real = 5_000;
    const asked: { ms: number | undefined; args: unknown[] }[] = [];
    const base: { now(): number; setTimeout: TimerFn } = {
      now: () => real,
      setTimeout: (fn, ms, ...args) => {
        asked.push({ ms, args });
        fn(...args);
        return asked.length;
      },
    };
    const timers = scaledTimers(30, base);
    const fired: unknown[] = [];
    // Act
    real += 100;
    const handle = timers.setTimeout((...args) => fired.push(...args), 3_000, 'a', 1);
    timers.setTimeout(() => fired.push('zero'));
    timers.setTimeout(() => fired.push('negative'), -5);
    // Assess: 100 real ms read as 3,000; a 3 s timer waits 100 real ms; no or a negative delay is 0
    expect(timers.now()).toBe(5_000 + 3_000);
    expect(asked).toEqual([
      { ms: 100, args: ['a', 1] },
      { ms: 0, args: [] },
      { ms: 0, args: [] },
    ]);
    expect(fired).toEqual(['a', 1, 'zero', 'negative']);
    expect(handle).toBe(1);
  });

  it('refuses a scale that is not positive', () => {
    // Act / Assess
    expect(() => scaledTimers(-1, { now: () => 0, setTimeout: () => 0 })).toThrow(/positive/);
  });
});
