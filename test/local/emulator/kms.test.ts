/**
 * The emulator's KMS (local/emulator/kms.ts) through the real SDK: keys and their states, aliases
 * (CreateAlias is atomic), policies with the lockout check, rotation and tags, with AWS's errors.
 */
import {
  AlreadyExistsException,
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSInvalidStateException,
  ListAliasesCommand,
  ListResourceTagsCommand,
  MalformedPolicyDocumentException,
  NotFoundException,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { ACCOUNT } from '../../../local/world.ts';
import { logsStatement, policyOf, rootStatement } from '../../helpers.ts';
import { rejection, setup } from './helpers.ts';

describe('KMS: keys', () => {
  it('CreateKey returns KeyMetadata with the default root policy', async () => {
    // Prepare
    const { kms, emulator } = await setup();
    // Act
    const { KeyMetadata: meta } = await kms.send(
      new CreateKeyCommand({
        Description: 'guard key',
        Tags: [{ TagKey: 'ManagedBy', TagValue: 'logs-kms-guard' }],
      }),
    );
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: meta?.KeyId }));
    // Assess
    expect(meta).toMatchObject({
      AWSAccountId: ACCOUNT,
      Arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${meta?.KeyId}`,
      KeyState: 'Enabled',
      Enabled: true,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
      Description: 'guard key',
      MultiRegion: false,
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    });
    expect(meta?.KeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta?.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs((meta?.CreationDate?.getTime() ?? 0) - Date.now())).toBeLessThan(5_000);
    expect(JSON.parse(Policy ?? '{}').Statement).toEqual([
      expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' }),
    ]);
    expect(emulator.state.keys('us-east-1')).toEqual([
      expect.objectContaining({ keyId: meta?.KeyId, tags: { ManagedBy: 'logs-kms-guard' }, rotation: false }),
    ]);
  });

  it('CreateKey makes asymmetric keys and uses the region of the signature', async () => {
    // Prepare
    const { kms, emulator } = await setup({}, 'eu-west-1');
    // Act
    const { KeyMetadata: meta } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }),
    );
    // Assess
    expect(meta?.Arn).toContain(':kms:eu-west-1:');
    expect(meta).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(emulator.state.keys('eu-west-1')).toHaveLength(1);
    expect(emulator.state.keys('us-east-1')).toHaveLength(0);
  });

  it('CreateKey applies the lockout safety check to its policy unless bypassed', async () => {
    // Prepare
    const { kms } = await setup();
    const logsOnly = policyOf(logsStatement('us-east-1'));
    // Act
    const err = await rejection(kms.send(new CreateKeyCommand({ Policy: logsOnly })));
    const bypassed = await kms.send(
      new CreateKeyCommand({ Policy: logsOnly, BypassPolicyLockoutSafetyCheck: true }),
    );
    // Assess
    expect(err).toBeInstanceOf(MalformedPolicyDocumentException);
    expect(err.message).toBe('The new key policy will not allow you to update the key policy in the future.');
    expect(bypassed.KeyMetadata?.KeyState).toBe('Enabled');
  });

  it('DescribeKey accepts key id, key ARN, alias name and alias ARN', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/logs-kms-guard', TargetKeyId: meta?.KeyId }));
    const ids = [
      meta?.KeyId,
      meta?.Arn,
      'alias/logs-kms-guard',
      `arn:aws:kms:us-east-1:${ACCOUNT}:alias/logs-kms-guard`,
    ];
    // Act
    const found = await Promise.all(ids.map((KeyId) => kms.send(new DescribeKeyCommand({ KeyId }))));
    // Assess
    for (const r of found) expect(r.KeyMetadata?.KeyId).toBe(meta?.KeyId);
  });

  it('DescribeKey raises NotFoundException with AWS-style messages', async () => {
    // Prepare
    const { kms } = await setup();
    const missing = '0b0b0b0b-1111-2222-3333-444455556666';
    // Act
    const byAlias = await rejection(kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' })));
    const byId = await rejection(kms.send(new DescribeKeyCommand({ KeyId: missing })));
    const otherRegion = await rejection(
      kms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${missing}` })),
    );
    // Assess
    expect(byAlias).toBeInstanceOf(NotFoundException);
    expect(byAlias.name).toBe('NotFoundException');
    expect(byAlias.message).toBe(`Alias arn:aws:kms:us-east-1:${ACCOUNT}:alias/x is not found.`);
    expect(byId.message).toBe(`Key 'arn:aws:kms:us-east-1:${ACCOUNT}:key/${missing}' does not exist`);
    expect(otherRegion).toBeInstanceOf(NotFoundException);
  });

  it('DisableKey / EnableKey change the state', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    // Act
    await kms.send(new DisableKeyCommand({ KeyId: meta?.KeyId }));
    const disabled = await kms.send(new DescribeKeyCommand({ KeyId: meta?.KeyId }));
    await kms.send(new EnableKeyCommand({ KeyId: meta?.KeyId }));
    const enabled = await kms.send(new DescribeKeyCommand({ KeyId: meta?.KeyId }));
    // Assess
    expect(disabled.KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(enabled.KeyMetadata).toMatchObject({ KeyState: 'Enabled', Enabled: true });
  });

  it('ScheduleKeyDeletion -> PendingDeletion; CancelKeyDeletion -> Disabled', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    // Act
    const scheduled = await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: meta?.KeyId, PendingWindowInDays: 7 }),
    );
    const pending = await kms.send(new DescribeKeyCommand({ KeyId: meta?.KeyId }));
    const again = await rejection(kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta?.KeyId })));
    const cancelled = await kms.send(new CancelKeyDeletionCommand({ KeyId: meta?.KeyId }));
    const after = await kms.send(new DescribeKeyCommand({ KeyId: meta?.KeyId }));
    const cancelAgain = await rejection(kms.send(new CancelKeyDeletionCommand({ KeyId: meta?.KeyId })));
    // Assess
    expect(scheduled).toMatchObject({
      KeyId: meta?.Arn,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: 7,
    });
    const days = ((scheduled.DeletionDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    expect(pending.KeyMetadata).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false });
    expect(pending.KeyMetadata?.DeletionDate).toBeInstanceOf(Date);
    expect(again).toBeInstanceOf(KMSInvalidStateException);
    expect(again.message).toBe(`${meta?.Arn} is pending deletion.`);
    expect(cancelled.KeyId).toBe(meta?.Arn);
    expect(after.KeyMetadata?.KeyState).toBe('Disabled');
    expect(cancelAgain).toBeInstanceOf(KMSInvalidStateException);
  });

  it('ScheduleKeyDeletion rejects a window outside 7-30 days', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    // Act
    const err = await rejection(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta?.KeyId, PendingWindowInDays: 3 })),
    );
    // Assess
    expect(err.name).toBe('ValidationException');
  });

  it('operations on a PendingDeletion key raise KMSInvalidStateException', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta?.KeyId }));
    const KeyId = meta?.KeyId;
    // Act
    const errors = await Promise.all([
      rejection(kms.send(new EnableKeyRotationCommand({ KeyId }))),
      rejection(kms.send(new EnableKeyCommand({ KeyId }))),
      rejection(kms.send(new DisableKeyCommand({ KeyId }))),
      rejection(kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: KeyId }))),
      rejection(kms.send(new TagResourceCommand({ KeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] }))),
    ]);
    // Assess
    for (const err of errors) expect(err).toBeInstanceOf(KMSInvalidStateException);
  });

  it('operations on unknown keys raise NotFoundException; key-only operations refuse aliases', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: meta?.KeyId }));
    const KeyId = '0b0b0b0b-1111-2222-3333-444455556666';
    // Act
    const errors = await Promise.all([
      rejection(kms.send(new GetKeyPolicyCommand({ KeyId }))),
      rejection(kms.send(new PutKeyPolicyCommand({ KeyId, Policy: policyOf(rootStatement()) }))),
      rejection(kms.send(new EnableKeyRotationCommand({ KeyId }))),
      rejection(kms.send(new ScheduleKeyDeletionCommand({ KeyId }))),
      rejection(kms.send(new ListResourceTagsCommand({ KeyId }))),
      rejection(kms.send(new GetKeyPolicyCommand({ KeyId: 'alias/a' }))),
    ]);
    // Assess
    for (const err of errors) expect(err).toBeInstanceOf(NotFoundException);
  });
});

