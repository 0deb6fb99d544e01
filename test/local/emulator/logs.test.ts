/**
 * The emulator's CloudWatch Logs (local/emulator/logs.ts) through the real SDK: log groups and paging,
 * AssociateKmsKey's checks of the key and its policy, and Logs' delayed view of KMS changes.
 */
import {
  AccessDeniedException,
  AssociateKmsKeyCommand,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
  InvalidParameterException,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../../../local/emulator/logs.ts';
import { ACCOUNT } from '../../../local/world.ts';
import { logsStatement, policyOf, rootStatement, sleep } from '../../helpers.ts';
import { rejection, setup } from './helpers.ts';

const groupArn = (name: string, region = 'us-east-1') =>
  `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}`;
const goodPolicy = (region = 'us-east-1') => policyOf(rootStatement(), logsStatement(region));

describe('CloudWatch Logs: log groups', () => {
  it('CreateLogGroup creates a group with tags; DescribeLogGroups shows it', async () => {
    // Prepare
    const { logs, emulator } = await setup();
    // Act
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/orders', tags: { team: 'a' } }));
    const { logGroups } = await logs.send(new DescribeLogGroupsCommand({}));
    const byArn = await logs.send(
      new ListTagsForResourceCommand({ resourceArn: groupArn('/aws/lambda/orders') }),
    );
    const byName = await logs.send(new ListTagsLogGroupCommand({ logGroupName: '/aws/lambda/orders' }));
    // Assess
    expect(logGroups).toEqual([
      {
        logGroupName: '/aws/lambda/orders',
        arn: `${groupArn('/aws/lambda/orders')}:*`,
        logGroupArn: groupArn('/aws/lambda/orders'),
        creationTime: expect.any(Number),
        storedBytes: 0,
        metricFilterCount: 0,
        logGroupClass: 'STANDARD',
      },
    ]);
    expect(Math.abs((logGroups?.[0]?.creationTime ?? 0) - Date.now())).toBeLessThan(5_000);
    expect(byArn.tags).toEqual({ team: 'a' });
    expect(byName.tags).toEqual({ team: 'a' });
    expect(emulator.state.logGroup('us-east-1', '/aws/lambda/orders')).toMatchObject({
      name: '/aws/lambda/orders',
      arn: groupArn('/aws/lambda/orders'),
      tags: { team: 'a' },
    });
  });

  it('CreateLogGroup raises ResourceAlreadyExistsException and InvalidParameterException', async () => {
    // Prepare
    const { logs } = await setup();
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'dup' }));
    // Act
    const dup = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: 'dup' })));
    const badChar = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: 'has space' })));
    const tooLong = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: 'x'.repeat(513) })));
    await logs.send(new CreateLogGroupCommand({ logGroupName: `${'x'.repeat(511)}#` }));
    // Assess
    expect(dup).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(dup.message).toBe('The specified log group already exists');
    expect(badChar).toBeInstanceOf(InvalidParameterException);
    expect(tooLong).toBeInstanceOf(InvalidParameterException);
  });

  it('DeleteLogGroup deletes; a missing group is ResourceNotFoundException', async () => {
    // Prepare
    const { logs, emulator } = await setup();
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'gone' }));
    // Act
    await logs.send(new DeleteLogGroupCommand({ logGroupName: 'gone' }));
    const again = await rejection(logs.send(new DeleteLogGroupCommand({ logGroupName: 'gone' })));
    const tags = await rejection(
      logs.send(new ListTagsForResourceCommand({ resourceArn: groupArn('gone') })),
    );
    // Assess
    expect(emulator.state.logGroup('us-east-1', 'gone')).toBeUndefined();
    expect(again).toBeInstanceOf(ResourceNotFoundException);
    expect(again.message).toBe('The specified log group does not exist.');
    expect(tags).toBeInstanceOf(ResourceNotFoundException);
  });

  it('DescribeLogGroups pages 120 groups of a prefix 50 at a time, sorted by name', async () => {
    // Prepare
    const { logs, emulator } = await setup();
    const names = Array.from({ length: 120 }, (_, i) => `/aws/lambda/fn-${String(i).padStart(3, '0')}`);
    for (const name of [...names].reverse()) emulator.state.putLogGroup('us-east-1', name);
    for (let i = 0; i < 7; i++) emulator.state.putLogGroup('us-east-1', `/ecs/svc-${i}`);
    // Act
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/', nextToken }),
      );
      pages.push((page.logGroups ?? []).map((g) => g.logGroupName ?? ''));
      nextToken = page.nextToken;
      await sleep(100); // DescribeLogGroups is 10 TPS
    } while (nextToken);
    // Assess
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(pages.flat()).toEqual(names);
  });

  it('DescribeLogGroups honours limit and rejects a limit above 50', async () => {
    // Prepare
    const { logs, emulator } = await setup();
    for (const n of ['b', 'a', 'c']) emulator.state.putLogGroup('us-east-1', n);
    // Act
    const page = await logs.send(new DescribeLogGroupsCommand({ limit: 2 }));
    const err = await rejection(logs.send(new DescribeLogGroupsCommand({ limit: 51 })));
    // Assess
    expect(page.logGroups?.map((g) => g.logGroupName)).toEqual(['a', 'b']);
    expect(page.nextToken).toEqual(expect.any(String));
    expect(err).toBeInstanceOf(InvalidParameterException);
  });

  it('TagResource / UntagResource on a log group ARN', async () => {
    // Prepare
    const { logs } = await setup();
    await logs.send(new CreateLogGroupCommand({ logGroupName: 't', tags: { a: '1' } }));
    // Act
    await logs.send(new TagResourceCommand({ resourceArn: groupArn('t'), tags: { b: '2' } }));
    await logs.send(new UntagResourceCommand({ resourceArn: groupArn('t'), tagKeys: ['a'] }));
    const { tags } = await logs.send(new ListTagsForResourceCommand({ resourceArn: groupArn('t') }));
    // Assess
    expect(tags).toEqual({ b: '2' });
  });
});

