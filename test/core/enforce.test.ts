/**
 * One case of enforceLogGroup (functions/core/enforce.ts) against aws-sdk-client-mock on a fake clock: while
 * Logs keeps refusing a key, a key the guard just created is not re-read but an existing one's policy is
 * re-checked; the tags are read right before associating (issue 19); without the key creator (the enforce
 * function) a missing guard key fails the record with GuardKeyMissingError. The rest of enforcement is covered through the handler (test/enforce.test.ts) and test/e2e.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  KMSClient,
  NotFoundException,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/core/config.ts';
import { enforceLogGroup } from '../../functions/core/enforce.ts';
import { GuardKeyMissingError } from '../../functions/core/errors.ts';
import { clearKeyCache, type KeyCreator } from '../../functions/core/key.ts';
import { keyCreator } from '../../functions/core/key-create.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, KEY_ARN, KEY_ID, memoryLog } from '../helpers.ts';

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const clients = {
  kms: new KMSClient({ region: REGION }),
  logs: new CloudWatchLogsClient({ region: REGION }),
};
const keyMetadata = {
  KeyId: KEY_ID,
  Arn: KEY_ARN,
  KeyState: 'Enabled' as const,
  KeySpec: 'SYMMETRIC_DEFAULT' as const,
  KeyUsage: 'ENCRYPT_DECRYPT' as const,
};
const notVisibleYet = Object.assign(
  new Error(`The specified KMS key does not exist or is not allowed to be used with Arn '...'`),
  { name: 'AccessDeniedException' },
);
const target = { name: '/aws/lambda/orders', region: REGION, account: ACCOUNT };

/**
 * One group through the core, with the deployed function's budget (120 s less the margin) on a fake clock.
 * `keyCreator` as the changes function passes it (it may create the guard key); the enforce function passes none.
 */
function enforce(keyCreator?: KeyCreator) {
  const clock = fakeClock();
  return enforceLogGroup(target, {
    clients,
    config: loadConfig({}),
    log: memoryLog(),
    deadline: clock.now() + 117_000,
    clock,
    keyCreator,
  });
}

describe('enforceLogGroup: waiting for a key to reach CloudWatch Logs', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    clearKeyCache();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: target.name }] });
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
    // Logs refuses the key 8 times (more than the 6 after which a cached key's policy is re-checked)
    let refusals = 8;
    logs.on(AssociateKmsKeyCommand).callsFake(async () => {
      if (refusals-- > 0) throw notVisibleYet;
      return {};
    });
  });

  it('does not read back the policy of a key it just created: the refusals are propagation', async () => {
    // Prepare: no key yet, so the guard creates it (with its policy): only a caller with the key creator does
    // (the changes function; key-create.ts), the enforce function creates none (see the next describe)
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ $metadata: {}, message: 'not found' }));
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: keyMetadata });
    kms.on(CreateAliasCommand).resolves({});
    kms.on(EnableKeyRotationCommand).resolves({});
    kms.on(TagResourceCommand).resolves({});
    // Act
    const result = await enforce(keyCreator);
    // Assess
    expect(result.outcome).toBe('encrypted');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(9);
    expect(kms.commandCalls(GetKeyPolicyCommand)).toHaveLength(0);
  });

  it('re-checks the policy of a key it found (someone may have narrowed it) once refusals persist', async () => {
    // Prepare: an existing, long-verified key
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: keyMetadata });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    // Act
    const result = await enforce();
    // Assess: the first read, then one re-check after the sixth refusal
    expect(result.outcome).toBe('encrypted');
    expect(kms.commandCalls(GetKeyPolicyCommand)).toHaveLength(2);
  });
});

describe('enforceLogGroup without a key creator (the enforce function)', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    clearKeyCache();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: target.name }] });
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
    logs.on(AssociateKmsKeyCommand).resolves({});
  });

  it('fails with GuardKeyMissingError on a region with no guard key, creating and associating nothing', async () => {
    // Prepare: the region has no guard key (the changes function has not created it yet)
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ $metadata: {}, message: 'not found' }));

    // Act: as the enforce function calls it, without keyCreator
    const run = enforce();

    // Assess: a retryable failure (the record goes back to the queue until the key check creates the key)
    await expect(run).rejects.toBeInstanceOf(GuardKeyMissingError);
    await expect(run).rejects.toMatchObject({ retryable: true });
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });
});

