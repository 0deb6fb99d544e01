// npm run bench: logs-kms-guard's performance figures, each a ratio against a floor measured in the same run
// on this machine (a bare-SDK bundle, the AWS quotas, the propagation delay), over several repetitions.
// Everything runs offline against the bundled emulator; quotas and delays are time-scaled, and the guard's
// own clock is scaled by the same factor where it runs in-process. `npm run bench -- --help` for options;
// README "Performance" for the figures.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { defaultClientFactory } from '../functions/cli/aws.ts';
import { run as runCli } from '../functions/cli/program.ts';
import { CLIENT_SETTINGS } from '../functions/core/clients.ts';
import { loadConfig } from '../functions/core/config.ts';
import { enforceLogGroup } from '../functions/core/enforce.ts';
import { clearKeyCache } from '../functions/core/key.ts';
import { silentLog } from '../functions/core/log.ts';
import { sweep, sweepBuckets } from '../functions/core/sweep.ts';
import { scaledClock } from '../local/clock.ts';
import { type ApiCall, type Emulator, startEmulator } from '../local/emulator/index.ts';
import { type BenchArgs, parseArgs, type Section, USAGE } from './bench/args.ts';
import { ORG_USAGE, orgArgs, orgFigures } from './bench/org.ts';
import {
  ACCOUNT,
  ALIAS,
  childNodeVersion,
  clients,
  commitId,
  createEvent,
  credentials,
  drainQuotas,
  FUNCTION_ARN,
  guardKey,
  handlerEnv,
  REGION,
  root,
  runChild,
} from './bench/rig.ts';
import { SCALE_USAGE, scaleArgs, scaleFigures } from './bench/scale.ts';
import { sequentialRetryLoop } from './bench/sequential.ts';
import {
  burstRigFloorMs,
  cell,
  countBy,
  countCell,
  enforceTimeoutSeconds,
  type Figure,
  formatCounts,
  pairedRatios,
  splitAt,
  spread,
  sumOf,
  sweepFloorMs,
  table,
} from './bench/stats.ts';
import { bundleOptions } from './esbuild-options.mjs';

/** Time scales: burst floor 1,000 / (5 × 20) = 10 s; sweep floor 400 s / 50 = 8 s; propagation 60 s / 30 = 2 s. */
const BURST_SCALE = 20;
const SWEEP_SCALE = 50;
const PROPAGATION_SCALE = 30;
/** Shared quota: (11,000 − 250) / 5 = 1,750… s of AWS time at ×50 is 43 s a run. */
const SHARED_SCALE = 50;
const PROPAGATION_DELAY_MS = 60_000;
/** Pollers of the burst (the event source mapping's maximumConcurrency in serverless.yml). */
const BURST_CONCURRENCY = 2;
/**
 * The AWS quotas the floors are made of (calls per second, before time-scaling), as AWS publishes them:
 * CloudWatch Logs quotas, https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html.
 */
const QUOTA = { associate: 5, describe: 10, tags: 5 };
const LAMBDA_MEMORY_MB = 256;

const log = (line: string) => process.stderr.write(`${line}\n`);
const ourBundle = join(root, 'dist/enforce.mjs');
const callsSince = (emulator: Emulator, from: number) => emulator.calls.slice(from);
const throttledOf = (calls: readonly ApiCall[]) =>
  calls.filter((c) => c.error === 'ThrottlingException').length;
const byOperation = (calls: readonly ApiCall[]) => countBy(calls, (c) => c.operation);

/** 1. Bundle size: dist/enforce.mjs against the bare-SDK baseline built with the same esbuild options. */
function sizeFigures(baselineBundle: string): Figure[] {
  const ours = statSync(ourBundle).size;
  const floor = statSync(baselineBundle).size;
  return [
    {
      id: 'bundle-size',
      name: 'bundle size: dist/enforce.mjs',
      unit: 'B',
      ours: spread([ours]),
      floor: spread([floor]),
      ratio: spread([ours / floor]),
      goal: '≤ 1.15×',
      met: ours / floor <= 1.15,
      note: 'floor: the two SDK clients making the calls, same esbuild options',
    },
  ];
}

interface ColdOut {
  loadMs: number;
  totalMs: number;
}

