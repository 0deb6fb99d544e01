/**
 * The key ready before the first event (dist/changes.mjs serves the custom resource, dist/enforce.mjs the
 * events; emulator): the deploy-time custom resource ensures the key and waits until CloudWatch Logs accepts it,
 * always answering CloudFormation SUCCESS; the first event after it then costs the warm-path calls only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { protectionStatus } from '../../functions/core/key-protection.ts';
import { parsePolicy } from '../../functions/core/policy.ts';
import { customResourceRequest, startResponseSink } from '../../local/custom-resource.ts';
import { CHANGES_FUNCTION } from '../../local/functions.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import {
  callsOf,
  callsSince,
  createEvent,
  invokeBatch,
  lambdaContext,
  startWorld,
  type World,
} from './helpers.ts';

/** A response sink, closed after the test. */
async function responseSink() {
  const sink = await startResponseSink();
  sinks.push(() => sink.close());
  return sink;
}
const sinks: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of sinks.splice(0)) await close();
});

/** The custom resource's request of the default stack in `world`, answered on `url`. */
function customResource(world: World, url: string, type: 'Create' | 'Update' | 'Delete' = 'Create') {
  return customResourceRequest(
    {
      region: world.region,
      account: world.account,
      stackName: 'logs-kms-guard-prod',
      functionName: CHANGES_FUNCTION,
      responseUrl: url,
      properties: { KeyAlias: GUARD_ALIAS, KeyArn: '' },
    },
    type,
  );
}

/** The changes function's own log group: the custom resource's readiness probe (functions/changes.ts). */
const OWN_GROUP = `/aws/lambda/${CHANGES_FUNCTION}`;

describe('deploy-time key with BreakGlassRoleArns (issue 21, item 2)', () => {
  it('Create: the key the enforce role (changes function) makes carries the protection, through KMS lockout check', async () => {
    // Prepare: IAM on; the break-glass role exists (KMS refuses a policy naming an unknown principal)
    const breakGlass = 'arn:aws:iam::123456789012:role/LogKeysBreakGlass';
    const world = await startWorld({
      timeScale: 10,
      propagationDelayMs: 3_000,
      throttle: false,
      iam: { principals: { AKIDBREAKGLASS: { arn: breakGlass, policies: [] } } },
    });
    world.emulator.state.putLogGroup(world.region, OWN_GROUP);
    const sink = await responseSink();
    const handler = await world.container({ BREAK_GLASS_ROLE_ARNS: breakGlass });

    // Act
    const out = await handler(customResource(world, sink.url), lambdaContext(world));

    // Assess
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(out).toMatchObject({ deploy: { status: 'SUCCESS', ready: true, keyArn: key?.arn } });
    expect(protectionStatus(parsePolicy(key?.policy ?? ''))).toEqual({
      protected: true,
      breakGlassRoles: [breakGlass],
      missing: [],
    });
  });
});