describe('KMS: aliases', () => {
  it('CreateAlias is atomic: of concurrent creators exactly one wins', async () => {
    // Prepare
    const { kms } = await setup({ throttle: false });
    const keys = await Promise.all(Array.from({ length: 8 }, () => kms.send(new CreateKeyCommand({}))));
    // Act
    const results = await Promise.allSettled(
      keys.map((k) =>
        kms.send(
          new CreateAliasCommand({ AliasName: 'alias/logs-kms-guard', TargetKeyId: k.KeyMetadata?.KeyId }),
        ),
      ),
    );
    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(losers).toHaveLength(7);
    for (const l of losers) {
      expect(l.reason).toBeInstanceOf(AlreadyExistsException);
      expect(l.reason.message).toBe(
        `An alias with the name arn:aws:kms:us-east-1:${ACCOUNT}:alias/logs-kms-guard already exists`,
      );
    }
  });

  it('CreateAlias validates the name and the target', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    // Act
    const noPrefix = await rejection(
      kms.send(new CreateAliasCommand({ AliasName: 'guard', TargetKeyId: meta?.KeyId })),
    );
    const reserved = await rejection(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/logs', TargetKeyId: meta?.KeyId })),
    );
    const noKey = await rejection(
      kms.send(
        new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: '0b0b0b0b-1111-2222-3333-444455556666' }),
      ),
    );
    // Assess
    expect(noPrefix.name).toBe('ValidationException');
    expect(reserved.name).toBe('NotAuthorizedException');
    expect(noKey).toBeInstanceOf(NotFoundException);
  });

  it('UpdateAlias retargets, DeleteAlias removes, ListAliases paginates and filters', async () => {
    // Prepare
    const { kms, emulator } = await setup({ throttle: false });
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
    const b = (await kms.send(new CreateKeyCommand({}))).KeyMetadata;
    for (let i = 0; i < 5; i++) {
      await kms.send(new CreateAliasCommand({ AliasName: `alias/k${i}`, TargetKeyId: a?.KeyId }));
    }
    // Act
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/k0', TargetKeyId: b?.Arn }));
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/k4' }));
    const deleteAgain = await rejection(kms.send(new DeleteAliasCommand({ AliasName: 'alias/k4' })));
    const updateMissing = await rejection(
      kms.send(new UpdateAliasCommand({ AliasName: 'alias/zz', TargetKeyId: b?.KeyId })),
    );
    const first = await kms.send(new ListAliasesCommand({ Limit: 3 }));
    const second = await kms.send(new ListAliasesCommand({ Limit: 3, Marker: first.NextMarker }));
    const ofA = await kms.send(new ListAliasesCommand({ KeyId: a?.KeyId }));
    // Assess
    expect(first.Truncated).toBe(true);
    expect(first.Aliases?.map((x) => x.AliasName)).toEqual(['alias/k0', 'alias/k1', 'alias/k2']);
    expect(first.Aliases?.[0]).toMatchObject({
      AliasArn: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/k0`,
      TargetKeyId: b?.KeyId,
    });
    expect(second.Truncated).toBe(false);
    expect(second.NextMarker).toBeUndefined();
    expect(second.Aliases?.map((x) => x.AliasName)).toEqual(['alias/k3']);
    expect(ofA.Aliases?.map((x) => x.AliasName)).toEqual(['alias/k1', 'alias/k2', 'alias/k3']);
    expect(deleteAgain).toBeInstanceOf(NotFoundException);
    expect(updateMissing).toBeInstanceOf(NotFoundException);
    expect(emulator.state.key('us-east-1', 'alias/k0')?.keyId).toBe(b?.KeyId);
    expect(emulator.state.keys('us-east-1').find((k) => k.keyId === a?.KeyId)?.aliases).toEqual([
      'alias/k1',
      'alias/k2',
      'alias/k3',
    ]);
  });
});

describe('KMS: policy, rotation, tags', () => {
  it('PutKeyPolicy stores the policy; GetKeyPolicy returns it', async () => {
    // Prepare
    const { kms, emulator } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    const policy = policyOf(rootStatement(), logsStatement('us-east-1'));
    // Act
    await kms.send(new PutKeyPolicyCommand({ KeyId: meta?.Arn, Policy: policy }));
    const got = await kms.send(new GetKeyPolicyCommand({ KeyId: meta?.KeyId, PolicyName: 'default' }));
    // Assess
    expect(got).toMatchObject({ Policy: policy, PolicyName: 'default' });
    expect(emulator.state.keys('us-east-1')[0]?.policy).toBe(policy);
  });

  it('PutKeyPolicy rejects malformed documents and lockouts with MalformedPolicyDocumentException', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    const KeyId = meta?.KeyId;
    // Act
    const notJson = await rejection(kms.send(new PutKeyPolicyCommand({ KeyId, Policy: '{"Statement": [' })));
    const noStatement = await rejection(
      kms.send(new PutKeyPolicyCommand({ KeyId, Policy: '{"Version":"2012-10-17"}' })),
    );
    const lockout = await rejection(
      kms.send(new PutKeyPolicyCommand({ KeyId, Policy: policyOf(logsStatement('us-east-1')) })),
    );
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId,
        Policy: policyOf(logsStatement('us-east-1')),
        BypassPolicyLockoutSafetyCheck: true,
      }),
    );
    // Assess
    for (const err of [notJson, noStatement, lockout])
      expect(err).toBeInstanceOf(MalformedPolicyDocumentException);
    expect(lockout.message).toBe(
      'The new key policy will not allow you to update the key policy in the future.',
    );
  });

  it('EnableKeyRotation / DisableKeyRotation / GetKeyRotationStatus', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({}));
    // Act
    const before = await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta?.KeyId }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: meta?.KeyId }));
    const on = await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta?.KeyId }));
    await kms.send(new DisableKeyRotationCommand({ KeyId: meta?.KeyId }));
    const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: meta?.KeyId }));
    await kms.send(new DisableKeyCommand({ KeyId: meta?.KeyId }));
    const disabled = await rejection(kms.send(new EnableKeyRotationCommand({ KeyId: meta?.KeyId })));
    // Assess
    expect(before.KeyRotationEnabled).toBe(false);
    expect(on.KeyRotationEnabled).toBe(true);
    expect(off.KeyRotationEnabled).toBe(false);
    expect(disabled).toBeInstanceOf(DisabledException);
  });

  it('TagResource / UntagResource / ListResourceTags', async () => {
    // Prepare
    const { kms } = await setup();
    const { KeyMetadata: meta } = await kms.send(
      new CreateKeyCommand({ Tags: [{ TagKey: 'a', TagValue: '1' }] }),
    );
    // Act
    await kms.send(
      new TagResourceCommand({
        KeyId: meta?.KeyId,
        Tags: [
          { TagKey: 'b', TagValue: '2' },
          { TagKey: 'a', TagValue: '3' },
        ],
      }),
    );
    const tagged = await kms.send(new ListResourceTagsCommand({ KeyId: meta?.Arn }));
    await kms.send(new UntagResourceCommand({ KeyId: meta?.KeyId, TagKeys: ['a'] }));
    const untagged = await kms.send(new ListResourceTagsCommand({ KeyId: meta?.KeyId }));
    // Assess
    expect(tagged.Tags).toEqual([
      { TagKey: 'a', TagValue: '3' },
      { TagKey: 'b', TagValue: '2' },
    ]);
    expect(tagged.Truncated).toBe(false);
    expect(untagged.Tags).toEqual([{ TagKey: 'b', TagValue: '2' }]);
  });
});
