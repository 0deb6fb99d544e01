/**
 * The progress of a long run on stderr: what was listed, checked, changed and failed so far, the rate, and an
 * ETA only once the listing has ended (before that the total is unknown). On a terminal one line redrawn in
 * place (a bar once the total is known); otherwise (a CI log) a plain line every 5 seconds, the first one 5
 * seconds in, so a short run prints none. It keeps no count of its own: it shows what it reads from the run's
 * tally (run-tally.ts), so its numbers and the summary's come from the same counting.
 */
import { type Io, liveLines } from './io.ts';

/** What the progress shows of a run (or of its current region): read from the run's tally. */
export interface ProgressSnapshot {
  /** Where: a region, or how many account-regions a run across accounts has. */
  label: string;
  /** Groups the listing has returned so far. */
  listed: number;
  /** Whether the listing has ended (then `listed` is the total). */
  listingDone: boolean;
  /** Groups classified and reported (an audit's checked groups; a bulk run's groups looked at). */
  checked: number;
  /** Groups changed (encrypted, disassociated, or that would be in a dry run). */
  changed: number;
  failed: number;
}

/** The words of one command's progress: what its changes are called (none for an audit, which changes nothing). */
export interface ProgressWords {
  changed?: string;
}

/** How often a plain line is printed (the documented interval), and how often a terminal line is redrawn. */
export const LINE_INTERVAL_MS = 5_000;
const REDRAW_MS = 200;
const TICK_MS = 500;

/** Groups per second over `elapsedMs`; 0 before any time has passed. */
export function rateOf(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/**
 * Seconds left, or undefined when not known: while the listing goes on (the total is not known), before any
 * rate, and once nothing is left. Never 0 with work left: a fraction of a second reads as 1.
 */
export function etaSeconds(s: ProgressSnapshot, rate: number): number | undefined {
  const left = s.listed - s.checked;
  if (!s.listingDone || left <= 0 || rate <= 0) return undefined;
  return Math.max(1, Math.ceil(left / rate));
}

/** "45s", "3m20s", "2h05m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A bar of `width` cells for done out of total. */
export function barOf(done: number, total: number, width = 20): string {
  const full = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/**
 * One progress line: "eu-west-1: 1200 listed so far, 1100 checked, 35 encrypted, 0 failed | 40.0 checked/s";
 * once the listing has ended "1901 listed, 1100/1901 checked, … | ETA 20s" (with a bar first when `bar`).
 */
export function progressLine(
  s: ProgressSnapshot,
  rate: number,
  words: ProgressWords,
  options: { bar?: boolean } = {},
): string {
  const eta = etaSeconds(s, rate);
  const parts = [
    s.listingDone ? `${s.listed} listed` : `${s.listed} listed so far`,
    s.listingDone ? `${s.checked}/${s.listed} checked` : `${s.checked} checked`,
    ...(words.changed ? [`${s.changed} ${words.changed}`] : []),
    `${s.failed} failed`,
  ];
  const bar = options.bar && s.listingDone ? `${barOf(s.checked, s.listed)} ` : '';
  const tail = [`${rate.toFixed(1)} checked/s`, ...(eta !== undefined ? [`ETA ${formatDuration(eta)}`] : [])];
  return `${s.label}: ${bar}${parts.join(', ')} | ${tail.join(' | ')}`;
}

/** What a run says while a call hangs before anything is listed: "us-east-1: waiting for AWS (DescribeLogGroups, 10 s)…". */
export function waitingLine(region: string, operation: string, elapsedMs: number): string {
  return `${region}: waiting for AWS (${operation}, ${Math.floor(elapsedMs / 1000)} s)…`;
}

/** The progress of one run: `poke` when its counts change; `stop` at the end (a terminal's line is cleared). */
export interface Progress {
  poke(): void;
  stop(): void;
}

/**
 * The progress of one run, reading `read()` (undefined: nothing true to say yet); a no-op when not `enabled`
 * (--quiet, --json). Besides each poke, a timer reads it every half second, so lines come on time while the
 * run waits on AWS (an audit reports its groups a page at a time, ~12 s apart at the tag-read quota).
 */
export function makeProgress(
  io: Io,
  options: {
    enabled: boolean;
    words: ProgressWords;
    read: () => ProgressSnapshot | undefined;
    /** The oldest AWS call in flight (aws.ts): said while nothing is listed yet, so a hang is not silence. */
    waiting?: () => { operation: string; region: string; since: number } | undefined;
  },
): Progress {
  if (!options.enabled) return { poke() {}, stop() {} };
  const now = () => io.clock?.now() ?? Date.now();
  const tty = io.stderr.isTTY === true;
  const start = now();
  // The rate of the current label (a region of a single-account run starts its own).
  let label: string | undefined;
  let since = start;
  let base = 0;
  let last = tty ? 0 : start;
  let drawn = false;
  let waitedAt = Date.now();
  // Nothing listed yet: after 5 s of a call in flight, say which one, every 5 s (real time: AWS's clock).
  const showWaiting = () => {
    const call = options.waiting?.();
    const t = Date.now();
    if (!call || t - call.since < LINE_INTERVAL_MS || t - waitedAt < LINE_INTERVAL_MS) return;
    waitedAt = t;
    const line = waitingLine(call.region, call.operation, t - call.since);
    if (tty) {
      io.stderr.write(`\r\u001b[2K${line.slice(0, io.stderr.columns ? io.stderr.columns - 1 : line.length)}`);
      drawn = true;
    } else io.stderr.write(`${line}\n`);
  };
  const show = (force: boolean) => {
    const s = options.read();
    if (!s) return showWaiting();
    const t = now();
    if (s.label !== label) {
      label = s.label;
      since = t;
      base = s.checked;
    }
    if (!force && t - last < (tty ? REDRAW_MS : LINE_INTERVAL_MS)) return;
    last = t;
    const line = progressLine(s, rateOf(s.checked - base, t - since), options.words, { bar: tty });
    if (tty) {
      // Cut to the terminal's width: a line that wraps cannot be redrawn in place.
      const width = io.stderr.columns ? io.stderr.columns - 1 : line.length;
      io.stderr.write(`\r\u001b[2K${line.slice(0, width)}`);
      drawn = true;
    } else io.stderr.write(`${line}\n`);
  };
  // Every half second of the run's clock (a test's clock may run faster than real time: the timer follows it).
  const realStart = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    const speed = Math.max(1, (now() - start) / Math.max(1, Date.now() - realStart));
    timer = setTimeout(
      () => {
        show(false);
        schedule();
      },
      Math.max(10, TICK_MS / speed),
    );
    timer.unref?.();
  };
  schedule();
  // A message printed during the run clears the line first and has it redrawn after it (io.ts writeAbove).
  if (tty)
    liveLines.set(io.stderr, {
      clear: () => {
        if (drawn) io.stderr.write('\r\u001b[2K');
        drawn = false;
      },
      redraw: () => show(true),
    });
  return {
    poke: () => show(false),
    stop() {
      clearTimeout(timer);
      if (tty) liveLines.delete(io.stderr);
      // The summary that follows says where the run ended; a half-drawn line would only repeat it, staler.
      if (drawn) io.stderr.write('\r\u001b[2K');
    },
  };
}
