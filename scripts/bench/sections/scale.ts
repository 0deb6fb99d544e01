/**
 * The `scale` section of `npm run bench`: one region of 1,000,000 log groups (the account maximum), a small
 * fraction unencrypted, quotas time-scaled.
 *
 * (a) The scheduled sweep as deployed: dist/sweep.mjs in a child process (one warm Lambda container,
 *     scripts/bench/scale-child.ts) whose clock runs at the emulator's time scale, with the 15-minute Lambda
 *     limit on that clock, so the run takes several invocations; the emulator's Lambda service hands each
 *     self-invocation (`Invoke`, `Event`) back to the container. Timed from the scheduled event to the run's
 *     last invocation returning `done`. Then the same with one invocation failing half-way (SQS refusing its
 *     batches), resumed from its checkpoint.
 * (b) `logs-kms-guard audit --region us-east-1 --format csv --out FILE`: dist/cli.mjs in a child process,
 *     same clock, isolated HOME.
 *
 * Floor: every page of DescribeLogGroups at its quota, ceil(N / 50) / 10 s (AWS time).
 * The region, the runs and the options are in scripts/bench/scale/; this room turns them into figures.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ScaleArgs } from '../scale/args.ts';
import { auditRun } from '../scale/audit-run.ts';
import { type Region, scaleRegion } from '../scale/region.ts';
import { MB } from '../scale/settings.ts';
import { type InvocationOut, type SweepRun, sweepRun } from '../scale/sweep-run.ts';
import { PAGE, QUOTA } from '../settings.ts';
import { type Figure, formatCounts, spread } from '../stats.ts';

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (x: number | undefined) => (x === undefined ? '?' : `${x.toFixed(0)} MB`);

/** Whether every unencrypted group got exactly one message, and no other group any. */
function touchedOnce(region: Region, messages: Map<string, number>) {
  let once = 0;
  let twice = 0;
  let missing = 0;
  let stray = 0;
  for (const name of region.unencrypted) {
    const n = messages.get(name) ?? 0;
    if (n === 1) once++;
    else if (n === 0) missing++;
    else twice++;
  }
  for (const name of messages.keys()) if (!region.unencrypted.has(name)) stray++;
  return { once, twice, missing, stray, ok: once === region.unencrypted.size && stray === 0 };
}

/** The emulator's heap for the region's groups, with and without its name index. */
function scaleMemoryFigure(region: Region): Figure {
  const N = region.groups;
  return {
    id: 'scale-emulator-memory',
    name: `scale: emulator heap for ${N.toLocaleString('en-US')} log groups`,
    unit: 'MB',
    ours: spread([region.indexedHeapMb]),
    goal: 'reasonable (≤ 400 MB)',
    met: region.indexedHeapMb <= 400,
    note:
      `after a full GC, names included: ${mb(region.groupsHeapMb)} the groups, ${mb(region.indexedHeapMb)} with the sorted name index ` +
      `(one sort of every name, at the first DescribeLogGroups after the bulk load: ${region.indexMs.toFixed(0)} ms, before the timed runs); bulk seeding (state.putLogGroups) ${s1(region.seedMs)}`,
    details: { ...region, unencrypted: region.unencrypted.size, emulator: undefined },
  };
}

