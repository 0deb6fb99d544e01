/**
 * The `propagation` section of `npm run bench`: the first event of a region right after the guard key was
 * created (by the changes function's key check: the enforce function creates none), which CloudWatch Logs
 * accepts only D later (the emulator's propagation delay): how long after D the group is encrypted, within the
 * enforce function's deadline, and with how many calls (the enforce function's; the key check's are apart).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_SETTINGS } from '../../../functions/core/clients.ts';
import { type GuardConfig, loadConfig } from '../../../functions/core/config.ts';
import { enforceLogGroup } from '../../../functions/core/enforce.ts';
import { clearKeyCache, createKeyCache, ensureKey, keyContext } from '../../../functions/core/key.ts';
import { keyCreator } from '../../../functions/core/key-create.ts';
import { silentLog } from '../../../functions/core/log.ts';
import { scaledClock } from '../../../local/clock.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { ACCOUNT, REGION, sdkClients } from '../../../local/world.ts';
import { byOperation, callsSince } from '../api-calls.ts';
import type { BenchArgs } from '../args.ts';
import { root } from '../rig.ts';
import { PROPAGATION_DELAY_MS, PROPAGATION_SCALE } from '../settings.ts';
import { enforceTimeoutSeconds, type Figure, formatCounts, spread } from '../stats.ts';

/** One first event on a fresh region with no key: scaled ms to encrypted, and its calls. */
async function propagationRun(run: number, config: GuardConfig, budgetMs: number) {
  const T = PROPAGATION_SCALE;
  const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: PROPAGATION_DELAY_MS });
  try {
    const name = `/aws/lambda/first-${run}`;
    emulator.state.putLogGroup(REGION, name);
    clearKeyCache();
    const clock = scaledClock(T);
    const clients = sdkClients(emulator, REGION, CLIENT_SETTINGS);
    const started = clock.now();
    // No key yet: the changes function's key check creates it (its own container: its own cache), and
    // CloudWatch Logs sees it D later; the event reaches the enforce function right after.
    await ensureKey({
      clients,
      config,
      ctx: keyContext(config, REGION, ACCOUNT),
      log: silentLog,
      clock,
      deadline: started + budgetMs,
      cache: createKeyCache(),
      creator: keyCreator,
    });
    const from = emulator.calls.length;
    const result = await enforceLogGroup(
      { name, region: REGION, account: ACCOUNT },
      { clients, config, log: silentLog, deadline: clock.now() + budgetMs, clock },
    );
    const elapsed = clock.now() - started;
    if (result.outcome !== 'encrypted')
      throw new Error(`propagation run ${run}: ${result.outcome} ${result.reason}`);
    const calls = callsSince(emulator, from);
    return { elapsed, calls: calls.length, ops: byOperation(calls) };
  } finally {
    await emulator.stop();
  }
}

/** 6. Propagation: the first event of a region, where the guard creates the key and Logs sees it D later. */
export async function propagationFigures(args: BenchArgs, log: (line: string) => void): Promise<Figure[]> {
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
    const r = await propagationRun(run, config, budgetMs);
    times.push(r.elapsed);
    callCounts.push(r.calls);
    ops.push(r.ops);
    log(
      `  propagation run ${run + 1}/${args.propagationRuns}: ${(r.elapsed / 1000).toFixed(2)} scaled s, ${r.calls} calls`,
    );
  }
  const t = spread(times);
  const late = spread(times.map((x) => (x - D) / 1000));
  const c = spread(callCounts);
  const setup = `D = ${D / 1000} s ×${T}, guard clock ×${T}, deadline ${budgetMs / 1000} s (timeout ${timeoutS} s − ${config.deadlineMarginMs / 1000} s margin)`;
  return [
    {
      id: 'propagation',
      name: `propagation: key created, first event to encrypted (D = ${D / 1000} s)`,
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
