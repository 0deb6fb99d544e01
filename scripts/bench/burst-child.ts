import { readFileSync } from 'node:fs';
// The burst's handler process: the local queue and enforce containers, against the emulator the parent
// runs (AWS_ENDPOINT_URL). Reports elapsed time, failures and the process's peak memory on stderr.
import { LocalPipeline } from '../../local/pipeline.ts';

const input = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as {
  region: string;
  account: string;
  endpoint: string;
  concurrency: number;
  associateRate: number;
  events: unknown[];
};
let peak = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 20);
let failures = 0;
const pipeline = new LocalPipeline({
  region: input.region,
  account: input.account,
  concurrency: input.concurrency,
  timeoutMs: 120_000,
  env: {
    AWS_ENDPOINT_URL: input.endpoint,
    AWS_REGION: input.region,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    ASSOCIATE_RATE: String(input.associateRate),
    POWERTOOLS_LOG_LEVEL: 'WARN',
  },
  onResult: (r) => {
    if (!r.ok) failures++;
  },
});
for (const event of input.events) pipeline.send(event);
const started = Date.now();
await pipeline.start();
const drained = await pipeline.drain(600_000);
const elapsedMs = Date.now() - started;
await pipeline.stop();
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage.rss());
process.stderr.write(
  `BENCH ${JSON.stringify({ elapsedMs, drained, failures, dlq: pipeline.dlq.length, invocations: pipeline.invocations, peakRssMb: peak / 2 ** 20 })}\n`,
);
process.exit(0);
