/**
 * The opt-out tag at the moment of change (issue 19, item 3), through the built dist/enforce.mjs in the local
 * pipeline (queue, containers under the deployed EnforceRole, DLQ) against the emulator: a group tagged after
 * its creation, before its event is handled, and a group tagged while its sweep work item waited, are left
 * alone; when the tags cannot be read, the record fails into the DLQ after its retries and the group is untouched.
 * And the queue itself, under the packaged template's queue policy: a forged work item is refused.
 */
import { CreateLogGroupCommand, TagResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { sweepWorkItem } from '../../functions/core/event.ts';
import { packagedTemplate, queuePolicyFromTemplate } from '../../local/roles.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import { callsOf, createEvent, startPipeline, startWorld, succeeded, type World } from './helpers.ts';

const SKIP = { 'logs-kms-guard:skip': 'true' };

/** Creates `name` without tags, as the CreateLogGroup event will say, then tags it with the opt-out tag. */
async function createThenOptOut(world: World, name: string): Promise<void> {
  await world.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
  const arn = `arn:aws:logs:${world.region}:${world.account}:log-group:${name}`;
  await world.logs.send(new TagResourceCommand({ resourceArn: arn, tags: SKIP }));
}

const keyOf = (world: World, name: string) => world.emulator.state.logGroup(world.region, name)?.kmsKeyId;

describe('the opt-out tag as it is when the guard acts (dist/enforce.mjs, local pipeline)', () => {
  it('leaves alone a group tagged after its creation and one tagged while its sweep work item waited', async () => {
    // Prepare: both opted out after the fact; a third, untagged group is encrypted as before
    const world = await startWorld({ throttle: false });
    await createThenOptOut(world, '/team/tagged-after-create');
    await createThenOptOut(world, '/legacy/tagged-while-queued');
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: '/team/plain' }));
    // The deployed stack's guard key (its deployment's key check made it; the enforce function creates none).
    await world.deployKey();
    // Longer than any invocation: each record is handled once, so the calls below count one handling each.
    const pipeline = await startPipeline(world, { maxReceiveCount: 3, visibilityTimeoutMs: 20_000 });

    // Act
    pipeline.send(createEvent(world, '/team/tagged-after-create'));
    pipeline.send(
      sweepWorkItem({
        name: '/legacy/tagged-while-queued',
        region: world.region,
        account: world.account,
        runId: 'r1',
      }),
    );
    pipeline.send(createEvent(world, '/team/plain'));
    expect(await pipeline.drain(30_000)).toBe(true);

    // Assess
    expect(pipeline.dlq).toEqual([]);
    expect(keyOf(world, '/team/tagged-after-create')).toBeUndefined();
    expect(keyOf(world, '/legacy/tagged-while-queued')).toBeUndefined();
    expect(keyOf(world, '/team/plain')).toBe(world.emulator.state.key(world.region, GUARD_ALIAS)?.arn);
    const decisions = world.output.decisions();
    expect(decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          logGroupName: '/team/tagged-after-create',
          outcome: 'out-of-scope',
          reason: 'tagged logs-kms-guard:skip=true',
        }),
        expect.objectContaining({ logGroupName: '/legacy/tagged-while-queued', outcome: 'out-of-scope' }),
        expect.objectContaining({ logGroupName: '/team/plain', outcome: 'encrypted' }),
      ]),
    );
    // At most one tag read per group, and one association (the untagged group's)
    expect(callsOf(world.emulator, 'ListTagsForResource')).toHaveLength(3);
    expect(succeeded(world.emulator, 'AssociateKmsKey')).toHaveLength(1);
  }, 60_000);

  it('fails the record into the DLQ, group untouched, when the tags cannot be read', async () => {
    // Prepare: every ListTagsForResource refused
    const world = await startWorld({
      throttle: false,
      intercept: (r) =>
        r.operation === 'ListTagsForResource'
          ? {
              kind: 'error',
              name: 'AccessDeniedException',
              message: 'explicit deny in a service control policy',
            }
          : undefined,
    });
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: '/team/unreadable' }));
    const pipeline = await startPipeline(world, { maxReceiveCount: 3, visibilityTimeoutMs: 300 });

    // Act
    pipeline.send(createEvent(world, '/team/unreadable'));
    expect(await pipeline.drain(30_000)).toBe(true);

    // Assess
    expect(pipeline.dlq).toHaveLength(1);
    expect(pipeline.dlq[0]?.receiveCount).toBe(3);
    expect(keyOf(world, '/team/unreadable')).toBeUndefined();
    expect(callsOf(world.emulator, 'AssociateKmsKey')).toEqual([]);
    expect(world.output.decisions().map((d: any) => d.outcome)).toEqual(['failed', 'failed', 'failed']);
  }, 60_000);
});

describe('the enforce queue under its packaged policy (emulator IAM)', () => {
  it("refuses a forged work item from a role allowed sqs:* and takes the sweep role's", async () => {
    // Prepare: the queue as the stack deploys it, with its resolved policy
    const world = await startWorld({ throttle: false });
    const stack = { account: world.account, region: world.region };
    const policy = queuePolicyFromTemplate(packagedTemplate(), stack, 'EnforceQueuePolicy');
    const queue = world.emulator.state.createQueue(world.region, 'logs-kms-guard-prod-EnforceQueue', {
      policy: policy as object,
    });
    world.emulator.iam.setPrincipal('forger', {
      arn: `arn:aws:iam::${world.account}:role/Developer`,
      policies: [
        {
          name: 'sqs',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }] },
        },
      ],
    });
    const sweep = world.asDeployed({}, { role: 'SweepRole' });
    const sqs = (accessKeyId: string) =>
      new SQSClient({
        region: world.region,
        endpoint: world.emulator.endpoint,
        credentials: { accessKeyId, secretAccessKey: 'local' },
        maxAttempts: 1,
      });
    const item = (name: string) =>
      new SendMessageCommand({
        QueueUrl: queue.localUrl,
        MessageBody: JSON.stringify(
          sweepWorkItem({ name, region: world.region, account: world.account, runId: 'r' }),
        ),
      });
    world.expectDenials();

    // Act / Assess
    await expect(sqs('forger').send(item('/team/opted-out'))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(sqs(sweep.AWS_ACCESS_KEY_ID as string).send(item('/legacy/app'))).resolves.toMatchObject({
      MessageId: expect.any(String),
    });
  }, 60_000);
});
