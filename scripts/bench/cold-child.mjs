// One cold start, in a fresh process: load a bundle and handle one event, then report the time from just
// before the import to the handler's answer. Run by scripts/bench/sections/cold.ts; the event comes in BENCH_EVENT.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
const event = JSON.parse(process.env.BENCH_EVENT ?? '{}');
const context = {
  invokedFunctionArn: process.env.BENCH_FUNCTION_ARN,
  functionName: 'bench',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 120_000,
};
const started = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const loaded = performance.now();
const result = await handler(event, context);
const done = performance.now();
process.stderr.write(
  `BENCH ${JSON.stringify({ loadMs: loaded - started, totalMs: done - started, result })}\n`,
);