/** 2. Cold start (paired, interleaved) and 3. API calls per event, cold and warm. */
async function coldAndCallFigures(args: BenchArgs, baselineBundle: string, wants: (s: Section) => boolean) {
  const figures: Figure[] = [];
  // T = 1 and no throttling: a cold start in steady state, nothing waiting on a quota.
  const emulator = await startEmulator({ port: 0, throttle: false, propagationDelayMs: 0 });
  try {
    const key = await guardKey(emulator);
    const env = { ...handlerEnv(emulator), BENCH_FUNCTION_ARN: FUNCTION_ARN };
    // ours: the deployable bundle on a CloudTrail event; floor: the bare-SDK bundle making the two calls
    // an association needs at the least; calls4: the same bundle making the four calls of the guard's cold
    // path (a reference that tells the cost of the calls from the cost of everything else).
    const variants = ['ours', 'floor', 'calls4'] as const;
    type Variant = (typeof variants)[number];
    const inside: Record<Variant, ColdOut[]> = { ours: [], floor: [], calls4: [] };
    const wall: Record<Variant, number[]> = { ours: [], floor: [], calls4: [] };
    const coldCalls: number[] = [];
    const coldOps: Record<string, number>[] = [];
    const reps = wants('cold') ? args.reps : 1;
    for (let i = 0; i < reps; i++) {
      // Interleaved, rotating which goes first, so drift in the machine's load hits all alike.
      const order = variants.map((_, k) => variants[(k + i) % variants.length] as Variant);
      for (const variant of wants('cold') ? order : (['ours'] as Variant[])) {
        // A fresh, unencrypted group per run; the key exists, with the right policy, behind the alias.
        const name = `/aws/lambda/cold-${variant}-${i}`;
        emulator.state.putLogGroup(REGION, name);
        const from = emulator.calls.length;
        const event =
          variant === 'ours'
            ? createEvent(name)
            : { logGroupName: name, keyArn: key.arn, kmsChecks: variant === 'calls4' };
        const run = await runChild<ColdOut>(
          ['scripts/bench/cold-child.mjs', variant === 'ours' ? ourBundle : baselineBundle],
          { ...env, BENCH_EVENT: JSON.stringify(event) },
        );
        if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== key.arn)
          throw new Error(`${name} not encrypted`);
        inside[variant].push({ loadMs: run.out.loadMs, totalMs: run.out.totalMs });
        wall[variant].push(run.wallMs);
        if (variant === 'ours') {
          const calls = callsSince(emulator, from);
          coldCalls.push(calls.length);
          coldOps.push(byOperation(calls));
        }
      }
      if (wants('cold') && process.stderr.isTTY)
        process.stderr.write(`\r  cold start: ${i + 1}/${reps} rounds`);
    }
    if (wants('cold')) log(`${process.stderr.isTTY ? '\n' : ''}  cold start: ${reps} rounds done`);

    if (wants('cold')) {
      const total = (v: Variant) => inside[v].map((o) => o.totalMs);
      const ratio = pairedRatios(total('ours'), total('floor'));
      const wallRatio = pairedRatios(wall.ours, wall.floor);
      const ratio4 = pairedRatios(total('ours'), total('calls4'));
      const med = (v: Variant, f: (o: ColdOut) => number) => spread(inside[v].map(f)).median.toFixed(1);
      const split = (v: Variant) =>
        `import ${med(v, (o) => o.loadMs)} + first event ${med(v, (o) => o.totalMs - o.loadMs)} ms`;
      figures.push({
        id: 'cold-start-in-process',
        name: 'cold start: import + first event (in the child)',
        unit: 'ms',
        ours: spread(total('ours')),
        floor: spread(total('floor')),
        ratio: spread(ratio),
        goal: '≤ 1.15×',
        met: spread(ratio).median <= 1.15,
        note: `${reps} interleaved rounds, ratio per round; medians: ours ${split('ours')}, floor ${split('floor')}`,
        details: { ours: inside.ours, floor: inside.floor, ratios: ratio },
      });
      figures.push({
        id: 'cold-start-process',
        name: 'cold start: spawn to exit (whole process)',
        unit: 'ms',
        ours: spread(wall.ours),
        floor: spread(wall.floor),
        ratio: spread(wallRatio),
        goal: '≤ 1.15×',
        met: spread(wallRatio).median <= 1.15,
        note: 'includes starting Node itself (the same in both)',
        details: { ours: wall.ours, floor: wall.floor, ratios: wallRatio },
      });
      figures.push({
        id: 'cold-start-reference-4-calls',
        name: 'reference: cold start vs a bare-SDK bundle making the same 4 calls',
        unit: 'ms',
        ours: spread(total('ours')),
        floor: spread(total('calls4')),
        ratio: spread(ratio4),
        goal: 'none (what is not the calls)',
        met: undefined,
        note: `in the child; its floor: ${split('calls4')} (DescribeLogGroups, DescribeKey, GetKeyPolicy, AssociateKmsKey)`,
        details: { floor: inside.calls4, ratios: ratio4, wallMs: wall.calls4 },
      });
    }

    if (wants('calls')) {
      // Warm: further events in the same container, the key cached. In this process, the bundle's own copy.
      const saved = { ...process.env };
      Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'WARN' });
      const { handler } = (await import(`${pathToFileURL(ourBundle).href}?bench-warm`)) as {
        handler: (event: unknown, context: unknown) => Promise<unknown>;
      };
      const context = { invokedFunctionArn: FUNCTION_ARN, getRemainingTimeInMillis: () => 120_000 };
      const warm: number[] = [];
      const warmOps: Record<string, number>[] = [];
      // The bundle's log lines and metrics are not the bench's output.
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        for (let i = 0; i < 6; i++) {
          const name = `/aws/lambda/warm-${i}`;
          emulator.state.putLogGroup(REGION, name);
          const from = emulator.calls.length;
          await handler(createEvent(name), context);
          if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== key.arn)
            throw new Error(`${name} not encrypted`);
          const calls = callsSince(emulator, from);
          if (i > 0) {
            warm.push(calls.length);
            warmOps.push(byOperation(calls));
          }
        }
      } finally {
        process.env = saved;
        process.stdout.write = write;
      }
      const w = spread(warm);
      const c = spread(coldCalls);
      figures.push({
        id: 'calls-warm',
        name: 'API calls per event, warm (key cached)',
        unit: '',
        ours: w,
        floor: spread([1]),
        ratio: spread(warm),
        goal: '≤ 2',
        met: w.max <= 2,
        note: formatCounts(warmOps[0] ?? {}),
        details: { samples: warm, operations: warmOps[0] },
      });
      figures.push({
        id: 'calls-cold',
        name: 'API calls per event, cold, existing key',
        unit: '',
        ours: c,
        goal: '≤ 5',
        met: c.max <= 5,
        note: formatCounts(coldOps[0] ?? {}),
        details: { samples: coldCalls, operations: coldOps[0] },
      });
    }
  } finally {
    await emulator.stop();
  }
  return figures;
}

