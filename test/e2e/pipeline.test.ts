/**
 * The built dist/enforce.mjs (and dist/changes.mjs, for what the template routes to it) behind LocalPipeline (the
 * local queue and Lambda containers) against the emulator, in a stack whose deployment made the guard key (its key
 * check: the enforce function creates none): a throttled burst of 200 first events, and every event the emulator
 * emits for groups created through the SDK.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { GUARD_ALIAS } from '../../local/world.ts';
import { logsStatement, policyOf, rootStatement, until } from '../helpers.ts';
import { callsOf, createEvent, guardKeys, startPipeline, startWorld, succeeded } from './helpers.ts';

describe('burst of 200 first events under throttling (LocalPipeline, dist/enforce.mjs, emulator)', () => {
  it('encrypts every group, fails no record, and absorbs every ThrottlingException', async () => {
    // Prepare: real quotas × 20, a freshly deployed stack (its key check made the key), 4 containers each pacing
    // AssociateKmsKey at the deployed ASSOCIATE_RATE (2) × 20: 160 calls/s wanted against a quota of 50
    // (below), so Logs throttles. A failed record would come back after 2 s; none may.
    const TIME_SCALE = 20;
    const GROUPS = 200;
    // AssociateKmsKey's quota at half the real 5 TPS here: on a loaded machine the emulator's own speed (IAM
    // included) can keep 160 calls/s from ever reaching 100/s, and this test is about absorbing throttles.
    // Besides the quota, every 7th AssociateKmsKey is answered ThrottlingException, so the test meets throttles
    // however fast the machine is (the pacers' dither and a loaded machine can keep the quota from biting).
    let associations = 0;
    const world = await startWorld({
      timeScale: TIME_SCALE,
      propagationDelayMs: 3_000,
      throttle: true,
      quotas: { AssociateKmsKey: 2.5 },
      intercept: (r) =>
        r.operation === 'AssociateKmsKey' && ++associations % 7 === 0
          ? { kind: 'error', name: 'ThrottlingException', message: 'Rate exceeded', status: 400 }
          : undefined,
    });
    const names = Array.from({ length: GROUPS }, (_, i) => `/aws/lambda/burst-${String(i).padStart(3, '0')}`);
    for (const name of names) world.emulator.state.putLogGroup(world.region, name);
    const deployed = await world.deployKey({ ASSOCIATE_RATE: String(2 * TIME_SCALE) });
    const receives: boolean[] = [];
    const pipeline = await startPipeline(world, {
      concurrency: 4,
      batchSize: 10,
      // Longer than any invocation here (backoff sleeps are real time, and CI machines are loaded): a record
      // is only delivered again after it failed, so each record is counted once, as the test expects.
      visibilityTimeoutMs: 20_000,
      maxReceiveCount: 3,
      env: { ASSOCIATE_RATE: String(2 * TIME_SCALE) },
      onResult: ({ ok }) => receives.push(ok),
    });

    // Act
    for (const name of names) pipeline.send(createEvent(world, name));
    const drained = await pipeline.drain(25_000);

    // Assess: ground truth first, then every delivery's fate.
    expect(drained).toBe(true);
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(key?.state).toBe('Enabled');
    expect(key?.arn).toBe(deployed);
    const unencrypted = names.filter(
      (n) => world.emulator.state.logGroup(world.region, n)?.kmsKeyId !== key?.arn,
    );
    expect(unencrypted).toEqual([]);
    expect(pipeline.dlq).toEqual([]);
    expect(receives.filter((ok) => !ok)).toEqual([]);
    expect(receives).toHaveLength(GROUPS);
    // One live key, the deployment's: the events made none (the enforce function creates no key).
    expect(world.emulator.state.keys(world.region).filter((k) => k.state === 'Enabled')).toHaveLength(1);
    expect(guardKeys(world).map((k) => k.arn)).toEqual([deployed]);
    expect(succeeded(world.emulator, 'CreateKey')).toHaveLength(1);
    expect(succeeded(world.emulator, 'AssociateKmsKey')).toHaveLength(GROUPS);
    const throttled = world.emulator.calls.filter((c) => c.error === 'ThrottlingException');
    const byOperation: Record<string, number> = {};
    for (const c of throttled) byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
    // The figure for the report (throttles may occur; none may surface as a failure).
    console.info(
      `burst: ${GROUPS} groups, ${world.emulator.calls.length} API calls, ${throttled.length} ThrottlingException ${JSON.stringify(byOperation)}, ${pipeline.invocations} invocations, ${guardKeys(world).length} key(s) created`,
    );
    expect(throttled.length).toBeGreaterThan(0);
    expect(world.output.metrics()).toMatchObject({ Encrypted: GROUPS });
    expect(world.output.metrics().Failed).toBeUndefined();
  });
});

describe('the whole path: groups created through the SDK, their emitted events, the handler', () => {
  it('every event the emulator emits is handled as its group requires', async () => {
    // Prepare: a freshly deployed stack (its key check made the guard key while the rules were already on:
    // the key's own events are delivered and handled too); the emulator's CloudTrail events go to the local
    // queue as EventBridge's SQS target would send them; one owner key exists for the group created with its
    // own key.
    const world = await startWorld(
      { timeScale: 10, propagationDelayMs: 3_000, throttle: true, events: { delayMs: 500 } },
      'eu-west-1',
    );
    const ownKey = world.emulator.state.createKeyDirect(world.region, {
      policy: policyOf(rootStatement(world.account), logsStatement(world.region, world.account)),
    });
    const pipeline = await startPipeline(world, {
      concurrency: 2,
      // Longer than any invocation here (backoff sleeps are real time, and CI machines are loaded): a record
      // is only delivered again after it failed, so each record is counted once, as the test expects.
      visibilityTimeoutMs: 20_000,
      maxReceiveCount: 3,
      env: { EXCLUDE_LOG_GROUPS: '/sandbox/', ASSOCIATE_RATE: String(25) },
    });
    const events: Record<string, any>[] = [];
    const emitted: Record<string, any>[] = [];
    world.emulator.onEvent((event) => emitted.push(event as Record<string, any>));
    world.onDelivered((event) => {
      events.push(event as Record<string, any>);
      pipeline.send(event);
    });
    const deployed = await world.deployKey({ EXCLUDE_LOG_GROUPS: '/sandbox/', ASSOCIATE_RATE: String(25) });
    const keyChecks = world.output.decisions().map((d) => d.eventId);
    const encrypt = [
      '/aws/lambda/orders-api',
      '/aws/lambda/payments-worker',
      '/ecs/checkout-service',
      'inventory-prod-ApiAccessLogs-1A2B3C4D5E6F',
      '/aws/codebuild/catalog-build',
      'API-Gateway-Execution-Logs_a1b2c3d4e5/prod',
      '/aws/rds/instance/billing-db/postgresql',
      '/aws/vendedlogs/states/reports-machine',
    ];

    // Act: groups created the way workloads create them, plus a failed call (the group already exists).
    for (const name of encrypt) await world.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: '/sandbox/scratch-pad' }));
    await world.logs.send(
      new CreateLogGroupCommand({
        logGroupName: '/aws/lambda/legacy-cron',
        tags: { 'logs-kms-guard:skip': 'true' },
      }),
    );
    await world.logs.send(
      new CreateLogGroupCommand({ logGroupName: '/platform/audit', kmsKeyId: ownKey.arn }),
    );
    await expect(
      world.logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/orders-api' })),
    ).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    // Every successful create call's event, delivered (the failed call's is emitted, not delivered); the key's
    // own events (its creation by the key check) are counted apart.
    const deliveredCount = encrypt.length + 3;
    const creates = (list: Record<string, any>[]) =>
      list.filter((e) => e.detail.eventName === 'CreateLogGroup').length;
    expect(
      await until(() => creates(events) === deliveredCount && creates(emitted) >= deliveredCount + 1, 5_000),
    ).toBe(true);
    expect(await pipeline.drain(15_000)).toBe(true);

    // Assess: the emulator's ground truth for every group.
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(key?.state).toBe('Enabled');
    expect(key?.arn).toBe(deployed);
    for (const name of encrypt)
      expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId, name).toBe(key?.arn);
    expect(world.emulator.state.logGroup(world.region, '/sandbox/scratch-pad')?.kmsKeyId).toBeUndefined();
    expect(world.emulator.state.logGroup(world.region, '/aws/lambda/legacy-cron')?.kmsKeyId).toBeUndefined();
    expect(world.emulator.state.logGroup(world.region, '/platform/audit')?.kmsKeyId).toBe(ownKey.arn);
    expect(succeeded(world.emulator, 'AssociateKmsKey')).toHaveLength(encrypt.length);
    expect(pipeline.dlq).toEqual([]);
    // The handler understood every delivered event (the key's own too), each exactly once, as its group
    // requires; the deployment's key check (not an event of the trail) apart.
    const decisions = world.output.decisions().filter((d) => !keyChecks.includes(d.eventId));
    expect(decisions.map((d) => d.eventId).sort()).toEqual(events.map((e) => e.detail.eventID).sort());
    const outcomeOf = (name: string, errored = false) =>
      decisions
        .filter((d) => d.logGroupName === name)
        .filter(
          (d) => errored === Boolean(events.find((e) => e.detail.eventID === d.eventId)?.detail.errorCode),
        )
        .map((d) => d.outcome);
    for (const name of encrypt) expect(outcomeOf(name), name).toEqual(['encrypted']);
    // The failed call's event is emitted but the rule's `errorCode exists: false` keeps it off the queue.
    expect(outcomeOf('/aws/lambda/orders-api', true)).toEqual([]);
    expect(outcomeOf('/sandbox/scratch-pad')).toEqual(['out-of-scope']);
    expect(outcomeOf('/aws/lambda/legacy-cron')).toEqual(['out-of-scope']);
    expect(outcomeOf('/platform/audit')).toEqual(['already-encrypted']);
    // The failed call's event carries the error, as CloudTrail records it; it is the only failed call: the
    // events no longer race to create the guard key (one key check made it, the enforce function creates none).
    const failed = emitted.filter((e) => e.detail.errorCode);
    expect(failed).toMatchObject([
      {
        detail: {
          errorCode: 'ResourceAlreadyExistsException',
          requestParameters: { logGroupName: '/aws/lambda/orders-api' },
        },
      },
    ]);
    expect(callsOf(world.emulator, 'CreateKey').length).toBe(guardKeys(world).length);
    expect(guardKeys(world)).toHaveLength(1);
  });
});