describe('enforceLogGroup: the opt-out tag at the moment of change', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    clearKeyCache();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: target.name }] });
    logs.on(AssociateKmsKeyCommand).resolves({});
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: keyMetadata });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
  });

  /** One group through the core with the given target fields. */
  function enforceWith(extra: Partial<Parameters<typeof enforceLogGroup>[0]>) {
    const clock = fakeClock();
    const config = loadConfig({});
    return enforceLogGroup(
      { ...target, ...extra },
      { clients, config, log: memoryLog(), deadline: clock.now() + 117_000, clock },
    );
  }

  it('reads the tags right before associating and honours an opt-out tag added after the event', async () => {
    logs.on(ListTagsForResourceCommand).resolves({ tags: { 'logs-kms-guard:skip': 'true' } });
    const result = await enforceWith({ tags: { team: 'orders' } });
    expect(result).toMatchObject({ outcome: 'out-of-scope', reason: 'tagged logs-kms-guard:skip=true' });
    expect(logs.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${target.name}` },
    ]);
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  it('does not read them again when the caller read them moments ago (the sweep audit step)', async () => {
    const result = await enforceWith({ tags: {}, tagsCurrent: true });
    expect(result.outcome).toBe('encrypted');
    expect(logs.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
  });

  it('throws, associating nothing, when the tags cannot be read', async () => {
    logs.on(ListTagsForResourceCommand).rejects(
      Object.assign(new Error('not authorized to perform: logs:ListTagsForResource'), {
        name: 'AccessDeniedException',
      }),
    );
    await expect(enforceWith({})).rejects.toThrow(/ListTagsForResource/);
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  it('treats a group gone before the tag read as gone', async () => {
    logs
      .on(ListTagsForResourceCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    expect((await enforceWith({})).outcome).toBe('group-gone');
  });
});

/*
 * A guard key another function created moments ago: since the enforce function creates no key, a new key is the
 * changes function's (its key check, the deploy-time key), and the first events arrive while CloudWatch Logs
 * cannot see it yet. DescribeKey's CreationDate marks it new: the refusals are propagation, and its policy is not
 * read back while they last (a key KMS created a day ago is re-checked instead: someone may have narrowed it).
 */
/** What Logs answers while the caller's access through a new key policy has not propagated (LZA #768). */
const callerDenied = Object.assign(
  new Error(
    'User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: kms:Encrypt on resource',
  ),
  { name: 'AccessDeniedException' },
);

/** One group through the core on a fake clock, the guard key created `ageMs` before. */
function enforceWithKeyOfAge(ageMs: number) {
  const clock = fakeClock();
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: { ...keyMetadata, CreationDate: new Date(clock.now() - ageMs) },
  });
  return enforceLogGroup(target, {
    clients,
    config: loadConfig({}),
    log: memoryLog(),
    deadline: clock.now() + 117_000,
    clock,
  });
}

describe('enforceLogGroup: a guard key another function created moments ago', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    clearKeyCache();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: target.name }] });
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    // Logs refuses the caller's access through the key 8 times (more than the 6 after which a policy is re-checked)
    let refusals = 8;
    logs.on(AssociateKmsKeyCommand).callsFake(async () => {
      if (refusals-- > 0) throw callerDenied;
      return {};
    });
  });

  it('takes the refusals for propagation and does not read its policy back', async () => {
    // Act: the key check created it 10 s ago
    const result = await enforceWithKeyOfAge(10_000);

    // Assess
    expect(result.outcome).toBe('encrypted');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(9);
    expect(kms.commandCalls(GetKeyPolicyCommand)).toHaveLength(1);
  });

  it('a key created a day ago: the same refusal is the caller lacking access, refused at once', async () => {
    // Act
    const result = enforceWithKeyOfAge(24 * 3_600_000);

    // Assess: not retried as propagation
    await expect(result).rejects.toThrow(/not authorized to perform: kms:Encrypt/);
    expect(logs.commandCalls(AssociateKmsKeyCommand).length).toBeLessThan(3);
  });
});