interface BurstOut {
  /** From the first poll to the queue's end. */
  elapsedMs: number;
  /** The same, with the containers' bundle imports before it. */
  withLoadMs: number;
  loadMs: number;
  drained: boolean;
  failures: number;
  dlq: number;
  invocations: number;
  startRssMb: number;
  sampledPeakRssMb: number;
  vmHwmMb: number;
  peakHeapUsedMb: number;
}

/** 4. Burst through the local queue in a child process, and 7. that process's peak memory. */
async function burstFigures(args: BenchArgs, tmp: string): Promise<Figure[]> {
  const T = BURST_SCALE;
  const rate = QUOTA.associate * T;
  const runs: (BurstOut & { encrypted: number; calls: number; throttled: number })[] = [];
  for (let run = 0; run < args.runs; run++) {
    const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: 0 });
    try {
      // The key exists and CloudWatch Logs sees it: the burst is the steady state, not the first event.
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
          concurrency: BURST_CONCURRENCY,
          env: {
            ...handlerEnv(emulator),
            // The quota split between the pollers: the sum of their buckets is the account's 5 TPS × T.
            ASSOCIATE_RATE: String(rate / BURST_CONCURRENCY),
            POWERTOOLS_LOG_LEVEL: 'WARN',
          },
          events,
        }),
      );
      const { out } = await runChild<BurstOut>(['scripts/bench/burst-child.ts', input], {});
      const calls = callsSince(emulator, from);
      const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
      runs.push({ ...out, encrypted, calls: calls.length, throttled: throttledOf(calls) });
      log(
        `  burst run ${run + 1}/${args.runs}: ${(out.elapsedMs / 1000).toFixed(2)} s, ${encrypted} encrypted`,
      );
    } finally {
      await emulator.stop();
    }
  }
  const rigFloor = burstRigFloorMs(args.burst, rate);
  const issueFloor = (args.burst / rate) * 1000;
  const elapsed = runs.map((r) => r.elapsedMs);
  const ratios = elapsed.map((e) => e / rigFloor);
  const ok = runs.every((r) => r.encrypted === args.burst && r.dlq === 0 && r.failures === 0 && r.drained);
  const sum = (f: (r: (typeof runs)[number]) => number) => runs.map(f).reduce((a, b) => a + b, 0);
  const hwm = spread(runs.map((r) => r.vmHwmMb));
  return [
    {
      id: 'burst',
      name: `burst: ${args.burst} queued events at the AssociateKmsKey quota (×${T})`,
      unit: 'ms',
      ours: spread(elapsed),
      floor: spread([rigFloor]),
      ratio: spread(ratios),
      goal: '≤ 1.10×, no failure',
      met: spread(ratios).median <= 1.1 && ok,
      note:
        `${args.runs} run(s), timed from the first poll (the containers' imports take ${spread(runs.map((r) => r.loadMs)).median.toFixed(0)} ms before it; ` +
        `with them ${spread(runs.map((r) => r.withLoadMs / rigFloor)).median.toFixed(2)}×); ` +
        `floor (N − ${rate}) / ${rate} per s, as the quota's bucket (and the guard's, ASSOCIATE_RATE ${rate / BURST_CONCURRENCY} × ${BURST_CONCURRENCY}) ` +
        `starts with one real second of calls, where AWS's holds 5 (vs N / quota = ${issueFloor.toLocaleString('en-US')} ms: ` +
        `${spread(elapsed.map((e) => e / issueFloor)).median.toFixed(2)}×). ` +
        `Throttled ${sum((r) => r.throttled)} of ${sum((r) => r.calls)} calls, failed record attempts ${sum((r) => r.failures)}, ` +
        `DLQ ${sum((r) => r.dlq)}, encrypted ${runs.map((r) => r.encrypted).join('/')}`,
      details: {
        runs,
        rigFloorMs: rigFloor,
        issueFloorMs: issueFloor,
        timeScale: T,
        concurrency: BURST_CONCURRENCY,
      },
    },
    {
      id: 'peak-memory',
      name: 'peak memory of the handler process (burst)',
      unit: 'MB',
      ours: hwm,
      goal: `fits ${LAMBDA_MEMORY_MB} MB with headroom`,
      met: hwm.max <= LAMBDA_MEMORY_MB * 0.75,
      note:
        `VmHWM of the process running the queue and ${BURST_CONCURRENCY} containers (a Lambda runs one): ` +
        `${Math.round(LAMBDA_MEMORY_MB - hwm.max)} MB headroom at the worst run; ` +
        `peak heap used ${spread(runs.map((r) => r.peakHeapUsedMb)).median.toFixed(0)} MB, RSS at start ${spread(runs.map((r) => r.startRssMb)).median.toFixed(0)} MB`,
      details: { vmHwmMb: runs.map((r) => r.vmHwmMb), sampledPeakRssMb: runs.map((r) => r.sampledPeakRssMb) },
    },
  ];
}

/** A region of `groups` log groups, every fifth unencrypted, the rest with someone else's key. */
async function sweepRegion(groups: number) {
  const emulator = await startEmulator({ port: 0, timeScale: SWEEP_SCALE, propagationDelayMs: 0 });
  const key = await guardKey(emulator);
  const other = emulator.state.createKeyDirect(REGION, {}).arn;
  for (let i = 0; i < groups; i++) {
    const name = `/app/group-${String(i).padStart(6, '0')}`;
    if (i % 5 === 0) emulator.state.putLogGroup(REGION, name);
    else emulator.state.putLogGroup(REGION, name, { kmsKeyId: other });
  }
  const unencrypted = Math.ceil(groups / 5);
  await drainQuotas(emulator, SWEEP_SCALE);
  return { emulator, key, unencrypted };
}