describe('CloudWatch Logs: AssociateKmsKey', () => {
  /** An emulator without propagation delay, a group, and keys made through the KMS API. */
  async function world(policy = goodPolicy()) {
    const env = await setup({ propagationDelayMs: 0, throttle: false });
    await env.logs.send(new CreateLogGroupCommand({ logGroupName: '/app/orders' }));
    const { KeyMetadata } = await env.kms.send(new CreateKeyCommand({ Policy: policy }));
    if (!KeyMetadata?.Arn || !KeyMetadata.KeyId) throw new Error('no key');
    return { ...env, keyArn: KeyMetadata.Arn, keyId: KeyMetadata.KeyId };
  }
  const associate = (
    env: Awaited<ReturnType<typeof world>>,
    kmsKeyId: string,
    logGroupName = '/app/orders',
  ) => env.logs.send(new AssociateKmsKeyCommand({ logGroupName, kmsKeyId }));

  it('associates a key whose policy admits CloudWatch Logs; DescribeLogGroups shows the key ARN', async () => {
    // Prepare
    const env = await world();
    // Act
    await associate(env, env.keyArn);
    const { logGroups } = await env.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/app/' }));
    // Assess
    expect(logGroups?.[0]?.kmsKeyId).toBe(env.keyArn);
    expect(env.emulator.state.logGroup('us-east-1', '/app/orders')).toMatchObject({
      kmsKeyId: env.keyArn,
      associatedAt: expect.any(Number),
    });
  });

  it('DisassociateKmsKey removes the key; a missing group is ResourceNotFoundException', async () => {
    // Prepare
    const env = await world();
    await associate(env, env.keyArn);
    // Act
    await env.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/app/orders' }));
    const missing = await rejection(env.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/nope' })));
    // Assess
    expect(env.emulator.state.logGroup('us-east-1', '/app/orders')?.kmsKeyId).toBeUndefined();
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('a missing group is ResourceNotFoundException', async () => {
    // Prepare
    const env = await world();
    // Act
    const err = await rejection(associate(env, env.keyArn, '/nope'));
    // Assess
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.message).toBe('The specified log group does not exist.');
  });

  it('a bare key id, an alias, an alias ARN, a key of another region or a missing key: InvalidParameterException', async () => {
    // Prepare
    const env = await world();
    await env.kms.send(new CreateAliasCommand({ AliasName: 'alias/guard', TargetKeyId: env.keyId }));
    const ids = [
      env.keyId,
      'alias/guard',
      `arn:aws:kms:us-east-1:${ACCOUNT}:alias/guard`,
      env.keyArn.replace('us-east-1', 'eu-west-1'),
      env.keyArn.replace(ACCOUNT, '999999999999'),
      `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b0b0b0b-1111-2222-3333-444455556666`,
    ];
    // Act
    const errors = await Promise.all(ids.map((id) => rejection(associate(env, id))));
    // Assess
    for (const err of errors) {
      expect(err).toBeInstanceOf(InvalidParameterException);
      expect(err.message).toBe('The specified KMS Key Id could not be found.');
    }
  });

  it('a disabled, pending-deletion or asymmetric key: InvalidParameterException', async () => {
    // Prepare
    const env = await world();
    const disabled = (await env.kms.send(new CreateKeyCommand({ Policy: goodPolicy() }))).KeyMetadata;
    await env.kms.send(new DisableKeyCommand({ KeyId: disabled?.KeyId }));
    const pending = (await env.kms.send(new CreateKeyCommand({ Policy: goodPolicy() }))).KeyMetadata;
    await env.kms.send(new ScheduleKeyDeletionCommand({ KeyId: pending?.KeyId }));
    const rsa = (
      await env.kms.send(
        new CreateKeyCommand({ Policy: goodPolicy(), KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
      )
    ).KeyMetadata;
    const rsaEncrypt = (
      await env.kms.send(
        new CreateKeyCommand({ Policy: goodPolicy(), KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }),
      )
    ).KeyMetadata;
    // Act
    const [d, p, r, re] = await Promise.all(
      [disabled, pending, rsa, rsaEncrypt].map((k) => rejection(associate(env, k?.Arn ?? ''))),
    );
    // Assess
    for (const err of [d, p, r, re]) expect(err).toBeInstanceOf(InvalidParameterException);
    expect(d?.message).toBe(MESSAGES.keyDisabled);
    expect(p?.message).toBe(MESSAGES.keyPendingDeletion);
    expect(r?.message).toBe(MESSAGES.keyNotSymmetric);
    expect(re?.message).toBe(MESSAGES.keyNotSymmetric);
  });

  it('a policy without the Logs statement: AccessDeniedException naming the group ARN', async () => {
    // Prepare
    const env = await world(policyOf(rootStatement()));
    // Act
    const err = await rejection(associate(env, env.keyArn));
    // Assess
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(
      `The specified KMS key does not exist or is not allowed to be used with Arn '${groupArn('/app/orders')}'`,
    );
    expect(env.emulator.state.logGroup('us-east-1', '/app/orders')?.kmsKeyId).toBeUndefined();
  });

  it('a Logs statement whose condition names another region: AccessDeniedException', async () => {
    // Prepare
    const env = await world(policyOf(rootStatement(), logsStatement('us-east-1', ACCOUNT, 'eu-west-1')));
    // Act
    const err = await rejection(associate(env, env.keyArn));
    // Assess
    expect(err).toBeInstanceOf(AccessDeniedException);
  });

  it('CreateLogGroup with kmsKeyId applies the same checks', async () => {
    // Prepare
    const env = await world();
    const closed = (await env.kms.send(new CreateKeyCommand({ Policy: policyOf(rootStatement()) })))
      .KeyMetadata;
    // Act
    await env.logs.send(new CreateLogGroupCommand({ logGroupName: 'enc', kmsKeyId: env.keyArn }));
    const denied = await rejection(
      env.logs.send(new CreateLogGroupCommand({ logGroupName: 'den', kmsKeyId: closed?.Arn })),
    );
    const bare = await rejection(
      env.logs.send(new CreateLogGroupCommand({ logGroupName: 'bare', kmsKeyId: env.keyId })),
    );
    // Assess
    expect(env.emulator.state.logGroup('us-east-1', 'enc')?.kmsKeyId).toBe(env.keyArn);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect(bare).toBeInstanceOf(InvalidParameterException);
    expect(env.emulator.state.logGroup('us-east-1', 'den')).toBeUndefined();
  });

  it('a direct set-up key (createKeyDirect) is visible to Logs at once', async () => {
    // Prepare
    const { logs, emulator } = await setup({ propagationDelayMs: 3_000 }, 'eu-west-1');
    emulator.state.putLogGroup('eu-west-1', 'g');
    const key = emulator.state.createKeyDirect('eu-west-1', { policy: goodPolicy('eu-west-1') });
    // Act
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: 'g', kmsKeyId: key.arn }));
    // Assess
    expect(key.arn).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
    expect(emulator.state.logGroup('eu-west-1', 'g')?.kmsKeyId).toBe(key.arn);
  });
});

describe('CloudWatch Logs: eventual consistency of its view of KMS', () => {
  // 3 s of propagation at time scale 20: 150 ms of real time.
  const options = { propagationDelayMs: 3_000, timeScale: 20 };

  it('a brand-new key does not exist for Logs until the delay has passed', async () => {
    // Prepare
    const { kms, logs, emulator } = await setup(options);
    emulator.state.putLogGroup('us-east-1', 'g');
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Policy: goodPolicy() }));
    // Act
    const early = await rejection(
      logs.send(new AssociateKmsKeyCommand({ logGroupName: 'g', kmsKeyId: KeyMetadata?.Arn })),
    );
    const viewEarly = emulator.state.logsViewOfKey('us-east-1', KeyMetadata?.Arn ?? '');
    await sleep(200);
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: 'g', kmsKeyId: KeyMetadata?.Arn }));
    // Assess
    expect(early).toBeInstanceOf(InvalidParameterException);
    expect(early.message).toBe('The specified KMS Key Id could not be found.');
    expect(viewEarly).toBeUndefined();
    expect(emulator.state.keys('us-east-1')[0]?.state).toBe('Enabled');
    expect(emulator.state.logGroup('us-east-1', 'g')?.kmsKeyId).toBe(KeyMetadata?.Arn);
  });

  it('a policy fix becomes visible to Logs only after the delay', async () => {
    // Prepare
    const { kms, logs, emulator } = await setup(options);
    emulator.state.putLogGroup('us-east-1', 'g');
    const key = emulator.state.createKeyDirect('us-east-1', {});
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: goodPolicy() }));
    // Act
    const early = await rejection(
      logs.send(new AssociateKmsKeyCommand({ logGroupName: 'g', kmsKeyId: key.arn })),
    );
    await sleep(200);
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: 'g', kmsKeyId: key.arn }));
    // Assess
    expect(early).toBeInstanceOf(AccessDeniedException);
    expect(emulator.state.key('us-east-1', key.keyId)?.policy).toBe(goodPolicy());
    expect(emulator.state.logGroup('us-east-1', 'g')?.kmsKeyId).toBe(key.arn);
  });

  it('Logs still sees a just-disabled key as enabled until the delay has passed', async () => {
    // Prepare
    const { kms, logs, emulator } = await setup(options);
    emulator.state.putLogGroup('us-east-1', 'a');
    emulator.state.putLogGroup('us-east-1', 'b');
    const key = emulator.state.createKeyDirect('us-east-1', { policy: goodPolicy() });
    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    // Act
    await logs.send(new AssociateKmsKeyCommand({ logGroupName: 'a', kmsKeyId: key.arn }));
    await sleep(200);
    const late = await rejection(
      logs.send(new AssociateKmsKeyCommand({ logGroupName: 'b', kmsKeyId: key.arn })),
    );
    // Assess
    expect(emulator.state.logGroup('us-east-1', 'a')?.kmsKeyId).toBe(key.arn);
    expect(late).toBeInstanceOf(InvalidParameterException);
    expect(late.message).toBe(MESSAGES.keyDisabled);
  });
});
