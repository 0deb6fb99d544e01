/**
 * The `cold` section of `npm run bench`: the cold start of dist/enforce.mjs (a fresh process importing it and
 * handling one CloudTrail event) against a bare-SDK bundle making the two calls an association needs, in
 * interleaved rounds, and against the same bundle making the guard's four calls (a reference line). Its
 * emulator also serves the `calls` section (scripts/bench/sections/calls.ts), which counts the cold events' calls.
 */

import type { Emulator } from '../../../local/emulator/emulator.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { ENFORCE_BUNDLE } from '../../../local/functions.ts';
import { REGION } from '../../../local/world.ts';
import { byOperation, callsSince } from '../api-calls.ts';
import type { BenchArgs, Section } from '../args.ts';
import { createEvent, FUNCTION_ARN, guardKey, handlerEnv, runChild } from '../rig.ts';
import { type Figure, pairedRatios, spread } from '../stats.ts';
import { type ColdCalls, callFigures } from './calls.ts';
import { recordFigures } from './record.ts';

/** What scripts/bench/cold-child.mjs reports: the import, and the import and first event together. */
interface ColdOut {
  loadMs: number;
  totalMs: number;
}

// ours: the deployable bundle on a CloudTrail event; floor: the bare-SDK bundle making the two calls
// an association needs at the least; calls4: the same bundle making the four calls of the guard's cold
// path (a reference that tells the cost of the calls from the cost of everything else).
const VARIANTS = ['ours', 'floor', 'calls4'] as const;
type Variant = (typeof VARIANTS)[number];

/** Each variant's cold starts: in the child (import, first event) and spawn to exit; and ours' calls. */
interface ColdRounds extends ColdCalls {
  inside: Record<Variant, ColdOut[]>;
  wall: Record<Variant, number[]>;
}

/**
 * `reps` rounds of one cold start per variant (only ours, once, when the cold figures are not wanted: the
 * calls section needs one cold event), each in a fresh process on a fresh unencrypted group.
 */
async function coldRounds(
  emulator: Emulator,
  keyArn: string,
  env: Record<string, string>,
  baselineBundle: string,
  reps: number,
  timed: boolean,
): Promise<ColdRounds> {
  const inside: Record<Variant, ColdOut[]> = { ours: [], floor: [], calls4: [] };
  const wall: Record<Variant, number[]> = { ours: [], floor: [], calls4: [] };
  const coldCalls: number[] = [];
  const coldOps: Record<string, number>[] = [];
  for (let i = 0; i < reps; i++) {
    // Interleaved, rotating which goes first, so drift in the machine's load hits all alike.
    const order = VARIANTS.map((_, k) => VARIANTS[(k + i) % VARIANTS.length] as Variant);
    for (const variant of timed ? order : (['ours'] as Variant[])) {
      // A fresh, unencrypted group per run; the key exists, with the right policy, behind the alias.
      const name = `/aws/lambda/cold-${variant}-${i}`;
      emulator.state.putLogGroup(REGION, name);
      const from = emulator.calls.length;
      const event =
        variant === 'ours'
          ? createEvent(name)
          : { logGroupName: name, keyArn, kmsChecks: variant === 'calls4' };
      const run = await runChild<ColdOut>(
        ['scripts/bench/cold-child.mjs', variant === 'ours' ? ENFORCE_BUNDLE : baselineBundle],
        { ...env, BENCH_EVENT: JSON.stringify(event) },
      );
      if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== keyArn)
        throw new Error(`${name} not encrypted`);
      inside[variant].push({ loadMs: run.out.loadMs, totalMs: run.out.totalMs });
      wall[variant].push(run.wallMs);
      if (variant === 'ours') {
        const calls = callsSince(emulator, from);
        coldCalls.push(calls.length);
        coldOps.push(byOperation(calls));
      }
    }
    if (timed && process.stderr.isTTY) process.stderr.write(`\r  cold start: ${i + 1}/${reps} rounds`);
  }
  return { inside, wall, coldCalls, coldOps };
}

/** 2. Cold start: in the child and whole process against the floor, and the 4-call reference, per round. */
function coldFigures({ inside, wall }: ColdRounds, reps: number): Figure[] {
  const total = (v: Variant) => inside[v].map((o) => o.totalMs);
  const ratio = pairedRatios(total('ours'), total('floor'));
  const wallRatio = pairedRatios(wall.ours, wall.floor);
  const ratio4 = pairedRatios(total('ours'), total('calls4'));
  const med = (v: Variant, f: (o: ColdOut) => number) => spread(inside[v].map(f)).median.toFixed(1);
  const split = (v: Variant) =>
    `import ${med(v, (o) => o.loadMs)} + first event ${med(v, (o) => o.totalMs - o.loadMs)} ms`;
  return [
    {
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
    },
    {
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
    },
    {
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
    },
  ];
}

/** 2. Cold start (paired, interleaved) and 3. API calls per event, cold and warm, on one emulator. */
export async function coldAndCallFigures(
  args: BenchArgs,
  baselineBundle: string,
  wants: (s: Section) => boolean,
  log: (line: string) => void,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  // T = 1 and no throttling: a cold start in steady state, nothing waiting on a quota.
  const emulator = await startEmulator({ port: 0, throttle: false, propagationDelayMs: 0 });
  try {
    const key = await guardKey(emulator);
    const env = { ...handlerEnv(emulator), BENCH_FUNCTION_ARN: FUNCTION_ARN };
    const reps = wants('cold') ? args.reps : 1;
    const rounds = await coldRounds(emulator, key.arn, env, baselineBundle, reps, wants('cold'));
    if (wants('cold')) {
      log(`${process.stderr.isTTY ? '\n' : ''}  cold start: ${reps} rounds done`);
      figures.push(...coldFigures(rounds, reps));
    }
    if (wants('calls')) {
      figures.push(...(await callFigures(emulator, key.arn, env, rounds)));
      figures.push(...(await recordFigures(emulator, key.arn, env)));
    }
  } finally {
    await emulator.stop();
  }
  return figures;
}