/** 5. The sweep at the quotas, and the sequential retry-on-throttle loop as a reference line. */
async function sweepFigures(args: BenchArgs): Promise<Figure[]> {
  const T = SWEEP_SCALE;
  const groups = args.sweepGroups;
  const ours: {
    elapsed: number;
    calls: number;
    throttled: number;
    encrypted: number;
    ops: Record<string, number>;
  }[] = [];
  const reference: typeof ours = [];
  let floorMs = 0;
  for (let run = 0; run < args.runs; run++) {
    {
      const { emulator, key, unencrypted } = await sweepRegion(groups);
      try {
        floorMs = sweepFloorMs(groups, unencrypted, QUOTA);
        clearKeyCache();
        const clock = scaledClock(T);
        const from = emulator.calls.length;
        const started = clock.now();
        // The sweep core as test/sweep/e2e.test.ts drives it, with its rates set to the quotas themselves.
        const result = await sweep({
          mode: 'enforce',
          clients: clients(emulator, REGION, CLIENT_SETTINGS),
          config: loadConfig({}),
          region: REGION,
          account: ACCOUNT,
          log: silentLog,
          clock,
          buckets: sweepBuckets(
            { describe: QUOTA.describe, associate: QUOTA.associate, tags: QUOTA.tags },
            clock,
          ),
          guardKeyArn: key.arn,
        });
        const elapsed = clock.now() - started;
        if (!result.done) throw new Error(`sweep stopped: ${result.stopped} ${result.error?.message ?? ''}`);
        const calls = callsSince(emulator, from);
        const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
        ours.push({
          elapsed,
          calls: calls.length,
          throttled: throttledOf(calls),
          encrypted,
          ops: byOperation(calls),
        });
        log(
          `  sweep run ${run + 1}/${args.runs}: ${(elapsed / 1000).toFixed(1)} scaled s, ${encrypted} encrypted`,
        );
      } finally {
        await emulator.stop();
      }
    }
    if (args.reference) {
      const { emulator, key } = await sweepRegion(groups);
      try {
        const clock = scaledClock(T);
        const from = emulator.calls.length;
        const started = clock.now();
        await sequentialRetryLoop(clients(emulator, REGION, { maxAttempts: 1 }).logs, key.arn, clock);
        const elapsed = clock.now() - started;
        const calls = callsSince(emulator, from);
        const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
        reference.push({
          elapsed,
          calls: calls.length,
          throttled: throttledOf(calls),
          encrypted,
          ops: byOperation(calls),
        });
        log(`  sequential loop run ${run + 1}/${args.runs}: ${(elapsed / 1000).toFixed(1)} scaled s`);
      } finally {
        await emulator.stop();
      }
    }
  }
  const unencrypted = Math.ceil(groups / 5);
  const figure = (
    rows: typeof ours,
    id: string,
    name: string,
    goal: string,
    met: (ratio: number, throttledShare: number, ok: boolean) => boolean | undefined,
    extra: string,
  ): Figure => {
    const ratios = rows.map((r) => r.elapsed / floorMs);
    const shares = rows.map((r) => r.throttled / r.calls);
    const ok = rows.every((r) => r.encrypted === unencrypted);
    return {
      id,
      name,
      unit: 'ms',
      ours: spread(rows.map((r) => r.elapsed)),
      floor: spread([floorMs]),
      ratio: spread(ratios),
      goal,
      met: met(spread(ratios).median, Math.max(...shares), ok),
      note:
        `scaled ms; throttled ${sumOf(rows, (r) => r.throttled)} of ${sumOf(rows, (r) => r.calls)} calls over ${rows.length} run(s), ` +
        `at most ${(100 * Math.max(...shares)).toFixed(2)} % in one; ` +
        `${extra}encrypted ${rows.map((r) => r.encrypted).join('/')} of ${unencrypted}`,
      details: { runs: rows, floorMs, timeScale: T, throttledShare: shares },
    };
  };
  const pages = Math.ceil(groups / 50);
  const figures = [
    figure(
      ours,
      'sweep',
      `sweep: ${groups} groups, ${unencrypted} unencrypted, rates = quotas (×${T})`,
      '≤ 1.03×, throttled ≤ 1 %',
      (ratio, share, ok) => ratio <= 1.03 && share <= 0.01 && ok,
      `floor max(${pages} pages / ${QUOTA.describe}, ${unencrypted} / ${QUOTA.associate}) per s (their tag reads at ${QUOTA.tags} per s too); calls ${formatCounts(ours[0]?.ops ?? {})}; `,
    ),
  ];
  if (reference.length > 0) {
    figures.push(
      figure(
        reference,
        'sweep-reference-sequential',
        'reference: sequential retry-on-throttle loop, same region',
        'none (issue: ≈ 1.04×, ~25 % throttled)',
        () => undefined,
        'DescribeLogGroups then AssociateKmsKey one by one, no pacing, backoff 100 ms × 2ⁿ ≤ 2 s on throttle, no tag reads; ',
      ),
    );
  }
  return figures;
}

/**
 * 8. Shared quota: a CLI `enforce` backfill and a burst handled by the enforce function, at once, in one
 * account and region, both drawing from the one AssociateKmsKey quota (5 TPS). Each paces itself at the
 * quota (the CLI with --rate 5; the two containers at 5 / 2 each, as the burst section), so together they ask
 * for twice what AWS grants: each must slow down when throttled and speed back up after.
 */
