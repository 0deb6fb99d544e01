/**
 * The built dist/enforce.mjs against the emulator under the deployed role (test/e2e/helpers.ts): groups with
 * their owner's key, deleted and AWS-reserved groups, failed-call events, duplicate and late deliveries, each
 * counted in AWS calls and checked against the emulator's state.
 */
import {
  AssociateKmsKeyCommand,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { GUARD_ALIAS } from '../../local/world.ts';
import { loadEvent, logsStatement, policyOf, rootStatement, until } from '../helpers.ts';
import {
  callsOf,
  callsSince,
  createEvent,
  existingGuardKey,
  invokeBatch,
  lambdaContext,
  startWorld,
  succeeded,
  type World,
} from './helpers.ts';

/** A key the owner of a group chose: its policy admits Logs, it is not the guard's. */
const ownerKey = (world: World) =>
  world.emulator.state.createKeyDirect(world.region, {
    policy: policyOf(rootStatement(world.account), logsStatement(world.region, world.account)),
    description: 'platform audit logs',
  });

describe('no override of a key the owner chose (dist/enforce.mjs, emulator)', () => {
  it('a group created with its own kmsKeyId keeps it; one call: the owner key noted on the group (issue 21 item 1)', async () => {
    // Prepare: the group is created through Logs with the owner's key (the captured event's shape).
    const world = await startWorld({ throttle: false });
    const key = ownerKey(world);
    const name = '/platform/audit';
    await world.logs.send(
      new CreateLogGroupCommand({ logGroupName: name, kmsKeyId: key.arn, tags: { owner: 'security' } }),
    );
    const event = createEvent(
      world,
      name,
      { kmsKeyId: key.arn, tags: { owner: 'security' } },
      'create-log-group-with-kms-key.json',
    );
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const failed = await invokeBatch(world, handler, [event]);

    // Assess
    expect(failed).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(key.arn);
    // The owner's key is noted on the group (logs-kms-guard:owner-key), so that a later DisassociateKmsKey seen
    // from CloudTrail, which does not name the key it removed, still leaves a key-dependency record.
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).toEqual(['TagResource']);
    expect(world.emulator.state.logGroup(world.region, name)?.tags?.['logs-kms-guard:owner-key']).toBe(
      key.arn,
    );
    expect(world.emulator.state.keys(world.region)).toHaveLength(1);
    expect(world.output.decisions()).toMatchObject([{ outcome: 'already-encrypted', keyArn: key.arn }]);
  });

  it('a group that got a key after its creation (no kmsKeyId in the event) keeps it', async () => {
    // Prepare: created plain, then associated by its owner before the event is handled.
    const world = await startWorld({ throttle: false });
    const key = ownerKey(world);
    const name = '/ecs/billing-service';
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    await world.logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: key.arn }));
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess: one look (DescribeLogGroups), no key work, no association.
    expect(failed).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(key.arn);
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).toEqual(['DescribeLogGroups']);
    expect(world.emulator.state.key(world.region, GUARD_ALIAS)).toBeUndefined();
    expect(world.output.decisions()).toMatchObject([{ outcome: 'already-encrypted', keyArn: key.arn }]);
  });

  it('with ALLOW_KEY_OVERRIDE=true the guard key replaces the owner key', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const key = ownerKey(world);
    const guard = await existingGuardKey(world);
    const name = '/platform/audit';
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: name, kmsKeyId: key.arn }));
    const event = createEvent(world, name, { kmsKeyId: key.arn }, 'create-log-group-with-kms-key.json');
    const handler = await world.container({ ALLOW_KEY_OVERRIDE: 'true' });

    // Act
    const failed = await invokeBatch(world, handler, [event]);

    // Assess
    expect(failed).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(guard.arn);
    expect(succeeded(world.emulator, 'AssociateKmsKey')).toHaveLength(1);
    expect(world.output.decisions()).toMatchObject([
      { outcome: 'encrypted', keyArn: guard.arn, reason: `replaced ${key.arn}` },
    ]);
  });
});

