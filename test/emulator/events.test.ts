import { readFileSync } from 'node:fs';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, setup, sleep } from './helpers.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../events/${name}`, import.meta.url), 'utf8'));
type TrailEvent = { id: string; detail: Record<string, any> } & Record<string, any>;

/** Collects what a listener receives. */
function collect(emulator: { onEvent(l: (e: unknown) => void): () => void }) {
  const events: TrailEvent[] = [];
  const unsubscribe = emulator.onEvent((e) => events.push(e as TrailEvent));
  return { events, unsubscribe };
}

describe('CloudTrail CreateLogGroup events', () => {
  it('has the shape of the recorded events, for a success and for a failure', async () => {
    // Prepare
    const { logs, emulator } = await setup({}, 'eu-west-1');
    const { events } = collect(emulator);
    const keyArn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0b0b0b0b-1111-2222-3333-444455556666`;
    // Act
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/checkout', tags: { team: 'a' } }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/checkout' })).catch(() => {});
    await logs
      .send(new CreateLogGroupCommand({ logGroupName: '/ecs/enc', kmsKeyId: keyArn }))
      .catch(() => {});
    await sleep(50);
    // Assess
    const ok = fixture('create-log-group-ecs-cli.json');
    const failed = fixture('create-log-group-failed-already-exists.json');
    expect(events).toHaveLength(3);
    const [created, exists, badKey] = events as [TrailEvent, TrailEvent, TrailEvent];
    expect(Object.keys(created).sort()).toEqual(Object.keys(ok).sort());
    const { tlsDetails: _tls, ...okDetail } = ok.detail;
    expect(Object.keys(created.detail).sort()).toEqual(Object.keys(okDetail).sort());
    expect(Object.keys(exists.detail).sort()).toEqual(Object.keys(failed.detail).sort());
    expect(created).toMatchObject({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.logs',
      account: ACCOUNT,
      region: 'eu-west-1',
      resources: [],
      detail: {
        eventSource: 'logs.amazonaws.com',
        eventName: 'CreateLogGroup',
        awsRegion: 'eu-west-1',
        recipientAccountId: ACCOUNT,
        requestParameters: { logGroupName: '/ecs/checkout', tags: { team: 'a' } },
        responseElements: null,
        userIdentity: { accessKeyId: 'test', accountId: ACCOUNT },
      },
    });
    expect(created.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(created.time) - Date.now())).toBeLessThan(5_000);
    expect(created.detail.errorCode).toBeUndefined();
    expect(exists.detail).toMatchObject({
      errorCode: 'ResourceAlreadyExistsException',
      errorMessage: 'The specified log group already exists',
    });
    expect(badKey.detail).toMatchObject({
      errorCode: 'InvalidParameterException',
      requestParameters: { logGroupName: '/ecs/enc', kmsKeyId: keyArn },
    });
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    expect(new Set(events.map((e) => e.detail.eventID)).size).toBe(3);
  });

  it('emits events for throttled calls too, with errorCode ThrottlingException', async () => {
    // Prepare
    const { logs, emulator } = await setup({ quotas: { CreateLogGroup: 1 } });
    const { events } = collect(emulator);
    // Act
    await Promise.allSettled(
      [1, 2].map((i) => logs.send(new CreateLogGroupCommand({ logGroupName: `t${i}` }))),
    );
    await sleep(50);
    // Assess
    expect(events.map((e) => e.detail.errorCode ?? 'ok').sort()).toEqual(['ThrottlingException', 'ok']);
  });

  it('delivers after delayMs / timeScale; unsubscribe stops delivery', async () => {
    // Prepare: 2 s at time scale 10 = 200 ms
    const { logs, emulator } = await setup({ timeScale: 10, events: { delayMs: 2_000 } });
    const { events, unsubscribe } = collect(emulator);
    const other = collect(emulator);
    other.unsubscribe();
    // Act
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'late' }));
    await sleep(80);
    const early = events.length;
    await sleep(250);
    const later = events.length;
    unsubscribe();
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'unheard' }));
    await sleep(300);
    // Assess
    expect(early).toBe(0);
    expect(later).toBe(1);
    expect(events).toHaveLength(1);
    expect(other.events).toHaveLength(0);
  });

  it('duplicates every event at duplicateRate 1 (same event id), loses all at lossRate 1', async () => {
    // Prepare
    const dup = await setup({ throttle: false, events: { duplicateRate: 1 } });
    const lost = await setup({ throttle: false, events: { lossRate: 1 } });
    const d = collect(dup.emulator);
    const l = collect(lost.emulator);
    // Act
    for (const name of ['a', 'b', 'c']) {
      await dup.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
      await lost.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    }
    await sleep(100);
    // Assess
    expect(d.events).toHaveLength(6);
    expect(new Set(d.events.map((e) => e.id)).size).toBe(3);
    expect(l.events).toHaveLength(0);
    expect(lost.emulator.state.logGroups('us-east-1')).toHaveLength(3);
  });

  it('partial loss and duplication are deterministic for a seed', async () => {
    // Prepare
    const run = async (seed: number) => {
      const { logs, emulator } = await setup({
        throttle: false,
        seed,
        events: { lossRate: 0.3, duplicateRate: 0.3 },
      });
      const { events } = collect(emulator);
      for (let i = 0; i < 30; i++) await logs.send(new CreateLogGroupCommand({ logGroupName: `g${i}` }));
      await sleep(100);
      return events.map((e) => e.detail.requestParameters.logGroupName as string).sort();
    };
    // Act
    const a = await run(5);
    const b = await run(5);
    // Assess
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeLessThan(30);
    expect(a.length).toBeGreaterThan(new Set(a).size);
  });
});
