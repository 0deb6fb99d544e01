/**
 * The progress's pure parts (functions/cli/progress.ts): the rate, an ETA only once the listing has ended and
 * never 0 with work left, durations, the bar, and the line people read; then when a line is written (on a
 * clock the test moves, stderr in memory). Without mocks; the progress as a run shows it is tested through the
 * CLI in progress.emulator.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Io } from '../../functions/cli/io.ts';
import {
  barOf,
  etaSeconds,
  formatDuration,
  makeProgress,
  type ProgressSnapshot,
  progressLine,
  rateOf,
} from '../../functions/cli/progress.ts';
import { fakeClock } from '../helpers.ts';

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  label: 'eu-west-1',
  listed: 200,
  listingDone: false,
  checked: 100,
  changed: 10,
  failed: 0,
  ...over,
});

describe('rateOf', () => {
  it('is groups per second, 0 before any time has passed', () => {
    expect(rateOf(50, 10_000)).toBe(5);
    expect(rateOf(50, 0)).toBe(0);
  });
});

describe('etaSeconds', () => {
  it('is unknown while the listing goes on, whatever the rate', () => {
    expect(etaSeconds(snap({ listingDone: false }), 10)).toBeUndefined();
  });

  it('is what is left over the rate once the listing has ended', () => {
    expect(etaSeconds(snap({ listingDone: true }), 10)).toBe(10);
  });

  it('is never 0 with work left, and unknown without a rate or with nothing left', () => {
    expect(etaSeconds(snap({ listingDone: true, listed: 101 }), 1000)).toBe(1);
    expect(etaSeconds(snap({ listingDone: true }), 0)).toBeUndefined();
    expect(etaSeconds(snap({ listingDone: true, checked: 200 }), 10)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(200)).toBe('3m20s');
    expect(formatDuration(7500)).toBe('2h05m');
  });
});

describe('barOf', () => {
  it('fills as much as is done, never past full', () => {
    expect(barOf(5, 10, 10)).toBe('[#####-----]');
    expect(barOf(0, 0, 4)).toBe('[----]');
    expect(barOf(20, 10, 4)).toBe('[####]');
  });
});

describe('progressLine', () => {
  it('while the listing goes on: the counts so far and the rate, no total, no bar and no ETA', () => {
    expect(progressLine(snap(), 12.34, { changed: 'encrypted' }, { bar: true })).toBe(
      'eu-west-1: 200 listed so far, 100 checked, 10 encrypted, 0 failed | 12.3 checked/s',
    );
  });

  it('once the listing has ended: checked out of the total, and the ETA (a bar on a terminal)', () => {
    const s = snap({ listingDone: true, failed: 2 });
    expect(progressLine(s, 10, { changed: 'encrypted' })).toBe(
      'eu-west-1: 200 listed, 100/200 checked, 10 encrypted, 2 failed | 10.0 checked/s | ETA 10s',
    );
    expect(progressLine(s, 10, { changed: 'encrypted' }, { bar: true })).toMatch(
      /^eu-west-1: \[##########----------\] 200 listed, 100\/200 checked/,
    );
  });

  it('an audit names no change (it changes nothing)', () => {
    expect(progressLine(snap(), 1, {})).toBe(
      'eu-west-1: 200 listed so far, 100 checked, 0 failed | 1.0 checked/s',
    );
  });
});

describe('makeProgress', () => {
  /** What redraws a terminal's line: back to its start, the line erased. */
  const CLEAR = '\r\u001b[2K';

  /** A progress on an in-memory stderr, read from `state`, on a clock the test moves. */
  function progressOn(tty: boolean, state: { s: ProgressSnapshot | undefined }) {
    const written: string[] = [];
    const clock = fakeClock();
    const io: Io = {
      stdout: { write: () => true },
      stderr: { write: (t: string) => written.push(t), isTTY: tty, columns: 60 },
      stdinIsTTY: false,
      env: {},
      clock,
    };
    const progress = makeProgress(io, {
      enabled: true,
      words: { changed: 'encrypted' },
      read: () => state.s,
    });
    return { written, clock, progress };
  }

  it('without a terminal: nothing before 5 s, then a line at most every 5 s', () => {
    const state = { s: snap() as ProgressSnapshot | undefined };
    const { written, clock, progress } = progressOn(false, state);
    progress.poke();
    clock.advance(4_999);
    progress.poke();
    expect(written).toEqual([]);
    clock.advance(1);
    progress.poke();
    clock.advance(4_000);
    progress.poke();
    expect(written).toHaveLength(1);
    clock.advance(1_000);
    progress.poke();
    progress.stop();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^eu-west-1: 200 listed so far, 100 checked, 10 encrypted, 0 failed \| /);
  });

  it('says nothing while there is nothing true to say', () => {
    const state = { s: undefined as ProgressSnapshot | undefined };
    const { written, clock, progress } = progressOn(false, state);
    clock.advance(60_000);
    progress.poke();
    progress.stop();
    expect(written).toEqual([]);
  });

  it('on a terminal: one line redrawn in place, cut to its width, a bar only once the total is known, cleared at the end', () => {
    const state = { s: snap() as ProgressSnapshot | undefined };
    const { written, clock, progress } = progressOn(true, state);
    progress.poke();
    expect(written[0]?.startsWith(`${CLEAR}eu-west-1: 200 listed so far`)).toBe(true);
    expect(written[0]).not.toContain('[#');
    expect((written[0] ?? '').length).toBeLessThanOrEqual(CLEAR.length + 59);
    state.s = snap({ listingDone: true });
    clock.advance(1_000);
    progress.poke();
    expect(written[1]?.startsWith(CLEAR)).toBe(true);
    expect(written[1]?.slice(CLEAR.length)).toMatch(/^eu-west-1: \[#+-+\] 200 listed/);
    progress.stop();
    expect(written.at(-1)).toBe(CLEAR);
  });
});