describe('deploy-time key (custom resource)', () => {
  it('Create: makes the key, waits until Logs accepts it (own log group encrypted), answers SUCCESS', async () => {
    // Prepare: a fresh account and region; Logs sees KMS 300 ms (real) late.
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    world.emulator.state.putLogGroup(world.region, OWN_GROUP);
    const sink = await responseSink();
    const handler = await world.container();

    // Act
    const out = await handler(customResource(world, sink.url), lambdaContext(world));

    // Assess
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(key?.state).toBe('Enabled');
    expect(world.emulator.state.logGroup(world.region, OWN_GROUP)?.kmsKeyId).toBe(key?.arn);
    expect(out).toMatchObject({ deploy: { status: 'SUCCESS', ready: true, keyArn: key?.arn } });
    expect(sink.bodies).toEqual([
      expect.objectContaining({
        method: 'PUT',
        Status: 'SUCCESS',
        LogicalResourceId: 'GuardKeyReady',
        PhysicalResourceId: `logs-kms-guard-key-${world.region}`,
        Data: { KeyArn: key?.arn, Ready: 'true' },
      }),
    ]);
  });

  // 5 calls since issue 19 (was 4): the group's tags are read right before the association.
  it('the first event after deployment: encrypted at the first AssociateKmsKey, 5 calls in all', async () => {
    // Prepare: deployed as above, then the propagation delay has passed (the custom resource waited it out).
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    world.emulator.state.putLogGroup(world.region, OWN_GROUP);
    const sink = await responseSink();
    await (await world.container())(customResource(world, sink.url), lambdaContext(world));
    const name = '/aws/lambda/first-after-deploy';
    world.emulator.state.putLogGroup(world.region, name);
    const handler = await world.container(); // a cold container, as the first event meets
    const mark = world.emulator.calls.length;

    // Act
    const failed = await invokeBatch(world, handler, [createEvent(world, name)]);

    // Assess
    expect(failed).toEqual([]);
    expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(
      world.emulator.state.key(world.region, GUARD_ALIAS)?.arn,
    );
    expect(callsSince(world.emulator, mark).map((c) => c.operation)).toEqual([
      'DescribeLogGroups',
      'DescribeKey',
      'GetKeyPolicy',
      'ListTagsForResource',
      'AssociateKmsKey',
    ]);
  });

  it('EncryptQueryResults: the Insights query results are associated with the guard key at deployment', async () => {
    // Prepare
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    world.emulator.state.putLogGroup(world.region, OWN_GROUP);
    const sink = await responseSink();
    const handler = await world.container({ ENCRYPT_QUERY_RESULTS: 'true' });

    // Act
    await handler(customResource(world, sink.url), lambdaContext(world));

    // Assess: the key admits Logs for query results, and they are on it
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(world.emulator.state.queryResultsKey(world.region)).toBe(key?.arn);
    expect(JSON.parse(key?.policy ?? '{}').Statement.map((s: { Sid?: string }) => s.Sid)).toContain(
      'AllowCloudWatchLogsQueryResults',
    );
    expect(sink.bodies[0]?.Reason).toContain(`Insights query results: associated with ${key?.arn}`);
  });

  it('a transient failure neither fails nor holds up the stack: SUCCESS with the reason, Ready false', async () => {
    // Prepare: KMS answers CreateKey with an outage, every time.
    const world = await startWorld({
      throttle: false,
      intercept: (r) =>
        r.operation === 'CreateKey'
          ? { kind: 'error', name: 'KMSInternalException', status: 500 }
          : undefined,
    });
    world.expectDenials();
    world.emulator.state.putLogGroup(world.region, OWN_GROUP);
    const sink = await responseSink();
    const handler = await world.container();

    // Act
    const out = await handler(customResource(world, sink.url), lambdaContext(world, 20_000));

    // Assess
    expect(out).toMatchObject({ deploy: { status: 'SUCCESS', ready: false } });
    expect(sink.bodies[0]).toMatchObject({ Status: 'SUCCESS', Data: { KeyArn: '', Ready: 'false' } });
    expect(sink.bodies[0]?.Reason).toMatch(/not ready at deployment.*the scheduled key check ensures it/);
    expect(world.emulator.state.key(world.region, GUARD_ALIAS)).toBeUndefined();
  });

  it('a KMS_KEY_ARN of another account fails the deployment with the reason, at zero AWS calls (no hour-long wait)', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const sink = await responseSink();
    const central = 'arn:aws:kms:us-east-1:210987654321:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718';
    const handler = await world.container({ KMS_KEY_ARN: central });
    const mark = world.emulator.calls.length;

    // Act
    const out = await handler(customResource(world, sink.url), lambdaContext(world));

    // Assess
    expect(out).toMatchObject({ deploy: { status: 'FAILED' } });
    expect(sink.bodies[0]).toMatchObject({ Status: 'FAILED' });
    expect(sink.bodies[0]?.Reason).toMatch(/KMS_KEY_ARN names a key of account 210987654321/);
    expect(callsSince(world.emulator, mark)).toEqual([]);
  });

  it('MessageKmsKey=guard: the key admits the queues, rules and alarms; a key from before gets them at the next deployment', async () => {
    // Prepare: a guard key made by a deployment without the option, then the stack updated with it
    const world = await startWorld({ timeScale: 10, propagationDelayMs: 3_000, throttle: false });
    world.emulator.state.putLogGroup(world.region, OWN_GROUP);
    const sink = await responseSink();
    await (await world.container())(customResource(world, sink.url), lambdaContext(world));
    const sids = () =>
      JSON.parse(world.emulator.state.key(world.region, GUARD_ALIAS)?.policy ?? '{}').Statement.map(
        (s: { Sid?: string }) => s.Sid,
      );
    const before = sids();
    const arn = (service: string, rest: string) =>
      `arn:aws:${service}:${world.region}:${world.account}:${rest}`;
    const handler = await world.container({
      MESSAGE_KEY_QUEUES: [arn('sqs', 'lkg-EnforceQueue-A1'), arn('sqs', 'lkg-EnforceDlq-B2')].join(','),
      MESSAGE_KEY_RULES: arn('events', 'rule/lkg-CreateLogGroupRule-C3'),
      MESSAGE_KEY_ALARMS: arn('cloudwatch', 'alarm:logs-kms-guard-prod-*'),
    });

    // Act
    const out = await handler(customResource(world, sink.url, 'Update'), lambdaContext(world));

    // Assess: the same key, its Logs statement kept, the three statements added
    const key = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(out).toMatchObject({ deploy: { status: 'SUCCESS', keyArn: key?.arn } });
    expect(before).not.toContain('LogsKmsGuardQueuesThroughSqs');
    expect(sids()).toEqual([
      ...before,
      'LogsKmsGuardQueuesFromItsRules',
      'LogsKmsGuardQueuesThroughSqs',
      'LogsKmsGuardAlarmTopicFromItsAlarms',
    ]);
    const sqs = JSON.parse(key?.policy ?? '{}').Statement.find(
      (s: { Sid?: string }) => s.Sid === 'LogsKmsGuardQueuesThroughSqs',
    );
    expect(sqs.Condition.ArnEquals['kms:EncryptionContext:aws:sqs:arn']).toEqual([
      arn('sqs', 'lkg-EnforceDlq-B2'),
      arn('sqs', 'lkg-EnforceQueue-A1'),
    ]);
  });

  it('MessageKmsKey=guard with a KmsKeyArn fails the deployment with the reason, at zero AWS calls', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const sink = await responseSink();
    const arn = (service: string, rest: string) =>
      `arn:aws:${service}:${world.region}:${world.account}:${rest}`;
    const handler = await world.container({
      KMS_KEY_ARN: arn('kms', 'key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718'),
      MESSAGE_KEY_QUEUES: arn('sqs', 'lkg-EnforceQueue-A1'),
      MESSAGE_KEY_RULES: arn('events', 'rule/lkg-CreateLogGroupRule-C3'),
      MESSAGE_KEY_ALARMS: arn('cloudwatch', 'alarm:logs-kms-guard-prod-*'),
    });
    const mark = world.emulator.calls.length;

    // Act
    const out = await handler(customResource(world, sink.url), lambdaContext(world));

    // Assess
    expect(out).toMatchObject({ deploy: { status: 'FAILED' } });
    expect(sink.bodies[0]?.Reason).toMatch(
      /MessageKmsKey=guard needs the guard's own key, but KmsKeyArn is set/,
    );
    expect(callsSince(world.emulator, mark)).toEqual([]);
  });

  it('Delete (stack removal) keeps the key: SUCCESS, zero AWS calls', async () => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const sink = await responseSink();
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    await handler(customResource(world, sink.url, 'Delete'), lambdaContext(world));

    // Assess
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(sink.bodies[0]).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: `logs-kms-guard-key-${world.region}`,
    });
  });

  it('a request whose ResponseURL is not CloudFormation gets no answer sent anywhere', async () => {
    // Prepare: a forged request pointing at some other host.
    const world = await startWorld({ throttle: false });
    const sink = await responseSink();
    const handler = await world.container();
    const forged = customResource(world, sink.url.replace('127.0.0.1', 'evil.example'), 'Delete');

    // Act
    await handler(forged, lambdaContext(world));

    // Assess
    expect(sink.bodies).toEqual([]);
    expect(callsOf(world.emulator, 'CreateKey')).toHaveLength(0);
    expect(world.output.lines.some((l) => l.includes('custom resource request not answered'))).toBe(true);
    expect(world.output.metrics()).toMatchObject({ CustomResourceRefused: 1 });
  });
});