/** The clean sweep run against the floor, and its container's peak memory per invocation (flat or not). */
function scaleSweepFigures(region: Region, run: SweepRun, floorMs: number, T: number): Figure[] {
  const N = region.groups;
  const once = touchedOnce(region, run.messages);
  const continuations = run.invocations.length - 1;
  const rereads = run.pagesServed - run.firstPages;
  const ratio = run.scaledMs / floorMs;
  const first = run.invocations[0];
  const lastInv = run.invocations.at(-1);
  const share = run.throttled / run.calls;
  const sweepFigure: Figure = {
    id: 'scale-sweep',
    name: `scale: scheduled sweep (dist/sweep.mjs), ${N.toLocaleString('en-US')} groups, 15-min invocations (×${T})`,
    unit: 'ms',
    ours: spread([run.scaledMs]),
    floor: spread([floorMs]),
    ratio: spread([ratio]),
    goal: '≤ 1.05×, each group listed once, each unencrypted one queued once',
    met: ratio <= 1.05 && once.ok && run.listed === N && rereads <= continuations,
    note:
      `scaled ms; ${run.invocations.length} invocations (${continuations} continuations) in one warm container; ` +
      `DescribeLogGroups pages served ${run.pagesServed.toLocaleString('en-US')} = ceil(N / 50) ${run.firstPages.toLocaleString('en-US')} + ${rereads} re-read ` +
      `(the page a continuation starts at, prefetched by the invocation before it and dropped); listed ${run.listed.toLocaleString('en-US')}; ` +
      `SQS work items: ${once.once.toLocaleString('en-US')} groups exactly once, ${once.twice} twice or more, ${once.missing} never, ${once.stray} not unencrypted; ` +
      `throttled ${run.throttled} of ${run.calls.toLocaleString('en-US')} calls (${(100 * share).toFixed(2)} %); calls ${formatCounts(run.ops)}; ` +
      `real ${s1(run.wallMs)}`,
    details: {
      wallMs: run.wallMs,
      scaledMs: run.scaledMs,
      floorMs,
      timeScale: T,
      invocations: run.invocations,
      pagesServed: run.pagesServed,
      throttled: run.throttled,
      calls: run.calls,
      ops: run.ops,
      touched: once,
    },
  };
  // Flat: what an invocation holds does not grow with the groups listed before it. The first invocation
  // starts in a fresh heap; the continuations in the heap the invocations before them grew.
  const firstCont = run.invocations[1] ?? first;
  const peakOf = (i: InvocationOut | undefined) => i?.vmHwmMb ?? i?.peakRssMb ?? 0;
  const flat =
    first !== undefined &&
    lastInv !== undefined &&
    peakOf(lastInv) <= Math.max(peakOf(firstCont) * 1.1, peakOf(firstCont) + 16) &&
    lastInv.heapAfterGcMb <= first.heapAfterGcMb + 4;
  const memoryFigure: Figure = {
    id: 'scale-sweep-memory',
    name: 'scale: sweep container peak memory (VmHWM) per invocation',
    unit: 'MB',
    ours: spread(run.invocations.map(peakOf)),
    goal: 'flat: last continuation’s peak within 10 % (or 16 MB) of the first’s, heap kept after GC within 4 MB',
    met: flat,
    note:
      `one warm container; per invocation, VmHWM (reset at its start) / sampled peak heap used / heap after a full GC at its end: ` +
      run.invocations
        .map((i, k) => `#${k + 1} ${mb(i.vmHwmMb)} / ${mb(i.peakHeapMb)} / ${mb(i.heapAfterGcMb)}`)
        .join(', ') +
      `; each lists ~${Math.round(N / run.invocations.length).toLocaleString('en-US')} groups; first continuation ${mb(peakOf(firstCont))}, last ${mb(peakOf(lastInv))}`,
    details: { invocations: run.invocations.map(({ result: _r, ...rest }) => rest) },
  };
  return [sweepFigure, memoryFigure];
}

/** The run with invocation 2 failing half-way: resumed from its checkpoint, nothing listed or queued twice. */
function scaleResumeFigure(region: Region, broken: SweepRun, floorMs: number, T: number): Figure {
  const onceB = touchedOnce(region, broken.messages);
  const after = broken.invocations[2];
  const rereadsB = broken.pagesServed - broken.firstPages;
  const fromStart = broken.invocations.filter((i) => i.startToken === undefined).length;
  return {
    id: 'scale-sweep-resume',
    name: 'scale: sweep resumes after a failed invocation (SQS unavailable half-way through invocation 2)',
    unit: 'ms',
    ours: spread([broken.scaledMs]),
    floor: spread([floorMs]),
    ratio: spread([broken.scaledMs / floorMs]),
    goal: 'resumes from the checkpoint: no page listed again from the start, no group queued twice',
    met: fromStart === 1 && onceB.ok && rereadsB <= broken.invocations.length + 1,
    note:
      `${broken.invocations.length} invocations, ${broken.invocations.filter((i) => i.retry).length} Lambda retries; ` +
      `${broken.injected} SendMessageBatch calls refused (ServiceUnavailable, SDK retries included) from half-way through invocation 2, which handed its checkpoint on; ` +
      `invocation 3 started at ${after?.startToken ? 'the checkpoint token' : 'the start'}; ` +
      `pages served ${broken.pagesServed.toLocaleString('en-US')} = ${broken.firstPages.toLocaleString('en-US')} + ${rereadsB} re-read; ` +
      `SQS work items: ${onceB.once.toLocaleString('en-US')} exactly once, ${onceB.twice} twice or more, ${onceB.missing} never; ` +
      `throttled ${broken.throttled} of ${broken.calls.toLocaleString('en-US')}; real ${s1(broken.wallMs)}`,
    details: {
      invocations: broken.invocations,
      pagesServed: broken.pagesServed,
      touched: onceB,
      timeScale: T,
    },
  };
}

