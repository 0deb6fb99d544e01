/**
 * The sweep's lease under a squatter, through the real SDK against the emulator (local/world.ts): someone
 * who may create log streams in the sweep's log group adds streams named like a run's. While they could be a
 * run of this sweep, a scheduled run yields to them (as to any earlier run); once they are more than a run can
 * be (more streams than SWEEP_MAX_INVOCATIONS), the scheduled run holds the lease, sweeps and completes. The
 * age bound (the longest possible run) is in lease.test.ts on a fake clock: the emulator stamps streams with
 * the wall clock.
 */
import { CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/core/config.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import { LEASE_PREFIX } from '../../../functions/core/sweep/lease.ts';
import { runSweepInvocation, type SweepInvocationDeps } from '../../../functions/core/sweep/run.ts';
import { loadSweepSettings } from '../../../functions/core/sweep/settings.ts';
import { startWorld, type World } from '../../../local/world.ts';
import { memoryLog } from '../../helpers.ts';

const SWEEP_GROUP = '/aws/lambda/logs-kms-guard-prod-sweep';
let world: World;

describe('the sweep lease under a squatter (emulator)', () => {
  beforeAll(async () => {
    clearKeyCache();
    // IAM as deployed: the deployment's key check (world.deployKey) runs the changes bundle as its role
    world = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 }, iam: true });
    world.emulator.state.putLogGroup(world.region, SWEEP_GROUP);
    for (let i = 0; i < 5; i++) world.emulator.state.putLogGroup(world.region, `/svc/${i}`);
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('a squatter is believed only while it could be a run; past SWEEP_MAX_INVOCATIONS streams it is ignored', async () => {
    // Prepare: runs of at most 3 invocations; a squatter's run with 3 streams (what a run can be). A deployed
    // stack: the guard key exists (the deployment's key check); the sweep creates none
    const env = { SWEEP_MAX_INVOCATIONS: '3' };
    await world.deployKey(env);
    const completed: string[] = [];
    const yielded: string[] = [];
    const deps: SweepInvocationDeps = {
      config: loadConfig(env),
      settings: loadSweepSettings(env),
      clients: world.clients(),
      sqs: { send: async () => ({}) } as never,
      lambda: { send: async () => ({}) } as never,
      log: memoryLog(),
      region: world.region,
      account: world.account,
      functionArn: `arn:aws:lambda:${world.region}:${world.account}:function:logs-kms-guard-prod-sweep`,
      remainingMs: 600_000,
      lease: { logs: world.logs, logGroupName: SWEEP_GROUP },
      onYield: (holder) => yielded.push(holder),
      onComplete: (runId) => completed.push(runId),
    };
    const squat = (n: number) =>
      world.logs.send(
        new CreateLogStreamCommand({
          logGroupName: SWEEP_GROUP,
          logStreamName: `${LEASE_PREFIX}0000-squat/${String(n).padStart(5, '0')}`,
        }),
      );
    for (let n = 1; n <= 3; n++) await squat(n);

    // Act: a scheduled run while the squatter could be a run; then the squatter adds a fourth stream
    const first = await runSweepInvocation({}, deps);
    await squat(4);
    const second = await runSweepInvocation({}, deps);

    // Assess: the first yielded (nothing swept), the second held the lease, swept and completed
    expect(first.yieldedTo).toBe('0000-squat');
    expect(first.counts.listed).toBe(0);
    expect(yielded).toEqual(['0000-squat']);
    expect(second.yieldedTo).toBeUndefined();
    expect(second.done).toBe(true);
    expect(second.counts.encrypted).toBe(6); // the five and the sweep's own group
    expect(completed).toEqual([second.runId]);
  }, 60_000);
});
