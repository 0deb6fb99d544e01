/**
 * functions/core/sweep/run.ts through the real SDK against the emulator (local/world.ts), at a time-scaled
 * quota: the sweep Lambda's direct mode (no queue), a scheduled invocation and the continuations it asks
 * for. The mock-based cases, queue mode included, are in run.test.ts.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/core/config.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import { runSweepInvocation } from '../../../functions/core/sweep/run.ts';
import { loadSweepSettings } from '../../../functions/core/sweep/settings.ts';
import { scaledClock } from '../../../local/clock.ts';
import { credentials, startWorld, type World } from '../../../local/world.ts';
import { memoryLog } from '../../helpers.ts';

const SCALE = 100;
const REGION = 'eu-west-1';
let world: World;
let emu: World['emulator'];

describe('sweep Lambda end to end (emulator)', () => {
  beforeAll(async () => {
    clearKeyCache();
    world = await startWorld({
      emulator: { timeScale: SCALE, propagationDelayMs: 3000, throttle: true },
      region: REGION,
      // IAM as deployed: the deployment's key check (world.deployKey) runs the changes bundle as its role
      iam: true,
    });
    emu = world.emulator;
    const other = emu.state.createKeyDirect(REGION, {}).arn;
    for (let i = 0; i < 3_000; i++) {
      const n = String(i).padStart(4, '0');
      if (i % 3 === 0) emu.state.putLogGroup(REGION, `/svc/${n}`);
      else if (i % 3 === 1) emu.state.putLogGroup(REGION, `/owned/${n}`, { kmsKeyId: other });
      else emu.state.putLogGroup(REGION, `/aws-controltower/${n}`);
    }
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('encrypts the in-scope gaps across continuations, once each, without throttling', async () => {
    // Prepare: a deployed stack, so the guard key exists (the deployment's GuardKeyReady, a key check of the
    // changes function); the sweep creates no key (it passes no key creator)
    const env = { EXCLUDE_LOG_GROUPS: '/aws-controltower/' };
    const guardKey = await world.deployKey(env);
    const opts = { region: REGION, endpoint: emu.endpoint, credentials };
    const clock = scaledClock(SCALE);
    const invokes: unknown[] = [];
    const deps = {
      config: loadConfig(env),
      settings: loadSweepSettings(env),
      clients: world.clients(),
      sqs: new SQSClient(opts),
      lambda: {
        send: async (cmd: { input: { Payload?: Uint8Array } }) => void invokes.push(cmd.input),
      } as never,
      log: memoryLog(),
      region: REGION,
      account: emu.account,
      functionArn: `arn:aws:lambda:${REGION}:${emu.account}:function:sweep`,
      // In scaled time: enough for a few pages per invocation, not for the whole run.
      remainingMs: 3_000 + 5_000 + 60_000 + 40_000,
      clock,
    };
    // Act: the scheduled invocation, then each continuation it asks for.
    let event: unknown = {};
    let result = await runSweepInvocation(event, deps);
    let continuations = 0;
    while (!result.done && continuations < 50) {
      const payload = (invokes.at(-1) as { Payload: Uint8Array }).Payload;
      event = JSON.parse(new TextDecoder().decode(payload));
      result = await runSweepInvocation(event, deps);
      continuations++;
    }
    // Assess
    expect(result.done).toBe(true);
    expect(continuations).toBeGreaterThan(0);
    expect(result.counts.encrypted).toBe(1_000);
    expect(emu.calls.filter((c) => c.operation === 'AssociateKmsKey' && !c.error)).toHaveLength(1_000);
    expect(emu.calls.filter((c) => /Throttl/.test(c.error ?? ''))).toEqual([]);
    const key = emu.state.key(REGION, 'alias/logs-kms-guard');
    expect(key?.arn).toBe(guardKey);
    for (const g of emu.state.logGroups(REGION)) {
      if (g.name.startsWith('/svc/')) expect(g.kmsKeyId).toBe(key?.arn);
      if (g.name.startsWith('/aws-controltower/')) expect(g.kmsKeyId).toBeUndefined();
      if (g.name.startsWith('/owned/')) expect(g.kmsKeyId).not.toBe(key?.arn);
    }
  }, 120_000);
});