/** The CLI audit against the floor, and its peak RSS (a reference line). */
function scaleAuditFigures(
  a: Awaited<ReturnType<typeof auditRun>>,
  floorMs: number,
  N: number,
  T: number,
): Figure[] {
  const pages = Math.ceil(N / PAGE);
  const ratioA = a.scaledMs / floorMs;
  const timeFigure: Figure = {
    id: 'scale-audit',
    name: `scale: audit --format csv --out FILE (dist/cli.mjs), ${N.toLocaleString('en-US')} groups (×${T})`,
    unit: 'ms',
    ours: spread([a.scaledMs]),
    floor: spread([floorMs]),
    ratio: spread([ratioA]),
    goal: '≤ 1.05×',
    met: ratioA <= 1.05,
    note:
      `scaled ms, in the child from start to exit (Node's start and the bundle's import included, ×${T}); first page to last ${s1(a.listingMs)} (${(a.listingMs / floorMs).toFixed(3)}×); exit ${a.code} (findings); CSV ${(a.csvBytes / MB).toFixed(0)} MB; ` +
      `pages served ${a.pagesServed.toLocaleString('en-US')}; throttled ${a.throttled} of ${a.calls.toLocaleString('en-US')}; ` +
      `calls ${formatCounts(a.ops)}; the CLI paces DescribeLogGroups at its default 8 TPS (sweepBuckets({})): its own floor is ${(ratioA / 1.25).toFixed(3)}× of ${pages.toLocaleString('en-US')} / 8 per s`,
    details: { ...a, floorMs, timeScale: T },
  };
  const memoryFigure: Figure = {
    id: 'scale-audit-memory',
    name: 'scale: audit peak RSS (the CLI process)',
    unit: 'MB',
    ours: spread([a.maxRssMb]),
    goal: 'none (reference for the CLI report: rows held or streamed)',
    met: undefined,
    note: `process.resourceUsage().maxRSS at exit; sampled peak heap used ${mb(a.peakHeapMb)}, sampled peak RSS ${mb(a.sampledPeakRssMb)}`,
    details: { maxRssMb: a.maxRssMb, peakHeapMb: a.peakHeapMb, sampledPeakRssMb: a.sampledPeakRssMb },
  };
  return [timeFigure, memoryFigure];
}

/** The scale section's figures: the region's memory, the sweep clean and with a failure, the CLI audit. */
export async function scaleFigures(
  s: ScaleArgs,
  tmp: string,
  log: (line: string) => void,
): Promise<Figure[]> {
  const T = s.timeScale;
  const figures: Figure[] = [];
  const region = await scaleRegion(s, log);
  const N = region.groups;
  const pages = Math.ceil(N / PAGE);
  const floorMs = (pages / QUOTA.describe) * 1000;
  const setup =
    `${N.toLocaleString('en-US')} groups (${region.unencrypted.size.toLocaleString('en-US')} unencrypted, 1 in ${s.every}), ×${T}: ` +
    `floor ${pages.toLocaleString('en-US')} pages / ${QUOTA.describe} per s = ${s1(floorMs)} AWS time, ${s1(floorMs / T)} real`;
  try {
    figures.push(scaleMemoryFigure(region));

    // (a) The sweep as deployed, clean.
    log(`  sweep: ${setup}`);
    const home = join(tmp, 'scale-home');
    mkdirSync(home, { recursive: true });
    const run = await sweepRun(region, s, home, log);
    figures.push(...scaleSweepFigures(region, run, floorMs, T));

    // Resumability: the second invocation fails half-way through; the run resumes from its checkpoint.
    if (s.failure && run.invocations.length >= 2) {
      log('  sweep with invocation 2 failing half-way (SQS refuses its batches):');
      const broken = await sweepRun(region, s, home, log, 2);
      figures.push(scaleResumeFigure(region, broken, floorMs, T));
    }

    // (b) The CLI audit.
    if (s.audit) {
      log('  audit (dist/cli.mjs audit --format csv --out FILE):');
      const a = await auditRun(region, s, tmp);
      log(`    ${s1(a.realMs)} real, exit ${a.code}, peak RSS ${mb(a.maxRssMb)}`);
      figures.push(...scaleAuditFigures(a, floorMs, N, T));
    }
  } finally {
    await region.emulator.stop();
  }
  return figures;
}
