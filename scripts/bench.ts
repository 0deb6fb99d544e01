// npm run bench: logs-kms-guard's performance figures, each a ratio against a floor measured in the same run
// on this machine (bare-SDK bundle, the AWS quotas, the propagation delay), over several repetitions.
// Everything runs offline against the bundled emulator; quotas and delays are time-scaled, and the guard's
// own clock is scaled by the same factor where it runs in-process. See README "Performance".
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateAliasCommand, KMSClient } from '@aws-sdk/client-kms';
import { build } from 'esbuild';
import { loadConfig } from '../functions/core/config.ts';
import { enforceLogGroup } from '../functions/core/enforce.ts';
import { clearKeyCache } from '../functions/core/key.ts';
import { silentLog } from '../functions/core/log.ts';
import { defaultKeyPolicy } from '../functions/core/policy.ts';
import type { Clock } from '../functions/core/retry.ts';
import { sweep, sweepBuckets } from '../functions/core/sweep.ts';
import { type Emulator, startEmulator } from '../local/emulator/index.ts';
import { type Figure, parseArgs, spread, table, USAGE } from './bench/stats.ts';
import { bundleOptions } from './esbuild-options.mjs';

const root = join(import.meta.dirname, '..');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:logs-kms-guard-bench-enforce`;
const ALIAS = 'alias/logs-kms-guard';
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const NODE = process.execPath;

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const wants = (part: string) => !args.only || args.only.includes(part);
const figures: Figure[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A clock `scale` times faster than real time: the guard's sleeps shrink as the emulator's quotas grow. */
function scaledClock(scale: number): Clock {
  const t0 = Date.now();
  return {
    now: () => t0 + (Date.now() - t0) * scale,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / scale)),
  };
}

function clients(emulator: Emulator, region = REGION) {
  const config = { region, endpoint: emulator.endpoint, credentials };
  return { kms: new KMSClient(config), logs: new CloudWatchLogsClient(config) };
}

/** The guard's key as it is after the first event of a region: propagated, behind the alias. */
async function guardKey(emulator: Emulator, region = REGION) {
  const ctx = { partition: 'aws' as const, region, account: ACCOUNT };
  const key = emulator.state.createKeyDirect(region, {
    policy: JSON.stringify(defaultKeyPolicy(ctx)),
    tags: { ManagedBy: 'logs-kms-guard', 'logs-kms-guard:role': 'active' },
    rotation: true,
  });
  await clients(emulator, region).kms.send(
    new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: key.keyId }),
  );
  return key;
}

/** A CloudTrail CreateLogGroup event as EventBridge delivers it (shape of test/events/). */
function createEvent(name: string, region = REGION) {
  const id = crypto.randomUUID();
  return {
    version: '0',
    id,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.logs',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      eventTime: new Date().toISOString(),
      eventSource: 'logs.amazonaws.com',
      eventName: 'CreateLogGroup',
      awsRegion: region,
      requestParameters: { logGroupName: name },
      responseElements: null,
      eventID: id,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
    },
  };
}

const callsSince = (emulator: Emulator, from: number) => emulator.calls.slice(from);
const throttledOf = (calls: Emulator['calls']) =>
  calls.filter((c) => c.error === 'ThrottlingException').length;

/** Runs a node child and returns the BENCH line it writes on stderr, with its wall time. */
// biome-ignore lint/suspicious/noExplicitAny: the child's BENCH line is JSON whose shape each caller knows.
function child(argv: string[], env: Record<string, string>): Promise<{ wallMs: number; out: any }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const p = spawn(NODE, argv, {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const wallMs = performance.now() - started;
      const line = err.split('\n').find((l) => l.startsWith('BENCH '));
      if (code !== 0 || !line)
        reject(new Error(`child ${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else resolve({ wallMs, out: JSON.parse(line.slice(6)) });
    });
  });
}

const tmp = join(root, '.bench');
mkdirSync(tmp, { recursive: true });
const baselineBundle = join(tmp, 'baseline.mjs');
await build({
  ...bundleOptions({ entry: join(root, 'scripts/bench/baseline.ts'), outfile: baselineBundle }),
});
const ourBundle = join(root, 'dist/enforce.mjs');

// 1. Bundle size.
if (wants('size')) {
  const ours = statSync(ourBundle).size;
  const floor = statSync(baselineBundle).size;
  figures.push({
    name: 'bundle size (dist/enforce.mjs)',
    unit: 'B',
    ours: spread([ours]),
    floor: spread([floor]),
    ratio: spread([ours / floor]),
    goal: '≤ 1.15×',
    met: ours / floor <= 1.15,
  });
}