describe('deleted group (dist/enforce.mjs, emulator)', () => {
  it('an event for a group deleted before it was handled: gone, no error, no key created', async () => {
    // Prepare: a short-lived group, created and deleted through Logs; its event arrives afterwards.
    const world = await startWorld({ throttle: false });
    const events: unknown[] = [];
    world.onDelivered((event) => events.push(event));
    const name = '/aws/lambda/short-lived-preview';
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    await world.logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    expect(await until(() => events.length === 1, 2_000)).toBe(true);
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const failed = await invokeBatch(world, handler, events);

    // Assess: one DescribeLogGroups and nothing else: no key is made for a group that is not there.
    expect(failed).toEqual([]);
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).toEqual(['DescribeLogGroups']);
    expect(world.emulator.state.keys(world.region)).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)).toBeUndefined();
    expect(world.output.decisions()).toMatchObject([{ outcome: 'group-gone' }]);
    expect(world.output.metrics()).toMatchObject({ GroupGone: 1 });
    expect(world.output.metrics().Failed).toBeUndefined();
  });

  it('a group deleted while the guard waits for its new key: gone, no error, the one key stays live', async () => {
    // Prepare: Logs cannot see a new key for 2 s, so the guard keeps retrying the association.
    const world = await startWorld({ propagationDelayMs: 2_000, throttle: false });
    const name = '/aws/lambda/deleted-mid-flight';
    world.emulator.state.putLogGroup(world.region, name);
    // The deployment's key check has just created the guard key (the enforce function creates none): brand new,
    // so Logs cannot see it yet when the event arrives.
    await world.deployKey();
    const handler = await world.container();
    const earlier = world.output.decisions().length; // the key check's

    // Act: the group is deleted as soon as the first association attempt has been refused.
    const handled = invokeBatch(world, handler, [createEvent(world, name)]);
    expect(await until(() => callsOf(world.emulator, 'AssociateKmsKey').length > 0, 5_000)).toBe(true);
    await world.logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    const failed = await handled;

    // Assess: the record is done (not retried); the key the deployment created is the region's guard key,
    // behind the alias and live for the next group: not an orphan, and no second key.
    expect(failed).toEqual([]);
    expect(callsOf(world.emulator, 'AssociateKmsKey').at(-1)?.error).toBe('ResourceNotFoundException');
    expect(world.output.decisions().slice(earlier)).toMatchObject([{ outcome: 'group-gone' }]);
    const keys = world.emulator.state.keys(world.region);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ state: 'Enabled', aliases: [GUARD_ALIAS] });
  });
});

describe('AWS-reserved groups (dist/enforce.mjs, emulator)', () => {
  it('aws/spans (X-Ray transaction search): not encryptable, zero AWS calls, no failure, no DLQ', async () => {
    // Prepare: the group X-Ray creates; CloudWatch Logs refuses any key for it (LZA #751).
    const world = await startWorld({ throttle: false });
    world.emulator.state.putLogGroup(world.region, 'aws/spans');
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act: from the queue (twice: a redelivery) and invoked directly.
    const failed = await invokeBatch(world, handler, [
      createEvent(world, 'aws/spans'),
      createEvent(world, 'AWS/Spans'),
    ]);
    const direct = await handler(createEvent(world, 'aws/spans'), lambdaContext(world));

    // Assess: no record returned to the queue, nothing called, counted apart from failures.
    expect(failed).toEqual([]);
    expect(direct).toMatchObject({ outcome: 'not-encryptable', logGroupName: 'aws/spans' });
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(world.output.metrics()).toMatchObject({ NotEncryptable: 3 });
    expect(world.output.metrics().Failed).toBeUndefined();
  });

  it('the emulator refuses AssociateKmsKey on a reserved group as AWS does, so the guard must never try', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const guard = await existingGuardKey(world);
    world.emulator.state.putLogGroup(world.region, 'aws/spans');

    // Act
    const refused = world.logs.send(
      new AssociateKmsKeyCommand({ logGroupName: 'aws/spans', kmsKeyId: guard.arn }),
    );

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Log groups starting with AWS/ are reserved for AWS',
    });
  });
});

describe('failed-call events (dist/enforce.mjs, emulator)', () => {
  it('an event whose CloudTrail record carries errorCode costs zero AWS calls and changes nothing', async () => {
    // Prepare: the group already existed (that is why the call failed) and is not encrypted.
    const world = await startWorld({ throttle: false });
    const event = loadEvent('create-log-group-failed-already-exists.json');
    const name = event.detail.requestParameters.logGroupName as string;
    world.emulator.state.putLogGroup(world.region, name);
    const before = world.emulator.state.logGroup(world.region, name);
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act: from the queue and invoked directly.
    const failed = await invokeBatch(world, handler, [event]);
    const direct = await handler(structuredClone(event), lambdaContext(world));

    // Assess
    expect(failed).toEqual([]);
    expect(direct).toMatchObject({ outcome: 'ignored-failed-call', logGroupName: name });
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)).toEqual(before);
    expect(world.emulator.state.keys(world.region)).toEqual([]);
    expect(world.output.metrics()).toMatchObject({ IgnoredFailedCall: 2 });
  });
});

