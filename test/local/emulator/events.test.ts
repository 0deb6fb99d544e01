/**
 * The CloudTrail events the emulator emits (local/emulator/events.ts) through the real SDK: their shape
 * against the captured samples in test/events, for Logs and KMS calls, failed and intercepted calls and IAM
 * principals, and delivery with delay, duplication and loss.
 */
import { readFileSync } from 'node:fs';
import { CreateLogGroupCommand, DisassociateKmsKeyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import type { EmulatorOptions } from '../../../local/emulator/emulator.ts';
import type { IamPrincipal } from '../../../local/emulator/iam.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { policyOf, rootStatement, sleep } from '../../helpers.ts';
import { rejection, setup, signedAs } from './helpers.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));
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

/** The structure of a value: the keys of every object, in every nesting, values aside. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  }
  return '·';
}

/** The one event of an eventName (fails when there are none or several). */
function only(events: TrailEvent[], eventName: string): TrailEvent {
  const found = events.filter((e) => e.detail.eventName === eventName);
  expect(found, eventName).toHaveLength(1);
  return found[0] as TrailEvent;
}

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ops/KeyAdmin`;
const ROLE_KEY = 'AKIDKEYADMIN';
const ADMIN_KEY = 'AKIDADMIN';

/** An emulator with IAM: ROLE_KEY may use every KMS and Logs action except the ones listed in `denied`. */
async function iamSetup(denied: string[], extra: EmulatorOptions = {}) {
  const principal: IamPrincipal = {
    arn: ROLE_ARN,
    policies: [
      {
        name: 'ops',
        policy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['kms:*', 'logs:*'], Resource: '*' },
            ...(denied.length ? [{ Effect: 'Deny', Action: denied, Resource: '*' }] : []),
          ],
        },
      },
    ],
  };
  const env = await setup({
    iam: { principals: { [ROLE_KEY]: principal }, admins: [ADMIN_KEY] },
    throttle: false,
    ...extra,
  });
  const role = signedAs(env, ROLE_KEY);
  return { ...env, roleKms: role.kms, roleLogs: role.logs, adminKms: signedAs(env, ADMIN_KEY).kms };
}

describe('CloudTrail KMS events', () => {
  it('each KMS operation emits one aws.kms event with its requestParameters, responseElements and resources', async () => {
    // Prepare
    const { kms, emulator } = await setup({ throttle: false });
    const { events } = collect(emulator);
    const one = emulator.state.createKeyDirect(REGION);
    const two = emulator.state.createKeyDirect(REGION);
    const policy = policyOf(rootStatement());
    const aliasArn = `arn:aws:kms:${REGION}:${ACCOUNT}:alias/guard`;
    const resource = (ARN: string) => ({ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN });
    // Act
    await kms.send(new CreateKeyCommand({})); // not recorded: creates nothing the guard watches
    await kms.send(new DescribeKeyCommand({ KeyId: one.keyId })); // read-only: not recorded
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/guard', TargetKeyId: one.keyId }));
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/guard', TargetKeyId: two.arn }));
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/guard' }));
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: one.keyId,
        PolicyName: 'default',
        Policy: policy,
        BypassPolicyLockoutSafetyCheck: false,
      }),
    );
    await kms.send(new EnableKeyRotationCommand({ KeyId: one.keyId }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: one.arn }));
    await kms.send(new DisableKeyCommand({ KeyId: one.keyId }));
    await kms.send(new EnableKeyCommand({ KeyId: one.keyId }));
    const scheduled = await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: one.keyId, PendingWindowInDays: 7 }),
    );
    await kms.send(new CancelKeyDeletionCommand({ KeyId: one.keyId }));
    await sleep(50);
    // Assess
    expect(events.map((e) => e.detail.eventName)).toEqual([
      'CreateAlias',
      'UpdateAlias',
      'DeleteAlias',
      'PutKeyPolicy',
      'EnableKeyRotation',
      'DisableKeyRotation',
      'DisableKey',
      'EnableKey',
      'ScheduleKeyDeletion',
      'CancelKeyDeletion',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({
        source: 'aws.kms',
        'detail-type': 'AWS API Call via CloudTrail',
        account: ACCOUNT,
        region: REGION,
        resources: [],
        detail: {
          eventSource: 'kms.amazonaws.com',
          awsRegion: REGION,
          readOnly: false,
          eventType: 'AwsApiCall',
          recipientAccountId: ACCOUNT,
        },
      });
      expect(e.detail.errorCode).toBeUndefined();
      expect(e.detail.apiVersion).toBeUndefined();
      expect(e.detail.userAgent).toMatch(/aws-sdk-js/);
    }
    const detail = (name: string) => only(events, name).detail;
    expect(detail('CreateAlias')).toMatchObject({
      requestParameters: { aliasName: 'alias/guard', targetKeyId: one.keyId },
      responseElements: null,
      resources: [resource(one.arn), resource(aliasArn)],
    });
    expect(detail('UpdateAlias')).toMatchObject({
      requestParameters: { aliasName: 'alias/guard', targetKeyId: two.arn },
      responseElements: null,
      resources: [resource(aliasArn), resource(two.arn)],
    });
    expect(detail('DeleteAlias')).toMatchObject({
      requestParameters: { aliasName: 'alias/guard' },
      responseElements: null,
      resources: [resource(aliasArn), resource(two.arn)],
    });
    expect(detail('PutKeyPolicy').requestParameters).toEqual({
      keyId: one.keyId,
      policyName: 'default',
      policy,
      bypassPolicyLockoutSafetyCheck: false,
    });
    for (const name of ['PutKeyPolicy', 'EnableKeyRotation', 'DisableKey', 'EnableKey']) {
      expect(detail(name).resources, name).toEqual([resource(one.arn)]);
      expect(detail(name).responseElements, name).toBeNull();
    }
    expect(detail('EnableKeyRotation').requestParameters).toEqual({ keyId: one.keyId });
    expect(detail('DisableKeyRotation').requestParameters).toEqual({ keyId: one.arn });
    expect(detail('DisableKeyRotation').resources).toEqual([resource(one.arn)]);
    expect(detail('DisableKey').requestParameters).toEqual({ keyId: one.keyId });
    expect(detail('ScheduleKeyDeletion').requestParameters).toEqual({
      keyId: one.keyId,
      pendingWindowInDays: 7,
    });
    const deletion = scheduled.DeletionDate as Date;
    expect(detail('ScheduleKeyDeletion').responseElements).toEqual({
      keyId: one.arn,
      keyState: 'PendingDeletion',
      deletionDate: expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AP]M$/),
    });
    // The same instant as the API's DeletionDate, to the second, in UTC.
    const written = detail('ScheduleKeyDeletion').responseElements.deletionDate as string;
    expect(Math.abs(Date.parse(`${written} UTC`) - deletion.getTime())).toBeLessThan(1_000);
    expect(detail('CancelKeyDeletion')).toMatchObject({
      requestParameters: { keyId: one.keyId },
      responseElements: { keyId: one.arn },
      resources: [resource(one.arn)],
    });
  });

  it('writes deletionDate as CloudTrail does: "MMM d, yyyy h:mm:ss a" in UTC', async () => {
    // Prepare
    const { trailDate } = await import('../../../local/emulator/events.ts');
    // Act
    const written = [
      Date.UTC(2021, 3, 12, 18, 58, 30),
      Date.UTC(2018, 6, 9, 12, 56, 54),
      Date.UTC(2026, 0, 5, 0, 7, 3),
    ].map(trailDate);
    // Assess
    expect(written).toEqual([
      'Apr 12, 2021 6:58:30 PM',
      'Jul 9, 2018 12:56:54 PM',
      'Jan 5, 2026 12:07:03 AM',
    ]);
  });

  it('records failed KMS calls with errorCode and errorMessage, responseElements null', async () => {
    // Prepare
    const { kms, emulator } = await setup({ quotas: { DisableKey: 1 } });
    const { events } = collect(emulator);
    const key = emulator.state.createKeyDirect(REGION);
    const missing = '00000000-1111-2222-3333-444444444444';
    // Act
    await rejection(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 3 })));
    await rejection(kms.send(new CancelKeyDeletionCommand({ KeyId: key.keyId })));
    await rejection(kms.send(new EnableKeyCommand({ KeyId: missing })));
    await rejection(kms.send(new DeleteAliasCommand({ AliasName: 'alias/none' })));
    const throttled = await Promise.allSettled(
      [1, 2, 3].map(() => kms.send(new DisableKeyCommand({ KeyId: key.keyId }))),
    );
    await sleep(50);
    // Assess
    expect(throttled.some((r) => r.status === 'rejected')).toBe(true);
    expect(only(events, 'ScheduleKeyDeletion').detail).toMatchObject({
      errorCode: 'ValidationException',
      errorMessage: expect.stringContaining('pendingWindowInDays'),
      requestParameters: { keyId: key.keyId, pendingWindowInDays: 3 },
      responseElements: null,
      resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: key.arn }],
    });
    expect(only(events, 'CancelKeyDeletion').detail).toMatchObject({
      errorCode: 'KMSInvalidStateException',
      errorMessage: `${key.arn} is not pending deletion.`,
      responseElements: null,
    });
    expect(only(events, 'EnableKey').detail).toMatchObject({
      errorCode: 'NotFoundException',
      requestParameters: { keyId: missing },
      resources: [{ ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}` }],
    });
    expect(only(events, 'DeleteAlias').detail).toMatchObject({
      errorCode: 'NotFoundException',
      resources: [{ ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/none` }],
    });
    const disables = events.filter((e) => e.detail.eventName === 'DisableKey');
    expect(disables).toHaveLength(3);
    expect(disables.map((e) => e.detail.errorCode ?? 'ok')).toContain('ThrottlingException');
    expect(disables.map((e) => e.detail.errorCode ?? 'ok')).toContain('ok');
  });

  it('records intercepted calls as what happened: applied is a success, otherwise the injected error', async () => {
    // Prepare
    const { kms, emulator } = await setup({
      intercept: (r) =>
        r.operation === 'ScheduleKeyDeletion'
          ? { kind: 'error', name: 'InternalFailure', status: 500, applied: true }
          : r.operation === 'DisableKey'
            ? { kind: 'error', name: 'KMSInternalException', status: 500 }
            : undefined,
    });
    const { events } = collect(emulator);
    const key = emulator.state.createKeyDirect(REGION);
    // Act
    await rejection(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 })));
    await rejection(kms.send(new DisableKeyCommand({ KeyId: key.keyId })));
    await sleep(50);
    // Assess
    const scheduled = only(events, 'ScheduleKeyDeletion').detail;
    expect(scheduled.errorCode).toBeUndefined();
    expect(scheduled.responseElements).toMatchObject({ keyId: key.arn, keyState: 'PendingDeletion' });
    expect(only(events, 'DisableKey').detail).toMatchObject({
      errorCode: 'KMSInternalException',
      responseElements: null,
    });
    expect(emulator.state.key(REGION, key.keyId)?.state).toBe('PendingDeletion');
  });
});

describe('CloudTrail DisassociateKmsKey events', () => {
  it('emits one aws.logs event with logGroupName or resourceIdentifier as given; failures carry errorCode', async () => {
    // Prepare
    const { logs, emulator } = await setup({ throttle: false });
    const { events } = collect(emulator);
    const key = emulator.state.createKeyDirect(REGION);
    emulator.state.putLogGroup(REGION, '/app/a', { kmsKeyId: key.arn });
    emulator.state.putLogGroup(REGION, '/app/b', { kmsKeyId: key.arn });
    const groupB = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/app/b`;
    // Act
    await logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/app/a' }));
    await logs.send(new DisassociateKmsKeyCommand({ resourceIdentifier: groupB }));
    await rejection(logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/app/none' })));
    await sleep(50);
    // Assess
    expect(events).toHaveLength(3);
    const [byName, byArn, missing] = events as [TrailEvent, TrailEvent, TrailEvent];
    for (const e of events) {
      expect(e).toMatchObject({
        source: 'aws.logs',
        detail: {
          eventSource: 'logs.amazonaws.com',
          eventName: 'DisassociateKmsKey',
          responseElements: null,
          apiVersion: '20140328',
        },
      });
      expect(e.detail.resources).toBeUndefined();
    }
    expect(byName.detail.requestParameters).toEqual({ logGroupName: '/app/a' });
    expect(byArn.detail.requestParameters).toEqual({ resourceIdentifier: groupB });
    expect(byName.detail.errorCode).toBeUndefined();
    expect(byArn.detail.errorCode).toBeUndefined();
    expect(missing.detail).toMatchObject({
      errorCode: 'ResourceNotFoundException',
      errorMessage: 'The specified log group does not exist.',
      requestParameters: { logGroupName: '/app/none' },
    });
  });
});

describe('CloudTrail events under IAM', () => {
  it('names a registered principal as its assumed-role session; an IAM refusal is recorded as AccessDeniedException', async () => {
    // Prepare
    const { roleKms, roleLogs, adminKms, emulator } = await iamSetup([
      'kms:ScheduleKeyDeletion',
      'logs:DisassociateKmsKey',
    ]);
    const { events } = collect(emulator);
    const key = emulator.state.createKeyDirect(REGION);
    emulator.state.putLogGroup(REGION, '/app/a', { kmsKeyId: key.arn });
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/KeyAdmin/${ROLE_KEY}`;
    // Act
    await roleKms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    const refused = await rejection(roleKms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId })));
    const refusedLogs = await rejection(
      roleLogs.send(new DisassociateKmsKeyCommand({ logGroupName: '/app/a' })),
    );
    await adminKms.send(new EnableKeyCommand({ KeyId: key.keyId }));
    await sleep(50);
    // Assess
    expect(refused.name).toBe('AccessDeniedException');
    expect(refusedLogs.name).toBe('AccessDeniedException');
    const assumedRole = {
      type: 'AssumedRole',
      principalId: expect.stringMatching(new RegExp(`^AROA[0-9A-Z]{17}:${ROLE_KEY}$`)),
      arn: session,
      accountId: ACCOUNT,
      accessKeyId: ROLE_KEY,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: expect.stringMatching(/^AROA[0-9A-Z]{17}$/),
          arn: ROLE_ARN,
          accountId: ACCOUNT,
          userName: 'KeyAdmin',
        },
        attributes: { mfaAuthenticated: 'false' },
      },
    };
    const disabled = only(events, 'DisableKey').detail;
    expect(disabled.userIdentity).toEqual({
      ...assumedRole,
      sessionContext: {
        ...assumedRole.sessionContext,
        attributes: { creationDate: expect.any(String), mfaAuthenticated: 'false' },
      },
    });
    expect(disabled.errorCode).toBeUndefined();
    expect(disabled.userAgent).toMatch(/aws-sdk-js/);
    expect(only(events, 'ScheduleKeyDeletion').detail).toMatchObject({
      userIdentity: assumedRole,
      errorCode: 'AccessDeniedException',
      errorMessage: `User: ${session} is not authorized to perform: kms:ScheduleKeyDeletion on resource: ${key.arn} with an explicit deny in an identity-based policy`,
      responseElements: null,
    });
    expect(only(events, 'DisassociateKmsKey').detail).toMatchObject({
      userIdentity: assumedRole,
      errorCode: 'AccessDeniedException',
      errorMessage: expect.stringContaining(
        `User: ${session} is not authorized to perform: logs:DisassociateKmsKey`,
      ),
    });
    expect(only(events, 'EnableKey').detail.userIdentity).toMatchObject({
      type: 'IAMUser',
      accessKeyId: ADMIN_KEY,
    });
    expect(emulator.state.key(REGION, key.keyId)?.state).toBe('Enabled');
    expect(emulator.state.logGroup(REGION, '/app/a')?.kmsKeyId).toBe(key.arn);
  });
});

describe('CloudTrail KMS and DisassociateKmsKey events: delivery and structure', () => {
  it('applies delay, duplication and loss to the new events as to CreateLogGroup', async () => {
    // Prepare: 2 s at time scale 10 = 200 ms
    const late = await setup({ throttle: false, timeScale: 10, events: { delayMs: 2_000 } });
    const dup = await setup({ throttle: false, events: { duplicateRate: 1 } });
    const lost = await setup({ throttle: false, events: { lossRate: 1 } });
    const heard = { late: collect(late.emulator), dup: collect(dup.emulator), lost: collect(lost.emulator) };
    const keys = [late, dup, lost].map((env) => env.emulator.state.createKeyDirect(REGION));
    // Act
    await late.kms.send(new DisableKeyCommand({ KeyId: keys[0]?.keyId }));
    await sleep(80);
    const early = heard.late.events.length;
    await dup.kms.send(new DisableKeyCommand({ KeyId: keys[1]?.keyId }));
    await dup.logs.send(new DisassociateKmsKeyCommand({ logGroupName: 'none' })).catch(() => {});
    await lost.kms.send(new DisableKeyCommand({ KeyId: keys[2]?.keyId }));
    await sleep(250);
    // Assess
    expect(early).toBe(0);
    expect(heard.late.events).toHaveLength(1);
    expect(heard.dup.events).toHaveLength(4);
    expect(new Set(heard.dup.events.map((e) => e.id)).size).toBe(2);
    expect(heard.lost.events).toHaveLength(0);
    expect(lost.emulator.state.key(REGION, keys[2]?.keyId as string)?.state).toBe('Disabled');
  });

  it('has the structure of the sample events (same keys in the same nesting, values aside)', async () => {
    // Prepare
    const plain = await setup({ throttle: false });
    const withIam = await iamSetup([]);
    const fromPlain = collect(plain.emulator);
    const fromIam = collect(withIam.emulator);
    const key = plain.emulator.state.createKeyDirect(REGION);
    const other = plain.emulator.state.createKeyDirect(REGION);
    withIam.emulator.state.putLogGroup(REGION, '/platform/audit');
    // Act
    await plain.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 20 }));
    await plain.kms.send(
      new PutKeyPolicyCommand({
        KeyId: other.keyId,
        PolicyName: 'default',
        Policy: policyOf(rootStatement()),
        BypassPolicyLockoutSafetyCheck: false,
      }),
    );
    await withIam.roleLogs.send(new DisassociateKmsKeyCommand({ logGroupName: '/platform/audit' }));
    await sleep(50);
    // Assess
    const pairs: [TrailEvent, string][] = [
      [only(fromPlain.events, 'ScheduleKeyDeletion'), 'kms-schedule-key-deletion.json'],
      [only(fromPlain.events, 'PutKeyPolicy'), 'kms-put-key-policy.json'],
      [only(fromIam.events, 'DisassociateKmsKey'), 'logs-disassociate-kms-key.json'],
    ];
    for (const [event, file] of pairs) {
      const sample = fixture(file);
      expect(shape(event), file).toEqual(shape(sample));
      expect(event.source, file).toBe(sample.source);
      expect(event.detail.eventName, file).toBe(sample.detail.eventName);
      expect(event.detail.userIdentity.type, file).toBe(sample.detail.userIdentity.type);
    }
  });
});
