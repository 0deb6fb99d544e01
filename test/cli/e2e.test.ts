import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import type { Clock } from '../../functions/core/retry.ts';
import { type Emulator, startEmulator } from '../../local/emulator/index.ts';
import { testIo } from './helpers.ts';

// End to end against the local emulator at a time-scaled quota: the CLI's pacing runs on a clock just as
// much faster as the emulator's quotas, so a 10,000-group backfill takes seconds and must still never throttle.
const SCALE = 100;
const REGION = 'us-east-1';

function scaledClock(scale: number): Clock {
  const t0 = Date.now();
  return {
    now: () => t0 + (Date.now() - t0) * scale,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / scale)),
  };
}

let emu: Emulator;
let otherKey: string;
const snapshot = () =>
  JSON.stringify({
    groups: emu.state.logGroups(REGION).map((g) => [g.name, g.kmsKeyId ?? null, g.tags]),
    keys: emu.state.keys(REGION).map((k) => [k.arn, k.state, k.policy, k.aliases, k.rotation]),
  });
const associations = () => emu.calls.filter((c) => c.operation === 'AssociateKmsKey' && !c.error).length;
const throttles = () => emu.calls.filter((c) => /Throttl/.test(c.error ?? '')).length;

function cli(extra: Parameters<typeof testIo>[0] = {}) {
  return testIo({
    clients: defaultClientFactory({
      endpoint: emu.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
    clock: scaledClock(SCALE),
    env: { AWS_REGION: REGION },
    ...extra,
  });
}

describe('CLI end to end (emulator, 10,000 log groups)', () => {
  beforeAll(async () => {
    clearKeyCache();
    emu = await startEmulator({ port: 0, timeScale: SCALE, propagationDelayMs: 3000, throttle: true });
    otherKey = emu.state.createKeyDirect(REGION, {}).arn;
    // 10,000 groups: 2,000 unencrypted in scope, 7,000 on another key, 500 excluded by name, 500 tagged to skip.
    for (let i = 0; i < 10_000; i++) {
      const n = String(i).padStart(5, '0');
      if (i % 5 === 0) emu.state.putLogGroup(REGION, `/app/${n}`);
      else if (i % 20 === 1) emu.state.putLogGroup(REGION, `/legacy/${n}`);
      else if (i % 20 === 2)
        emu.state.putLogGroup(REGION, `/tagged/${n}`, { tags: { 'logs-kms-guard:skip': 'true' } });
      else emu.state.putLogGroup(REGION, `/owned/${n}`, { kmsKeyId: otherKey });
    }
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('audit finds the 2,000 gaps and exits 1', async () => {
    const t = cli();
    const code = await run(['audit', '--json', '--exclude', '/legacy/'], t.io);
    expect(code).toBe(1);
    const report = JSON.parse(t.stdout());
    expect(report.totals).toMatchObject({ listed: 10_000, candidates: 2_000, noKey: 3_000, otherKey: 7_000 });
  }, 60_000);

  it('a dry run changes nothing', async () => {
    const before = snapshot();
    const calls = emu.calls.length;
    const t = cli();
    const code = await run(['enforce', '--dry-run', '--json', '--exclude', '/legacy/'], t.io);
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout()).totals.wouldEncrypt).toBe(2_000);
    expect(snapshot()).toBe(before);
    const mutating = emu.calls.slice(calls).filter((c) => !/^(Describe|List|Get)/.test(c.operation));
    expect(mutating).toEqual([]);
  }, 60_000);

  it('enforce, interrupted and resumed, encrypts each gap exactly once with no throttling and touches nothing else', async () => {
    // Prepare
    const before = new Map(emu.state.logGroups(REGION).map((g) => [g.name, g.kmsKeyId]));
    const controller = new AbortController();
    const watch = setInterval(() => {
      if (associations() >= 700) controller.abort();
    }, 5);
    const t = cli({ signal: controller.signal });
    // Act
    const first = await run(['enforce', '--yes', '--exclude', '/legacy/', '--rate', '5'], t.io);
    clearInterval(watch);
    // Assess
    expect(first).toBe(130);
    const token = /--resume-token (\S+)/.exec(t.stderr())?.[1];
    expect(token).toBeDefined();
    expect(associations()).toBeLessThan(2_000);
    // Act: resume.
    const t2 = cli();
    const second = await run(
      ['enforce', '--yes', '--json', '--exclude', '/legacy/', '--resume-token', token ?? ''],
      t2.io,
    );
    // Assess
    expect(second).toBe(0);
    expect(associations()).toBe(2_000);
    expect(throttles()).toBe(0);
    const guardKey = emu.state.key(REGION, 'alias/logs-kms-guard');
    expect(guardKey?.state).toBe('Enabled');
    for (const g of emu.state.logGroups(REGION)) {
      if (g.name.startsWith('/app/')) expect(g.kmsKeyId).toBe(guardKey?.arn);
      else expect(g.kmsKeyId).toBe(before.get(g.name));
    }
    // And the audit now passes.
    const t3 = cli();
    expect(await run(['audit', '--json', '--exclude', '/legacy/'], t3.io)).toBe(0);
  }, 120_000);

  it('doctor reports the key as ready and the AWS-only services as unchecked', async () => {
    const t = cli();
    await run(['doctor', '--json'], t.io);
    const checks = JSON.parse(t.stdout()).checks as { check: string; status: string }[];
    expect(checks.find((c) => c.check === 'key')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'key policy')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'key rotation')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'cloudtrail')?.status).toBe('warn');
  }, 60_000);

  it('rollback disassociates only the guard key and keeps the key', async () => {
    const t = cli();
    const code = await run(['rollback', '--yes', '--json'], t.io);
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout()).totals.disassociated).toBe(2_000);
    expect(throttles()).toBe(0);
    const guardKey = emu.state.key(REGION, 'alias/logs-kms-guard');
    expect(guardKey?.state).toBe('Enabled');
    for (const g of emu.state.logGroups(REGION)) {
      if (g.name.startsWith('/owned/')) expect(g.kmsKeyId).toBe(otherKey);
      else expect(g.kmsKeyId).toBeUndefined();
    }
  }, 120_000);
});