async function sharedFigures(args: BenchArgs, tmp: string): Promise<Figure[]> {
  const T = SHARED_SCALE;
  const groups = args.sweepGroups;
  const events = args.burst;
  const associations = groups + events;
  const rate = QUOTA.associate * T;
  const runs: {
    elapsed: number;
    encrypted: number;
    calls: number;
    throttled: number;
    associateCalls: number;
    associateThrottled: number;
    cliCode: number;
    cliEncrypted: number;
    burstMs: number;
    failures: number;
    dlq: number;
    ops: Record<string, number>;
  }[] = [];
  for (let r = 0; r < args.runs; r++) {
    const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: 0 });
    try {
      const key = await guardKey(emulator);
      // The backfill's groups (all unencrypted) and the burst's, apart by prefix so each is one caller's work.
      for (let i = 0; i < groups; i++)
        emulator.state.putLogGroup(REGION, `/app/group-${String(i).padStart(6, '0')}`);
      const burst = [];
      for (let i = 0; i < events; i++) {
        const name = `/aws/lambda/shared-${String(i).padStart(5, '0')}`;
        emulator.state.putLogGroup(REGION, name);
        burst.push(createEvent(name));
      }
      const input = join(tmp, 'shared-input.json');
      writeFileSync(
        input,
        JSON.stringify({
          region: REGION,
          account: ACCOUNT,
          concurrency: BURST_CONCURRENCY,
          env: {
            ...handlerEnv(emulator),
            ASSOCIATE_RATE: String(rate / BURST_CONCURRENCY),
            POWERTOOLS_LOG_LEVEL: 'WARN',
          },
          events: burst,
        }),
      );
      clearKeyCache();
      const clock = scaledClock(T);
      const out: string[] = [];
      const from = emulator.calls.length;
      const started = clock.now();
      // The CLI in-process, its clock as fast as the emulator's quotas (as test/cli/e2e.test.ts runs it).
      const cli = runCli(
        ['enforce', '--yes', '--json', '--region', REGION, '--prefix', '/app/', '--rate', '5'],
        {
          stdout: { write: (t: string) => out.push(t), isTTY: false },
          stderr: { write: () => true, isTTY: false },
          stdinIsTTY: false,
          env: { AWS_REGION: REGION },
          clients: defaultClientFactory({ endpoint: emulator.endpoint, credentials }),
          clock,
        },
      ).then((code) => ({ code, at: clock.now() }));
      const child = runChild<BurstOut>(['scripts/bench/burst-child.ts', input], {}).then((c) => ({
        ...c,
        at: clock.now(),
      }));
      const [c, b] = await Promise.all([cli, child]);
      const elapsed = Math.max(c.at, b.at) - started;
      const calls = callsSince(emulator, from);
      const assoc = calls.filter((x) => x.operation === 'AssociateKmsKey');
      const encrypted = emulator.state.logGroups(REGION).filter((g) => g.kmsKeyId === key.arn).length;
      const report = JSON.parse(out.join('')) as { totals: { encrypted: number } };
      runs.push({
        elapsed,
        encrypted,
        calls: calls.length,
        throttled: throttledOf(calls),
        associateCalls: assoc.length,
        associateThrottled: throttledOf(assoc),
        cliCode: c.code,
        cliEncrypted: report.totals.encrypted,
        burstMs: b.out.elapsedMs * T,
        failures: b.out.failures,
        dlq: b.out.dlq,
        ops: byOperation(calls),
      });
      log(
        `  shared quota run ${r + 1}/${args.runs}: ${(elapsed / 1000).toFixed(0)} scaled s, ${encrypted} of ${associations} encrypted, ` +
          `throttled ${throttledOf(calls)} of ${calls.length} calls`,
      );
    } finally {
      await emulator.stop();
    }
  }
  // The floor: every association at the quota, the slowest of the three quotas the work needs. The
  // emulator's bucket starts full with one real second of the scaled rate (5 × T calls, as in the burst
  // section), which AWS's does not hold: those come free, so the floor is (N − 5 T) / 5 s.
  const floors = {
    associate: burstRigFloorMs(associations, rate) * T,
    tags: burstRigFloorMs(groups, QUOTA.tags * T) * T,
    describe: ((Math.ceil(groups / 50) + events) / QUOTA.describe) * 1000,
  };
  const floorMs = Math.max(floors.associate, floors.tags, floors.describe);
  const plainFloorMs = (associations / QUOTA.associate) * 1000;
  const ratios = runs.map((x) => x.elapsed / floorMs);
  const shares = runs.map((x) => x.throttled / x.calls);
  const allEncrypted = runs.every(
    (x) => x.encrypted === associations && x.cliCode === 0 && x.failures === 0 && x.dlq === 0,
  );
  const s = (n: number) => (n / 1000).toLocaleString('en-US', { maximumFractionDigits: 0 });
  return [
    {
      id: 'shared-quota',
      name: `shared quota: CLI enforce over ${groups} groups + a burst of ${events} events, one account (×${T})`,
      unit: 'ms',
      ours: spread(runs.map((x) => x.elapsed)),
      floor: spread([floorMs]),
      ratio: spread(ratios),
      goal: '≤ 1.10×, throttled < 1 %, every group encrypted',
      met: spread(ratios).median <= 1.1 && Math.max(...shares) < 0.01 && allEncrypted,
      note:
        `scaled ms; ${runs.length} run(s); encrypted ${runs.map((x) => x.encrypted).join('/')} of ${associations} ` +
        `(CLI ${runs.map((x) => x.cliEncrypted).join('/')}, exit ${runs.map((x) => x.cliCode).join('/')}; burst failed record attempts ` +
        `${sumOf(runs, (x) => x.failures)}, DLQ ${sumOf(runs, (x) => x.dlq)}); throttled ${sumOf(runs, (x) => x.throttled)} of ` +
        `${sumOf(runs, (x) => x.calls)} calls, at most ${(100 * Math.max(...shares)).toFixed(2)} % in one ` +
        `(AssociateKmsKey ${sumOf(runs, (x) => x.associateThrottled)} of ${sumOf(runs, (x) => x.associateCalls)}); ` +
        `floor = max(AssociateKmsKey (${associations} − ${rate}) / 5, ListTagsForResource (${groups} − ${QUOTA.tags * T}) / 5, ` +
        `DescribeLogGroups (${Math.ceil(groups / 50)} pages + ${events} events) / 10) = ${s(floors.associate)} / ${s(floors.tags)} / ${s(floors.describe)} s; ` +
        `vs ${associations} / 5 = ${s(plainFloorMs)} s: ${spread(runs.map((x) => x.elapsed / plainFloorMs)).median.toFixed(3)}×; ` +
        `burst drained in ${spread(runs.map((x) => x.burstMs)).median.toFixed(0)} scaled ms; calls ${formatCounts(runs[0]?.ops ?? {})}`,
      details: { runs, floorMs, floors, plainFloorMs, timeScale: T, throttledShare: shares },
    },
  ];
}

