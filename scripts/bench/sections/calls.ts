/**
 * The `calls` section of `npm run bench`: the API calls the guard makes per event, warm (further events in one
 * container, the key cached) and cold (the cold-start rounds' events, scripts/bench/sections/cold.ts, which
 * runs this section on its emulator). Calls are what the quotas are spent on, so fewer is the figure.
 */
import { pathToFileURL } from 'node:url';
import type { Emulator } from '../../../local/emulator/emulator.ts';
import { ENFORCE_BUNDLE } from '../../../local/functions.ts';
import { REGION } from '../../../local/world.ts';
import { byOperation, callsSince } from '../api-calls.ts';
import { createEvent, FUNCTION_ARN } from '../rig.ts';
import { type Figure, formatCounts, spread } from '../stats.ts';

/** The calls of each of the cold-start rounds' events of ours: how many, and by operation. */
export interface ColdCalls {
  coldCalls: number[];
  coldOps: Record<string, number>[];
}

/** Five warm events in this process, through the bundle's own copy (its key cache warmed by a first event). */
async function warmCalls(emulator: Emulator, keyArn: string, env: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'WARN' });
  const { handler } = (await import(`${pathToFileURL(ENFORCE_BUNDLE).href}?bench-warm`)) as {
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
      if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== keyArn)
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
  return { warm, warmOps };
}

/** 3. API calls per event, warm (measured here, on the cold section's emulator) and cold (its rounds'). */
export async function callFigures(
  emulator: Emulator,
  keyArn: string,
  env: Record<string, string>,
  cold: ColdCalls,
): Promise<Figure[]> {
  // Warm: further events in the same container, the key cached. In this process, the bundle's own copy.
  const { warm, warmOps } = await warmCalls(emulator, keyArn, env);
  const w = spread(warm);
  const c = spread(cold.coldCalls);
  return [
    {
      id: 'calls-warm',
      name: 'API calls per event, warm (key cached)',
      unit: '',
      ours: w,
      floor: spread([1]),
      ratio: spread(warm),
      // Is it still unencrypted (DescribeLogGroups), is it opted out now (ListTagsForResource: the tag read right
      // before every association), associate: 3. The tag read came with the opt-out at the moment of change.
      goal: '≤ 3',
      met: w.max <= 3,
      note: formatCounts(warmOps[0] ?? {}),
      details: { samples: warm, operations: warmOps[0] },
    },
    {
      id: 'calls-cold',
      name: 'API calls per event, cold, existing key',
      unit: '',
      ours: c,
      goal: '≤ 5',
      met: c.max <= 5,
      note: formatCounts(cold.coldOps[0] ?? {}),
      details: { samples: cold.coldCalls, operations: cold.coldOps[0] },
    },
  ];
}
