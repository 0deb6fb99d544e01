/**
 * The scale section's region: one emulator holding `groups` log groups (up to the account maximum, 1,000,000),
 * seeded in bulk, one in `every` unencrypted, with the heap they take measured after a full GC; and its queue
 * and sweep function, which the sweep runs (scripts/bench/scale/sweep-run.ts) use.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Emulator, InterceptedRequest, Interception } from '../../../local/emulator/emulator.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { REGION, sdkClients } from '../../../local/world.ts';
import { guardKey } from '../rig.ts';
import type { ScaleArgs } from './args.ts';
import { MB, SWEEP_FUNCTION } from './settings.ts';

/**
 * `/aws/lambda/svc-042/fn-0042123`-like names in name order, as flat strings (what JSON-parsed requests hold):
 * the i-th name sorts i-th, so one group in `every` unencrypted is spread evenly over the listing.
 */
function* groupNames(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    const name = `/aws/lambda/svc-${String(Math.floor(i / 1000)).padStart(4, '0')}/fn-${String(i).padStart(7, '0')}`;
    yield Buffer.from(name, 'latin1').toString('latin1');
  }
}

/** A full GC in this process (the bench is not started with --expose-gc). */
const gc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** The seeded region and what seeding it cost. */
export interface Region {
  emulator: Emulator;
  /** What answers the emulator's `intercept` (the failure run's injected SQS errors). */
  hook: { intercept?: ((req: InterceptedRequest) => Interception | undefined) | undefined };
  groups: number;
  unencrypted: Set<string>;
  queueUrl: string;
  seedMs: number;
  /** Heap the groups take in the emulator (names included), after a full GC; and with the name index. */
  groupsHeapMb: number;
  indexedHeapMb: number;
  indexMs: number;
}

/** One region of `groups` log groups (every `every`-th unencrypted, the rest on another key), seeded in bulk. */
export async function scaleRegion(s: ScaleArgs, log: (line: string) => void): Promise<Region> {
  const hook: Region['hook'] = {};
  const emulator = await startEmulator({
    port: 0,
    timeScale: s.timeScale,
    propagationDelayMs: 0,
    intercept: (req) => hook.intercept?.(req),
  });
  const key = await guardKey(emulator);
  const other = emulator.state.createKeyDirect(REGION, {}).arn;
  const unencrypted = new Set<string>();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const put = emulator.state.putLogGroups(REGION, groupNames(s.groups), (name, i) => {
    if (i % s.every !== 0) return { kmsKeyId: other };
    unencrypted.add(name);
    return undefined;
  });
  const seedMs = performance.now() - t0;
  // The sweep function's own group (its lease's streams), on the guard key: not a candidate.
  emulator.state.putLogGroup(REGION, `/aws/lambda/${SWEEP_FUNCTION}`, { kmsKeyId: key.arn });
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  // The index is built at the first listing after the bulk load: here, not in the timed run.
  const t1 = performance.now();
  await sdkClients(emulator).logs.send(new DescribeLogGroupsCommand({ limit: 1 }));
  const first = put + 1;
  const indexMs = performance.now() - t1;
  gc();
  const heap2 = process.memoryUsage().heapUsed;
  const queue = emulator.state.createQueue(REGION, 'logs-kms-guard-bench-EnforceQueue');
  emulator.state.createFunction(REGION, SWEEP_FUNCTION);
  log(
    `  seeded ${first.toLocaleString('en-US')} groups in ${(seedMs / 1000).toFixed(1)} s ` +
      `(${((heap1 - heap0) / MB).toFixed(0)} MB of heap, ${((heap2 - heap0) / MB).toFixed(0)} MB with the index)`,
  );
  return {
    emulator,
    hook,
    groups: first,
    unencrypted,
    queueUrl: queue.localUrl,
    seedMs,
    groupsHeapMb: (heap1 - heap0) / MB,
    indexedHeapMb: (heap2 - heap0) / MB,
    indexMs,
  };
}