// 2. Cold start and 3. API calls per event.
if (wants('cold') || wants('calls')) {
  const emulator = await startEmulator({ port: 0, throttle: false, propagationDelayMs: 0 });
  const key = await guardKey(emulator);
  const env = {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'logs-kms-guard-bench-enforce',
    BENCH_FUNCTION_ARN: FUNCTION_ARN,
  };
  const inside: number[][] = [[], []];
  const wall: number[][] = [[], []];
  const coldCalls: number[] = [];
  const reps = wants('cold') ? args.reps : 1;
  for (let i = 0; i < reps; i++) {
    // Interleaved, alternating which goes first, so drift in the machine's load hits both alike.
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const name = `/aws/lambda/cold-${which}-${i}`;
      emulator.state.putLogGroup(REGION, name);
      const from = emulator.calls.length;
      const run =
        which === 0
          ? await child(['scripts/bench/cold-child.mjs', ourBundle], {
              ...env,
              BENCH_EVENT: JSON.stringify(createEvent(name)),
            })
          : await child(['scripts/bench/cold-child.mjs', baselineBundle], {
              ...env,
              BENCH_EVENT: JSON.stringify({ logGroupName: name, keyArn: key.arn }),
            });
      if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== key.arn)
        throw new Error(`${name} not encrypted`);
      inside[which]?.push(run.out.totalMs);
      wall[which]?.push(run.wallMs);
      if (which === 0) coldCalls.push(callsSince(emulator, from).length);
    }
  }
  if (wants('cold')) {
    const [ours, base] = inside as [number[], number[]];
    const [oursWall, baseWall] = wall as [number[], number[]];
    const ratio = spread(ours.map((o, i) => o / (base[i] as number)));
    const wallRatio = spread(oursWall.map((o, i) => o / (baseWall[i] as number)));
    figures.push({
      name: 'cold start: import + first event, in process',
      unit: 'ms',
      ours: spread(ours),
      floor: spread(base),
      ratio,
      goal: '≤ 1.15×',
      met: ratio.median <= 1.15,
      note: `${args.reps} paired reps`,
    });
    figures.push({
      name: 'cold start: process spawn to exit',
      unit: 'ms',
      ours: spread(oursWall),
      floor: spread(baseWall),
      ratio: wallRatio,
      goal: '≤ 1.15×',
      met: wallRatio.median <= 1.15,
      note: 'includes starting node itself',
    });
  }
  if (wants('calls')) {
    // Warm: a second event in the same container, the key cached. In-process, the bundle's own copy.
    const saved = { ...process.env };
    Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'WARN' });
    const { handler } = await import(`${pathToFileURL(ourBundle).href}?bench-warm`);
    const context = { invokedFunctionArn: FUNCTION_ARN, getRemainingTimeInMillis: () => 120_000 };
    const warm: number[] = [];
    // The bundle's own log lines and metrics are not the bench's output.
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    for (let i = 0; i < 6; i++) {
      const name = `/aws/lambda/warm-${i}`;
      emulator.state.putLogGroup(REGION, name);
      const from = emulator.calls.length;
      await handler(createEvent(name), context);
      if (i > 0) warm.push(callsSince(emulator, from).length);
    }
    process.env = saved;
    process.stdout.write = write;
    const w = spread(warm);
    const c = spread(coldCalls);
    figures.push({
      name: 'API calls per event, warm (key cached)',
      unit: '',
      ours: w,
      floor: spread([1]),
      ratio: spread([w.median / 1]),
      goal: '≤ 2',
      met: w.max <= 2,
    });
    figures.push({
      name: 'API calls per event, cold, existing key',
      unit: '',
      ours: c,
      goal: '≤ 5',
      met: c.max <= 5,
    });
  }
  await emulator.stop();
}

// 4. Burst through the local queue, and 7. peak memory of the handler process.
if (wants('burst')) {
  const T = 20;
  const concurrency = 2;
  const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: 0 });
  const key = await guardKey(emulator);
  const events = [];
  for (let i = 0; i < args.burst; i++) {
    const name = `/aws/lambda/burst-${String(i).padStart(5, '0')}`;
    emulator.state.putLogGroup(REGION, name);
    events.push(createEvent(name));
  }
  const from = emulator.calls.length;
  const input = join(tmp, 'burst-input.json');
  writeFileSync(
    input,
    JSON.stringify({
      region: REGION,
      account: ACCOUNT,
      endpoint: emulator.endpoint,
      concurrency,
      // The quota split between the pollers: the sum of the buckets is the account's 5 TPS (time-scaled).
      associateRate: (5 * T) / concurrency,
      events,
    }),
  );
  const run = await child(['scripts/bench/burst-child.ts', input], { AWS_REGION: REGION });
  const calls = callsSince(emulator, from);
  const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
  const floorMs = (args.burst / (5 * T)) * 1000;
  const ratio = run.out.elapsedMs / floorMs;
  const ok = encrypted === args.burst && run.out.dlq === 0 && run.out.failures === 0;
  figures.push({
    name: `burst: ${args.burst} queued events at the AssociateKmsKey quota (×${T})`,
    unit: 'ms',
    ours: spread([run.out.elapsedMs]),
    floor: spread([floorMs]),
    ratio: spread([ratio]),
    goal: '≤ 1.10×, no throttle failing a record',
    met: ratio <= 1.1 && ok,
    // AWS's token buckets (and the emulator's) hold one second's worth of calls, so the first second's
    // worth goes at once and N / quota can be beaten by up to a second.
    note: `${encrypted} encrypted, ${throttledOf(calls)} throttled of ${calls.length} calls, ${run.out.failures} failed records, DLQ ${run.out.dlq}; against (N − 1 s of burst) / quota: ${(run.out.elapsedMs / (floorMs - 1000)).toFixed(2)}×`,
  });
  figures.push({
    name: 'peak memory of the handler process (burst)',
    unit: 'MB',
    ours: spread([run.out.peakRssMb]),
    goal: 'fits 256 MB with headroom',
    met: run.out.peakRssMb < 256 * 0.75,
    note: `RSS of the process running the queue and ${concurrency} containers; ${Math.round(256 - run.out.peakRssMb)} MB left`,
  });
  await emulator.stop();
}

