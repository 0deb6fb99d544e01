// The org section's CLI process (scripts/bench/org/cli-run.ts): `node dist/cli.mjs <argv…>` in this process,
// against the organization emulator another process runs (AWS_ENDPOINT_URL), with this process's clock
// BENCH_TIME_SCALE times faster (Date.now and setTimeout, installed before anything is imported), as the emulator's quotas are: the
// CLI's pacing (its token buckets on systemClock), backoff and the SDK's timers all run on AWS time. The CLI's
// stdout (the --json report) is left as it is. At exit it writes `BENCH {…}` on stderr: the scaled times of its
// first and last HTTP request and of its exit, the real time from the process's start to its first request (Node's
// start and the bundle's import), its CPU time and peak RSS, and how many requests it made.
import { subscribe } from 'node:diagnostics_channel';
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { installScaledTime } from '../../local/clock.ts';
import { env } from './child.ts';

installScaledTime(Number(env('BENCH_TIME_SCALE')));
const bundle = env('BENCH_BUNDLE');

const started = { scaled: Date.now(), real: performance.now() };
let first: { scaled: number; real: number } | undefined;
let lastScaled = 0;
let requests = 0;
subscribe('http.client.request.start', () => {
  const now = Date.now();
  first ??= { scaled: now, real: performance.now() };
  lastScaled = now;
  requests++;
});
let lastResponse = 0;
subscribe('http.client.response.finish', () => {
  lastResponse = Date.now();
});

process.on('exit', (code) => {
  const exited = { scaled: Date.now(), real: performance.now() };
  const cpu = process.cpuUsage();
  // Synchronously: the process is exiting.
  writeSync(
    2,
    `\nBENCH ${JSON.stringify({
      code,
      requests,
      /** Real ms from the process's start (its time origin) to its first request. */
      startupRealMs: first?.real ?? exited.real,
      /** Real ms from this script's start to the first request (the bundle's import and the CLI's setup). */
      importRealMs: (first?.real ?? exited.real) - started.real,
      /** Scaled ms from the first request to the exit: the run on AWS time. */
      runScaledMs: exited.scaled - (first?.scaled ?? exited.scaled),
      /** Scaled ms from this script's start to the exit. */
      totalScaledMs: exited.scaled - started.scaled,
      /** Scaled ms from the first request to the last request started, and to the last response finished. */
      lastRequestScaledMs: lastScaled - (first?.scaled ?? lastScaled),
      lastResponseScaledMs: lastResponse - (first?.scaled ?? lastResponse),
      realMs: exited.real,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
});

// As `node dist/cli.mjs <argv…>` would see it.
process.argv = [process.argv[0] as string, bundle, ...process.argv.slice(2)];
await import(pathToFileURL(bundle).href);