describe('duplicate and late events (dist/enforce.mjs, emulator)', () => {
  it('an event EventBridge delivers twice, handled one after the other: one association', async () => {
    // Prepare: the emulator duplicates every event (same id), as EventBridge may.
    const world = await startWorld({ throttle: false, events: { duplicateRate: 1 } });
    const guard = await existingGuardKey(world);
    const events: Record<string, any>[] = [];
    world.onDelivered((event) => events.push(event as Record<string, any>));
    const name = '/aws/lambda/inventory-api';
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    expect(await until(() => events.length === 2, 2_000)).toBe(true);
    expect(events[1]?.id).toBe(events[0]?.id);
    const first = await world.container();
    const second = await world.container();

    // Act: the first delivery in one container; the duplicate in the same one and in another.
    const failed = [
      ...(await invokeBatch(world, first, [events[0]])),
      ...(await invokeBatch(world, first, [events[1]])),
      ...(await invokeBatch(world, second, [events[1]])),
    ];

    // Assess
    expect(failed).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(guard.arn);
    expect(callsOf(world.emulator, 'AssociateKmsKey')).toHaveLength(1);
    expect(world.output.decisions().map((d) => d.outcome)).toEqual([
      'encrypted',
      'already-encrypted',
      'already-encrypted',
    ]);
  });

  it('the same event delivered twice at once (one batch, and two containers): both done, one key, the group encrypted', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const guard = await existingGuardKey(world);
    const name = '/aws/lambda/search-api';
    world.emulator.state.putLogGroup(world.region, name);
    const event = createEvent(world, name);
    const [a, b] = [await world.container(), await world.container()];

    // Act
    const failed = await Promise.all([
      invokeBatch(world, a, [event, structuredClone(event)]),
      invokeBatch(world, b, [structuredClone(event)]),
    ]);

    // Assess: every delivery acknowledged; the group has the guard key and no other key exists. The two
    // copies in container a share one enforcement; container b cannot know of them, so at most two calls.
    expect(failed.flat()).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(guard.arn);
    expect(world.emulator.state.keys(world.region)).toHaveLength(1);
    const associations = succeeded(world.emulator, 'AssociateKmsKey').length;
    expect(associations).toBeGreaterThanOrEqual(1);
    expect(associations).toBeLessThanOrEqual(2);
    expect(
      world.output.decisions().every((d) => ['encrypted', 'already-encrypted'].includes(d.outcome)),
    ).toBe(true);
  });

  it('spends one AssociateKmsKey on copies of one event in flight in the same container', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    await existingGuardKey(world);
    const name = '/aws/lambda/orders-api';
    world.emulator.state.putLogGroup(world.region, name);
    const event = createEvent(world, name);
    const container = await world.container();

    // Act: one batch carries three deliveries of the same event (at-least-once delivery)
    const failed = await invokeBatch(world, container, [
      event,
      structuredClone(event),
      structuredClone(event),
    ]);

    // Assess: all three acknowledged with the same decision, one call spent on the quota
    expect(failed).toEqual([]);
    expect(succeeded(world.emulator, 'AssociateKmsKey')).toHaveLength(1);
    expect(world.output.decisions().filter((d) => d.outcome === 'encrypted')).toHaveLength(3);
  });

  it('a late event for a group the guard already encrypted: no new association, no key work', async () => {
    // Prepare: the sweep (or an earlier delivery) already encrypted the group.
    const world = await startWorld({ throttle: false });
    const guard = await existingGuardKey(world);
    const name = '/aws/lambda/email-api';
    world.emulator.state.putLogGroup(world.region, name, { kmsKeyId: guard.arn });
    const before = world.emulator.state.logGroup(world.region, name);
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess: DescribeLogGroups shows the key; nothing else is called and the group is untouched.
    expect(failed).toEqual([]);
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).toEqual(['DescribeLogGroups']);
    expect(world.emulator.state.logGroup(world.region, name)).toEqual(before);
    expect(world.output.decisions()).toMatchObject([{ outcome: 'already-encrypted', keyArn: guard.arn }]);
  });
});
