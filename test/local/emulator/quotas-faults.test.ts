/**
 * The emulator's request quotas (local/emulator/quota.ts) and fault injection through the real SDK:
 * throttling beyond the quota, per region, overridable; injected 503/400 errors, deterministic per seed,
 * changing nothing.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { credentials } from '../../../local/world.ts';
import { sleep } from '../../helpers.ts';
import { rejection, setup } from './helpers.ts';

const settle = (promises: Promise<unknown>[]) =>
  Promise.allSettled(promises).then((rs) =>
    rs.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name)),
  );

describe('quotas', () => {
  it('DescribeLogGroups: a burst of 10 passes, beyond it ThrottlingException "Rate exceeded"', async () => {
    // Prepare
    const { logs, emulator } = await setup();
    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => logs.send(new DescribeLogGroupsCommand({}))),
    );
    // Assess
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(results.length - errors.length).toBeGreaterThanOrEqual(10);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    for (const err of errors) {
      expect(err).toBeInstanceOf(ThrottlingException);
      expect(err.message).toBe('Rate exceeded');
    }
    expect(emulator.calls.filter((c) => c.error === 'ThrottlingException')).toHaveLength(errors.length);
  });

  it('AssociateKmsKey at 5 TPS: calls paced below the quota are never throttled', async () => {
    // Prepare: time scale 10 makes the quota 50 TPS; pace at 25 TPS
    const { logs, emulator } = await setup({ timeScale: 10 });
    // Act
    const outcomes: string[] = [];
    for (let i = 0; i < 30; i++) {
      outcomes.push(
        (await rejection(logs.send(new AssociateKmsKeyCommand({ logGroupName: 'missing', kmsKeyId: 'x' }))))
          .name,
      );
      await sleep(40);
    }
    // The burst at the real quota (5 TPS, time scale 1): 80 calls sent at once must meet it even when a loaded
    // machine spreads them over seconds (at ×10 a slow machine let the bucket refill and only 16 were throttled).
    const real = await setup({ timeScale: 1 });
    const burst = await settle(
      Array.from({ length: 80 }, () =>
        real.logs.send(new AssociateKmsKeyCommand({ logGroupName: 'missing', kmsKeyId: 'x' })),
      ),
    );
    // Assess
    expect(new Set(outcomes)).toEqual(new Set(['ResourceNotFoundException']));
    expect(burst.filter((o) => o === 'ThrottlingException').length).toBeGreaterThanOrEqual(20);
    expect(emulator.calls.filter((c) => c.operation === 'AssociateKmsKey')).toHaveLength(30);
    expect(real.emulator.calls.filter((c) => c.operation === 'AssociateKmsKey')).toHaveLength(80);
  });

  it('quotas are per region and can be overridden; throttle:false turns them off', async () => {
    // Prepare
    const east = await setup({ quotas: { CreateLogGroup: 2 } });
    const westOnEast = new CloudWatchLogsClient({
      region: 'eu-west-1',
      endpoint: east.emulator.endpoint,
      credentials,
      maxAttempts: 1,
    });
    const off = await setup({ throttle: false });
    // Act
    const e = await settle(
      [1, 2, 3].map((i) => east.logs.send(new CreateLogGroupCommand({ logGroupName: `g${i}` }))),
    );
    const w = await settle(
      [1, 2].map((i) => westOnEast.send(new CreateLogGroupCommand({ logGroupName: `g${i}` }))),
    );
    const o = await settle(Array.from({ length: 40 }, () => off.logs.send(new DescribeLogGroupsCommand({}))));
    // Assess
    expect(e.filter((x) => x === 'ThrottlingException')).toHaveLength(1);
    expect(w).toEqual(['ok', 'ok']);
    expect(o.every((x) => x === 'ok')).toBe(true);
    expect(east.emulator.state.logGroups('eu-west-1').map((g) => g.name)).toEqual(['g1', 'g2']);
  });

  it('KMS throttles with ThrottlingException too (CreateKey 5 TPS)', async () => {
    // Prepare
    const { kms } = await setup();
    // Act
    const outcomes = await settle(Array.from({ length: 20 }, () => kms.send(new CreateKeyCommand({}))));
    const reads = await settle(
      Array.from({ length: 20 }, () => kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' }))),
    );
    // Assess
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(5);
    expect(outcomes.filter((o) => o === 'ThrottlingException').length).toBeGreaterThanOrEqual(5);
    expect(new Set(reads)).toEqual(new Set(['NotFoundException']));
  });
});

describe('fault injection', () => {
  async function run(seed: number) {
    const { logs, emulator } = await setup({ throttle: false, faultRate: 0.3, seed });
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      outcomes.push(
        await logs.send(new CreateLogGroupCommand({ logGroupName: `g${i}` })).then(
          () => 'ok',
          (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
            `${err.name}/${err.$metadata?.httpStatusCode}`,
        ),
      );
    }
    const reads = await settle(Array.from({ length: 20 }, () => logs.send(new DescribeLogGroupsCommand({}))));
    return { outcomes, reads, emulator };
  }

  it('injects ServiceUnavailableException (503) and OperationAbortedException (400), deterministically per seed', async () => {
    // Prepare / Act
    const a = await run(42);
    const b = await run(42);
    const c = await run(7);
    // Assess
    expect(a.outcomes).toEqual(b.outcomes);
    expect(a.outcomes).not.toEqual(c.outcomes);
    expect(new Set(a.outcomes)).toEqual(
      new Set(['ok', 'ServiceUnavailableException/503', 'OperationAbortedException/400']),
    );
    const faults = a.outcomes.filter((o) => o !== 'ok').length;
    expect(faults).toBeGreaterThan(4);
    expect(faults).toBeLessThan(24);
    expect(a.reads.every((r) => r === 'ok')).toBe(true);
    // A faulted call changes nothing.
    expect(a.emulator.state.logGroups('us-east-1')).toHaveLength(40 - faults);
    expect(a.emulator.calls.filter((x) => x.error).map((x) => x.error)).toEqual(
      a.outcomes.filter((o) => o !== 'ok').map((o) => o.split('/')[0]),
    );
  });
});
