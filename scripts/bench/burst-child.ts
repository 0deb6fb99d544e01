// The burst's handler process: the local queue (local/pipeline.ts) and its enforce containers, each
// importing its own copy of dist/enforce.mjs, against the emulator the parent runs (AWS_ENDPOINT_URL).
// Run by scripts/bench/sections/burst.ts and shared.ts with the input in a file (a thousand events do not fit
// in argv or the environment). Reports the drain time, failed record attempts, the DLQ and its peak memory on stderr.
import { readFileSync } from 'node:fs';
import { LocalPipeline } from '../../local/pipeline.ts';
import { vmHwm } from './child.ts';

const input = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as {
  region: string;
  account: string;
  env: Record<string, string>;
  concurrency: number;
  events: unknown[];
};

const baselineRss = process.memoryUsage.rss();
let sampledPeak = baselineRss;
let peakHeapUsed = process.memoryUsage().heapUsed;
const sampler = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
}, 10);
let failures = 0;
const pipeline = new LocalPipeline({
  region: input.region,
  account: input.account,
  concurrency: input.concurrency,
  batchSize: 10,
  timeoutMs: 120_000,
  env: input.env,
  onResult: (r) => {
    if (!r.ok) failures++;
  },
});
for (const event of input.events) pipeline.send(event);
// Each container imports its own copy of the bundle first (its cold start, the cold-start figure's
// subject); the pollers start as the last import resolves. Both times are reported.
const t0 = Date.now();
await pipeline.start();
const started = Date.now();
const drained = await pipeline.drain(600_000);
const finished = Date.now();
await pipeline.stop();
clearInterval(sampler);
sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
const MB = 2 ** 20;
process.stderr.write(
  `BENCH ${JSON.stringify({
    elapsedMs: finished - started,
    startedAt: started,
    finishedAt: finished,
    withLoadMs: finished - t0,
    loadMs: started - t0,
    drained,
    failures,
    dlq: pipeline.dlq.length,
    invocations: pipeline.invocations,
    startRssMb: baselineRss / MB,
    sampledPeakRssMb: sampledPeak / MB,
    vmHwmMb: (vmHwm() ?? sampledPeak) / MB,
    peakHeapUsedMb: peakHeapUsed / MB,
  })}\n`,
);
process.exit(0);