/** 6. Propagation: the first event of a region, where the guard creates the key and Logs sees it D later. */
async function propagationFigures(args: BenchArgs): Promise<Figure[]> {
  const T = PROPAGATION_SCALE;
  const D = PROPAGATION_DELAY_MS;
  const config = loadConfig({});
  const timeoutS = enforceTimeoutSeconds(readFileSync(join(root, 'serverless.yml'), 'utf8')) ?? 120;
  // The deployed invocation's budget: the function timeout less the deadline margin (DEADLINE_MARGIN_MS).
  const budgetMs = timeoutS * 1000 - config.deadlineMarginMs;
  const times: number[] = [];
  const callCounts: number[] = [];
  const ops: Record<string, number>[] = [];
  for (let run = 0; run < args.propagationRuns; run++) {
    const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: D });
    try {
      const name = `/aws/lambda/first-${run}`;
      emulator.state.putLogGroup(REGION, name);
      clearKeyCache();
      const clock = scaledClock(T);
      const from = emulator.calls.length;
      const started = clock.now();
      // No key yet: the guard creates it at event time, and CloudWatch Logs sees it D later.
      const result = await enforceLogGroup(
        { name, region: REGION, account: ACCOUNT },
        {
          clients: clients(emulator, REGION, CLIENT_SETTINGS),
          config,
          log: silentLog,
          deadline: started + budgetMs,
          clock,
        },
      );
      const elapsed = clock.now() - started;
      if (result.outcome !== 'encrypted')
        throw new Error(`propagation run ${run}: ${result.outcome} ${result.reason}`);
      const calls = callsSince(emulator, from);
      times.push(elapsed);
      callCounts.push(calls.length);
      ops.push(byOperation(calls));
      log(
        `  propagation run ${run + 1}/${args.propagationRuns}: ${(elapsed / 1000).toFixed(2)} scaled s, ${calls.length} calls`,
      );
    } finally {
      await emulator.stop();
    }
  }
  const t = spread(times);
  const late = spread(times.map((x) => (x - D) / 1000));
  const c = spread(callCounts);
  const setup = `D = ${D / 1000} s ×${T}, guard clock ×${T}, deadline ${budgetMs / 1000} s (timeout ${timeoutS} s − ${config.deadlineMarginMs / 1000} s margin)`;
  return [
    {
      id: 'propagation',
      name: `propagation: first event to encrypted, key created at event time (D = ${D / 1000} s)`,
      unit: 'ms',
      ours: t,
      floor: spread([D]),
      ratio: spread(times.map((x) => x / D)),
      goal: `≤ D + 2 s (${((D + 2000) / D).toFixed(3)}×)`,
      met: t.median <= D + 2_000,
      note: `scaled ms; ${setup}; ${args.propagationRuns} run(s)`,
      details: { samples: times, timeScale: T, delayMs: D, deadlineMs: budgetMs, timeoutS },
    },
    {
      id: 'propagation-lateness',
      name: 'propagation: lateness (event to encrypted − D)',
      unit: 's',
      ours: late,
      goal: '≤ 2 s',
      met: late.median <= 2,
      note: 'scaled seconds after Logs could first have accepted the key',
      details: { samples: times.map((x) => (x - D) / 1000) },
    },
    {
      id: 'propagation-calls',
      name: 'propagation: API calls for that event',
      unit: '',
      ours: c,
      goal: '≤ 20',
      met: c.max <= 20,
      note: formatCounts(ops[0] ?? {}),
      details: { samples: callCounts, operations: ops },
    },
  ];
}

interface DeployOut {
  /** The custom resource's invocation, request to answer, on the scaled clock (AWS time) and the real one. */
  deployMs: number;
  deployRealMs: number;
  deployed: { deploy?: { status?: string; ready?: boolean; keyArn?: string; reason?: string } };
  /** The bodies PUT to the ResponseURL. */
  responses: {
    method?: string;
    Status?: string;
    Reason?: string;
    Data?: { KeyArn?: string; Ready?: string };
  }[];
  /** The first event's invocation in the new container, scaled and real; and that container's import (real). */
  firstMs: number;
  firstRealMs: number;
  firstLoadMs: number;
  batchItemFailures: unknown[] | null;
}

