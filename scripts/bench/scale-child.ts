// The scale section's child processes (scripts/bench/scale/sweep-run.ts, audit-run.ts), against the emulator
// the parent runs (AWS_ENDPOINT_URL), their clock BENCH_TIME_SCALE times faster (Date.now and setTimeout,
// installed before anything is imported), as the emulator's quotas are:
//   sweep  one Lambda container of the sweep function: imports dist/sweep.mjs once and runs the invocations the
//          parent sends over IPC one after another (a warm container), each with a Lambda context whose
//          remaining time runs from BENCH_TIMEOUT_MS on the scaled clock; answers each with its result and
//          its memory: peak heap used and RSS sampled every 10 real ms, VmHWM since the invocation started
//          (reset through /proc/self/clear_refs), and heap used after a full GC at its end.
//   cli    the CLI bundle: `node dist/cli.mjs <argv…>` in this process; at exit writes `BENCH {…}` on stderr
//          with its peak RSS (process.resourceUsage().maxRSS) and its sampled peak heap used.
import { randomUUID } from 'node:crypto';
import { writeFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { installScaledTime } from '../../local/clock.ts';
import { env, vmHwm } from './child.ts';

installScaledTime(Number(env('BENCH_TIME_SCALE')));
const MB = 2 ** 20;

/** Resets VmHWM to the current RSS (Linux: "5" to clear_refs); false where that is not possible. */
function resetHwm(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS and heap used, sampled every 10 real ms (setInterval is not scaled). */
function sampler() {
  let rss = process.memoryUsage.rss();
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage.rss());
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  }, 10);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      rss = Math.max(rss, process.memoryUsage.rss());
      heap = Math.max(heap, process.memoryUsage().heapUsed);
      return { rssMb: rss / MB, heapMb: heap / MB };
    },
  };
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

async function sweepContainer(): Promise<void> {
  const bundle = env('BENCH_BUNDLE');
  const functionArn = env('BENCH_FUNCTION_ARN');
  const timeoutMs = Number(env('BENCH_TIMEOUT_MS'));
  const functionName = functionArn.split(':').at(-1) as string;
  const loadStart = performance.now();
  const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
  const loadMs = performance.now() - loadStart;
  const gc = (globalThis as { gc?: () => void }).gc;
  const queue: { id: number; payload: unknown }[] = [];
  let busy = false;
  const runNext = async () => {
    if (busy) return;
    const next = queue.shift();
    if (!next) return;
    busy = true;
    const canReset = resetHwm();
    const sample = sampler();
    const startRssMb = process.memoryUsage.rss() / MB;
    const started = { scaled: Date.now(), real: performance.now() };
    const context = {
      invokedFunctionArn: functionArn,
      functionName,
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started.scaled)),
    };
    let outcome: { ok: true; result: unknown } | { ok: false; error: string };
    try {
      outcome = { ok: true, result: await handler(next.payload, context) };
    } catch (err) {
      outcome = { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
    }
    const ended = { scaled: Date.now(), real: performance.now() };
    const peak = sample.stop();
    gc?.();
    process.send?.({
      id: next.id,
      ...outcome,
      scaledMs: ended.scaled - started.scaled,
      realMs: ended.real - started.real,
      loadMs,
      startRssMb,
      peakRssMb: peak.rssMb,
      peakHeapMb: peak.heapMb,
      vmHwmMb: canReset ? (vmHwm() ?? 0) / MB : undefined,
      heapAfterGcMb: process.memoryUsage().heapUsed / MB,
    });
    busy = false;
    void runNext();
  };
  process.on('message', (m: { id: number; payload: unknown } | 'exit') => {
    if (m === 'exit') process.exit(0);
    queue.push(m);
    void runNext();
  });
  process.send?.({ ready: true, loadMs });
}

async function cli(): Promise<void> {
  const bundle = env('BENCH_BUNDLE');
  const sample = sampler();
  const started = { scaled: Date.now(), real: performance.now() };
  process.on('exit', (code) => {
    const peak = sample.stop();
    // Synchronously: the process is exiting.
    writeSync(
      2,
      `\nBENCH ${JSON.stringify({
        code,
        scaledMs: Date.now() - started.scaled,
        realMs: performance.now() - started.real,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        sampledPeakRssMb: peak.rssMb,
        peakHeapMb: peak.heapMb,
      })}\n`,
    );
  });
  // As `node dist/cli.mjs <argv…>` would see it.
  process.argv = [process.argv[0] as string, bundle, ...process.argv.slice(3)];
  await import(pathToFileURL(bundle).href);
}

if (process.argv[2] === 'sweep') await sweepContainer();
else if (process.argv[2] === 'cli') await cli();
else throw new Error(`scale-child: unknown mode ${process.argv[2]}`);