// 5. Sweep at the quotas.
if (wants('sweep')) {
  const T = 50;
  const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: 0 });
  const key = await guardKey(emulator);
  const other = emulator.state.createKeyDirect(REGION, {}).arn;
  const unencrypted = Math.floor(args.sweepGroups / 5);
  for (let i = 0; i < args.sweepGroups; i++) {
    const name = `/app/group-${String(i).padStart(6, '0')}`;
    if (i % 5 === 0) emulator.state.putLogGroup(REGION, name);
    else emulator.state.putLogGroup(REGION, name, { kmsKeyId: other });
  }
  clearKeyCache();
  const clock = scaledClock(T);
  const from = emulator.calls.length;
  const started = clock.now();
  const result = await sweep({
    mode: 'enforce',
    clients: clients(emulator),
    config: loadConfig({}),
    region: REGION,
    account: ACCOUNT,
    log: silentLog,
    clock,
    // Rates set to the quotas themselves: DescribeLogGroups 10 TPS, AssociateKmsKey 5 TPS.
    buckets: sweepBuckets({ describe: 10, associate: 5 }, clock),
    guardKeyArn: key.arn,
  });
  const elapsed = clock.now() - started;
  const calls = callsSince(emulator, from);
  const pages = Math.ceil(args.sweepGroups / 50);
  const floorMs = Math.max(pages / 10, unencrypted / 5) * 1000;
  const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
  const throttled = throttledOf(calls);
  const ratio = elapsed / floorMs;
  figures.push({
    name: `sweep: ${args.sweepGroups} groups, ${unencrypted} unencrypted, at the quotas (×${T})`,
    unit: 'ms',
    ours: spread([elapsed]),
    floor: spread([floorMs]),
    ratio: spread([ratio]),
    goal: '≤ 1.03×, throttled ≤ 1 %',
    met: ratio <= 1.03 && throttled <= calls.length * 0.01 && encrypted === unencrypted && result.done,
    note: `scaled ms; ${encrypted} encrypted, ${throttled} throttled of ${calls.length} calls (${((100 * throttled) / calls.length).toFixed(2)} %)`,
  });
  await emulator.stop();
}

// 6. Propagation: the first event of a region, where the guard creates the key and Logs sees it D later.
if (wants('propagation')) {
  const T = 30;
  const D = 60_000;
  const reps = Math.max(1, Math.min(args.reps, 3));
  const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: D, throttle: false });
  const regions = ['us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
  const times: number[] = [];
  const callCounts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const region = regions[i % regions.length] as string;
    const name = `/aws/lambda/first-${i}`;
    emulator.state.putLogGroup(region, name);
    clearKeyCache();
    const clock = scaledClock(T);
    const from = emulator.calls.length;
    const started = clock.now();
    const result = await enforceLogGroup(
      { name, region, account: ACCOUNT },
      {
        clients: clients(emulator, region),
        config: loadConfig({}),
        log: silentLog,
        // The deployed function: 120 s timeout, less the 3 s deadline margin.
        deadline: started + 117_000,
        clock,
      },
    );
    if (result.outcome !== 'encrypted')
      throw new Error(`propagation run ${i}: ${result.outcome} ${result.reason}`);
    times.push(clock.now() - started);
    callCounts.push(callsSince(emulator, from).filter((c) => c.region === region).length);
  }
  const t = spread(times);
  const c = spread(callCounts);
  figures.push({
    name: `propagation: first event to encrypted, D = ${D / 1000} s (×${T})`,
    unit: 'ms',
    ours: t,
    floor: spread([D]),
    ratio: spread(times.map((x) => x / D)),
    goal: '≤ D + 2 s, ≤ 20 calls',
    met: t.median <= D + 2_000 && c.max <= 20,
    note: `scaled ms; late by ${((t.median - D) / 1000).toFixed(2)} s (median); API calls ${c.median} [${c.min}–${c.max}]`,
  });
  await emulator.stop();
}

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const header = `logs-kms-guard bench · commit ${commit} · node ${process.version} · ${(await import('node:os')).cpus().length} cores`;
console.log(`${header}\n\n${table(figures)}`);
if (args.json) {
  writeFileSync(args.json, `${JSON.stringify({ commit, node: process.version, figures }, null, 2)}\n`);
  log(`wrote ${args.json}`);
}
process.exit(0);