/**
 * 6b. Propagation with the deployed key: the deployable bundle answers the `Custom::LogsKmsGuardKey` Create
 * request (fresh account and region, the function's own log group exists), waiting until Logs accepts the key
 * it creates; then a new container receives the first CreateLogGroup event. Same D and time scale as the
 * propagation section; the bundle runs in a child process whose Date.now and setTimeout are scaled by T
 * (scripts/bench/deploy-child.ts), as the guard's clock is there.
 */
async function deployedKeyFigures(args: BenchArgs): Promise<Figure[]> {
  const T = PROPAGATION_SCALE;
  const D = PROPAGATION_DELAY_MS;
  const timeoutS = enforceTimeoutSeconds(readFileSync(join(root, 'serverless.yml'), 'utf8')) ?? 120;
  const functionName = FUNCTION_ARN.split(':').at(-1) as string;
  const ownGroup = `/aws/lambda/${functionName}`;
  const runs: (DeployOut & {
    deployCalls: number;
    deployOps: Record<string, number>;
    firstCalls: number;
    firstOps: string[];
    deployLateMs: number;
  })[] = [];
  for (let run = 0; run < args.deployRuns; run++) {
    const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: D });
    try {
      // A fresh account and region: no key, no alias; only the function's own log group.
      emulator.state.putLogGroup(REGION, ownGroup);
      const name = `/aws/lambda/first-after-deploy-${run}`;
      const from = emulator.calls.length;
      const { out } = await runChild<DeployOut>(['scripts/bench/deploy-child.ts'], {
        ...handlerEnv(emulator),
        POWERTOOLS_LOG_LEVEL: 'WARN',
        BENCH_BUNDLE: ourBundle,
        BENCH_TIME_SCALE: String(T),
        BENCH_FUNCTION_ARN: FUNCTION_ARN,
        BENCH_TIMEOUT_MS: String(timeoutS * 1000),
        BENCH_GROUP: name,
        BENCH_EVENT: JSON.stringify(createEvent(name)),
      });
      const key = emulator.state.key(REGION, ALIAS);
      const response = out.responses[0];
      if (out.responses.length !== 1 || response?.Status !== 'SUCCESS' || response.Data?.Ready !== 'true')
        throw new Error(`deployed-key run ${run}: custom resource answered ${JSON.stringify(out.responses)}`);
      if (!key || response.Data.KeyArn !== key.arn)
        throw new Error(
          `deployed-key run ${run}: answered key ${response.Data.KeyArn}, alias has ${key?.arn}`,
        );
      if (emulator.state.logGroup(REGION, ownGroup)?.kmsKeyId !== key.arn)
        throw new Error(`deployed-key run ${run}: ${ownGroup} not encrypted`);
      if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== key.arn || out.batchItemFailures?.length !== 0)
        throw new Error(
          `deployed-key run ${run}: ${name} not encrypted (${JSON.stringify(out.batchItemFailures)})`,
        );
      // The deployment's calls end where the bench creates the group of the first event.
      const split = splitAt(callsSince(emulator, from), (c) => c.operation === 'CreateLogGroup');
      runs.push({
        ...out,
        deployCalls: split.before.length,
        deployOps: byOperation(split.before),
        firstCalls: split.after.length,
        firstOps: split.after.map((c) => c.operation),
        deployLateMs: out.deployMs - D,
      });
      log(
        `  deployed-key run ${run + 1}/${args.deployRuns}: deployment ${(out.deployMs / 1000).toFixed(2)} scaled s ` +
          `(${split.before.length} calls), first event ${(out.firstMs / 1000).toFixed(2)} scaled s (${out.firstRealMs.toFixed(0)} real ms), ` +
          `${split.after.length} calls`,
      );
    } finally {
      await emulator.stop();
    }
  }
  const deploy = spread(runs.map((r) => r.deployMs));
  const first = spread(runs.map((r) => r.firstMs));
  const calls = spread(runs.map((r) => r.firstCalls));
  const real = spread(runs.map((r) => r.firstRealMs));
  const sequences = [...new Set(runs.map((r) => r.firstOps.join(', ')))];
  const setup = `D = ${D / 1000} s ×${T}, the bundle's clock ×${T} (Date.now, setTimeout) in a child process`;
  return [
    {
      id: 'deployed-key-deployment',
      name: `deployed key: custom resource Create to SUCCESS, the deployment's wait (D = ${D / 1000} s)`,
      unit: 'ms',
      ours: deploy,
      floor: spread([D]),
      ratio: spread(runs.map((r) => r.deployMs / D)),
      goal: 'SUCCESS, Ready "true", within the 90 s deploy budget',
      met: runs.every((r) => r.deployed.deploy?.ready === true) && deploy.max <= 90_000,
      note:
        `scaled ms; ${setup}; ${runs.length} run(s), every one SUCCESS with Ready "true"; after D: ` +
        `${cell(spread(runs.map((r) => r.deployLateMs / 1000)), 's')}; ` +
        `real ${cell(spread(runs.map((r) => r.deployRealMs)), 'ms')}; calls ${countCell(spread(runs.map((r) => r.deployCalls)))} ` +
        `(${formatCounts(runs[0]?.deployOps ?? {})})`,
      details: {
        samples: runs.map((r) => r.deployMs),
        realMs: runs.map((r) => r.deployRealMs),
        calls: runs.map((r) => r.deployCalls),
        operations: runs.map((r) => r.deployOps),
        reasons: runs.map((r) => r.responses[0]?.Reason),
        timeScale: T,
        delayMs: D,
        timeoutS,
      },
    },
    {
      id: 'deployed-key-first-event',
      name: 'deployed key: first event after deployment to encrypted, new container',
      unit: 'ms',
      ours: first,
      goal: '≤ 2 s',
      met: first.median <= 2_000,
      note:
        `scaled ms (real ${cell(real, 'ms')}: at ×${T}, the local calls' latency and CPU count ${T} times); ` +
        `from the SQS batch reaching the handler to its answer; the new container's import before it ` +
        `${spread(runs.map((r) => r.firstLoadMs)).median.toFixed(0)} real ms (not counted)`,
      details: {
        samples: runs.map((r) => r.firstMs),
        realMs: runs.map((r) => r.firstRealMs),
        loadMs: runs.map((r) => r.firstLoadMs),
      },
    },
    {
      id: 'deployed-key-first-event-calls',
      name: 'deployed key: API calls for that event',
      unit: '',
      ours: calls,
      goal: '≤ 4',
      met: calls.max <= 4,
      note: sequences.join(' / '),
      details: { samples: runs.map((r) => r.firstCalls), operations: runs.map((r) => r.firstOps) },
    },
  ];
}

