/**
 * The progress of a long run on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds
 * otherwise (a CI log), from the live counts the commands keep.
 */
import cliProgress from 'cli-progress';
import type { SweepCounts } from '../core/sweep/report.ts';
import type { Io } from './io.ts';

/** Progress on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise. */
export interface Progress {
  update(region: string, counts: SweepCounts): void;
  stop(): void;
}

/** The progress of one run; a no-op when not `enabled` (--quiet, --json). */
export function makeProgress(io: Io, options: { enabled: boolean; verb: string }): Progress {
  if (!options.enabled) return { update() {}, stop() {} };
  const now = () => io.clock?.now() ?? Date.now();
  const done = (c: SweepCounts) =>
    c.encrypted + c.wouldEncrypt + c.disassociated + c.wouldDisassociate + c.failed + c.gone;
  const todo = (c: SweepCounts) => (options.verb === 'disassociated' ? c.guardKey : c.candidates);
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream,
        format: `{region} [{bar}] {value}/{total} ${options.verb} | {listed} listed | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let region = '';
    let since = now();
    let base = 0;
    return {
      update(r, c) {
        if (!started || r !== region) {
          if (started) bar.stop();
          bar.start(Math.max(1, todo(c)), done(c), { region: r, listed: c.listed, rate: '0.0' });
          started = true;
          region = r;
          since = now();
          base = done(c);
        }
        const secs = Math.max(0.001, (now() - since) / 1000);
        bar.setTotal(Math.max(1, todo(c)));
        bar.update(done(c), { listed: c.listed, rate: ((done(c) - base) / secs).toFixed(1) });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let since = now();
  let region = '';
  let base = 0;
  return {
    update(r, c) {
      if (r !== region) {
        region = r;
        since = now();
        base = done(c);
      }
      if (now() - last < 5_000) return;
      last = now();
      const secs = Math.max(0.001, (now() - since) / 1000);
      io.stderr.write(
        `${r}: ${c.listed} listed, ${done(c)}/${todo(c)} ${options.verb} (${((done(c) - base) / secs).toFixed(1)}/s)\n`,
      );
    },
    stop() {},
  };
}