async function main(): Promise<number> {
  let args: BenchArgs;
  let scale: ReturnType<typeof scaleArgs>;
  let org: ReturnType<typeof orgArgs>;
  try {
    // The org and scale sections' options (scripts/bench/org.ts, scale.ts) first; the rest as before.
    org = orgArgs(process.argv.slice(2));
    scale = scaleArgs(org.argv);
    args = parseArgs(scale.argv);
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(`${USAGE}\n${SCALE_USAGE}\n${ORG_USAGE}`);
    return 0;
  }
  const wants = (s: Section) => scale.others && org.others && (!args.only || args.only.includes(s));
  const startedAt = Date.now();
  const figures: Figure[] = [];
  // Never dist/ (deployable) nor the repository: a temp dir, removed at the end.
  const tmp = mkdtempSync(join(tmpdir(), 'logs-kms-guard-bench-'));
  try {
    const baselineBundle = join(tmp, 'baseline.mjs');
    await build(bundleOptions({ entry: join(root, 'scripts/bench/baseline.ts'), outfile: baselineBundle }));
    const section = async (name: string, run: () => Promise<Figure[]> | Figure[]) => {
      const t0 = Date.now();
      log(`${name}…`);
      figures.push(...(await run()));
      log(`  ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    if (wants('size')) await section('bundle size', () => sizeFigures(baselineBundle));
    if (wants('cold') || wants('calls'))
      await section('cold start and API calls', () => coldAndCallFigures(args, baselineBundle, wants));
    if (wants('burst')) await section('burst and peak memory', () => burstFigures(args, tmp));
    if (wants('sweep')) await section('sweep', () => sweepFigures(args));
    if (wants('propagation')) await section('propagation', () => propagationFigures(args));
    if (wants('deployed')) await section('deployed key', () => deployedKeyFigures(args));
    if (wants('shared')) await section('shared quota', () => sharedFigures(args, tmp));
    if (scale.run && org.others) await section('scale', () => scaleFigures(scale.scale, tmp, log));
    if (org.run) await section('org', () => orgFigures(org.org, log));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const commit = commitId();
  const machine = {
    node: childNodeVersion(),
    benchNode: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
  };
  const totalS = (Date.now() - startedAt) / 1000;
  const settings = {
    reps: args.reps,
    runs: args.runs,
    propagationRuns: args.propagationRuns,
    deployRuns: args.deployRuns,
    burst: args.burst,
    sweepGroups: args.sweepGroups,
    ...(scale.run ? { scale: scale.scale } : {}),
    ...(org.run ? { org: org.org } : {}),
    timeScale: {
      burst: BURST_SCALE,
      sweep: SWEEP_SCALE,
      propagation: PROPAGATION_SCALE,
      shared: SHARED_SCALE,
    },
  };
  console.log(
    `logs-kms-guard bench · commit ${commit} · node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · ` +
      `${new Date(startedAt).toISOString()} · ${totalS.toFixed(0)} s\n` +
      `settings: ${args.reps} cold-start rounds, ${args.runs} run(s) of burst and sweep, ${args.propagationRuns} of propagation, ${args.deployRuns} of deployed key, burst ${args.burst}, ` +
      `sweep ${args.sweepGroups} groups; time scale ×${BURST_SCALE} burst, ×${SWEEP_SCALE} sweep, ×${PROPAGATION_SCALE} propagation, ×${SHARED_SCALE} shared quota` +
      `${scale.run ? `; scale ${scale.scale.groups} groups (1 in ${scale.scale.every} unencrypted) ×${scale.scale.timeScale}` : ''}\n\n` +
      table(figures),
  );
  const missed = figures.filter((f) => f.met === false).map((f) => f.id);
  console.log(missed.length ? `\ngoals not met: ${missed.join(', ')}` : '\nevery goal met');
  if (args.json) {
    const doc = {
      commit,
      date: new Date(startedAt).toISOString(),
      durationS: totalS,
      machine,
      settings,
      figures,
    };
    writeFileSync(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    log(`wrote ${args.json}`);
  }
  return 0;
}

process.exit(await main());
