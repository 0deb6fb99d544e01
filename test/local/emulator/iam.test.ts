/**
 * The emulator's IAM authorization (local/emulator/authorize.ts, iam.ts) through the real SDK: callers, key
 * and identity policies, condition keys, the authorization lag of new tags and aliases, the KMS calls Logs
 * makes with the caller's credentials, and `evaluate` on its own.
 */
import {
  AssociateKmsKeyCommand,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { evaluate, type IamOptions, type IamPrincipal } from '../../../local/emulator/iam.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { logsStatement, policyOf, rootStatement, sleep } from '../../helpers.ts';
import { rejection, setup, signedAs } from './helpers.ts';

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/service/GuardRole`;
const ROLE_KEY = 'AKIDGUARDROLE';
const ADMIN_KEY = 'AKIDADMIN';
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/GuardRole/${ROLE_KEY}`;
const GROUP_ARN = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;

/** An identity policy document from statements. */
const identity = (...statements: Record<string, unknown>[]) => ({
  Version: '2012-10-17',
  Statement: statements.map((s) => ({ Effect: 'Allow', Resource: '*', ...s })),
});

/** The guard role with these identity policy documents. */
const role = (...policies: unknown[]): IamPrincipal => ({
  arn: ROLE_ARN,
  policies: policies.map((policy, i) => ({ name: `policy-${i}`, policy })),
});

/** The key-policy statement that lets the role use a key through CloudWatch Logs only. */
const viaLogsStatement = {
  Sid: 'GuardViaLogs',
  Effect: 'Allow',
  Principal: { AWS: ROLE_ARN },
  Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'],
  Resource: '*',
  Condition: {
    StringEquals: { 'kms:ViaService': `logs.${REGION}.amazonaws.com` },
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*` },
  },
};

/** An emulator with IAM on, clients for the role and the admin. */
async function iamSetup(principal: IamPrincipal, extra: Partial<IamOptions> = {}) {
  const env = await setup({
    iam: { principals: { [ROLE_KEY]: principal }, admins: [ADMIN_KEY], ...extra },
    throttle: false,
  });
  const role = signedAs(env, ROLE_KEY);
  const admin = signedAs(env, ADMIN_KEY);
  return { ...env, roleKms: role.kms, roleLogs: role.logs, adminKms: admin.kms, adminLogs: admin.logs };
}

describe('IAM: who is calling', () => {
  it('rejects an access key that is neither a principal nor an admin', async () => {
    // Prepare
    const { kms, emulator } = await iamSetup(role());
    // Act
    const err = await rejection(kms.send(new CreateKeyCommand({})));
    // Assess
    expect(err.name).toBe('UnrecognizedClientException');
    expect(err.message).toBe('The security token included in the request is invalid.');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(emulator.state.keys(REGION)).toHaveLength(0);
    expect(emulator.calls[0]).toMatchObject({ accessKeyId: 'test', error: 'UnrecognizedClientException' });
  });

  it('lets an admin do anything, with no decisions recorded', async () => {
    // Prepare
    const { adminKms, adminLogs, emulator } = await iamSetup(role());
    // Act
    const { KeyMetadata } = await adminKms.send(
      new CreateKeyCommand({ Tags: [{ TagKey: 'a', TagValue: 'b' }] }),
    );
    await adminKms.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.KeyId }));
    await adminLogs.send(new CreateLogGroupCommand({ logGroupName: '/a' }));
    const { logGroups } = await adminLogs.send(new DescribeLogGroupsCommand({}));
    // Assess
    expect(logGroups?.map((g) => g.logGroupName)).toEqual(['/a']);
    expect(emulator.authorizations).toEqual([]);
    expect(emulator.calls.every((c) => c.accessKeyId === ADMIN_KEY && c.error === undefined)).toBe(true);
  });

  it('can change a principal at run time', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(role());
    const denied = await rejection(roleKms.send(new CreateKeyCommand({})));
    // Act
    emulator.iam.setPrincipal(ROLE_KEY, role(identity({ Action: 'kms:CreateKey' })));
    await roleKms.send(new CreateKeyCommand({}));
    emulator.iam.removePrincipal(ROLE_KEY);
    const gone = await rejection(roleKms.send(new CreateKeyCommand({})));
    // Assess
    expect(denied.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action`,
    );
    expect(gone.name).toBe('UnrecognizedClientException');
  });
});

describe('IAM: key policies and identity policies', () => {
  it('identity policies count only on a key whose policy delegates to the account', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(
      role(identity({ Action: 'kms:DescribeKey', Resource: 'arn:aws:kms:*:*:key/*' })),
    );
    const delegating = emulator.state.createKeyDirect(REGION);
    const closed = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement('111122223333')),
    });
    // Act
    const ok = await roleKms.send(new DescribeKeyCommand({ KeyId: delegating.keyId }));
    const err = await rejection(roleKms.send(new DescribeKeyCommand({ KeyId: closed.keyId })));
    // Assess
    expect(ok.KeyMetadata?.Arn).toBe(delegating.arn);
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:DescribeKey on resource: ${closed.arn} because no resource-based policy allows the kms:DescribeKey action`,
    );
  });

  it('a key policy naming the role grants by itself', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(role());
    const key = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), {
        Effect: 'Allow',
        Principal: { AWS: ROLE_ARN },
        Action: 'kms:DescribeKey',
        Resource: '*',
      }),
    });
    // Act
    const { KeyMetadata } = await roleKms.send(new DescribeKeyCommand({ KeyId: key.arn }));
    // Assess
    expect(KeyMetadata?.KeyId).toBe(key.keyId);
  });

  it('an explicit Deny wins, in an identity policy or in the key policy', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(
      role(identity({ Action: 'kms:*' }), identity({ Effect: 'Deny', Action: 'kms:DescribeKey' })),
    );
    const key = emulator.state.createKeyDirect(REGION);
    const denyingKey = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), {
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:GetKeyPolicy',
        Resource: '*',
      }),
    });
    // Act
    const byIdentity = await rejection(roleKms.send(new DescribeKeyCommand({ KeyId: key.keyId })));
    const byKeyPolicy = await rejection(roleKms.send(new GetKeyPolicyCommand({ KeyId: denyingKey.keyId })));
    // Assess
    expect(byIdentity.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:DescribeKey on resource: ${key.arn} with an explicit deny in an identity-based policy`,
    );
    expect(byKeyPolicy.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:GetKeyPolicy on resource: ${denyingKey.arn} with an explicit deny in a resource-based policy`,
    );
  });
});

describe('IAM: condition keys', () => {
  it('CreateKey sees aws:RequestTag, and its Tags also need kms:TagResource', async () => {
    // Prepare
    const onlyDevTags = { StringEquals: { 'aws:RequestTag/env': 'dev' } };
    const { roleKms, emulator } = await iamSetup(
      role(identity({ Action: 'kms:CreateKey', Condition: onlyDevTags })),
    );
    const tags = (env: string) => [{ TagKey: 'env', TagValue: env }];
    // Act
    const prod = await rejection(roleKms.send(new CreateKeyCommand({ Tags: tags('prod') })));
    const noTagGrant = await rejection(roleKms.send(new CreateKeyCommand({ Tags: tags('dev') })));
    emulator.iam.setPrincipal(
      ROLE_KEY,
      role(identity({ Action: ['kms:CreateKey', 'kms:TagResource'], Condition: onlyDevTags })),
    );
    await roleKms.send(new CreateKeyCommand({ Tags: tags('dev') }));
    // Assess
    expect(prod.message).toContain('kms:CreateKey on resource: * because no identity-based policy allows');
    expect(noTagGrant.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:TagResource because no identity-based policy allows the kms:TagResource action`,
    );
    expect(emulator.state.keys(REGION)).toEqual([expect.objectContaining({ tags: { env: 'dev' } })]);
  });

  it('ScheduleKeyDeletion sees kms:ScheduleKeyDeletionPendingWindowInDays', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(
      role(
        identity({
          Action: 'kms:ScheduleKeyDeletion',
          Condition: { NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '14' } },
        }),
      ),
    );
    const key = emulator.state.createKeyDirect(REGION);
    // Act
    const short = await rejection(
      roleKms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 })),
    );
    await roleKms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 20 }));
    // Assess
    expect(short.name).toBe('AccessDeniedException');
    expect(emulator.state.key(REGION, key.keyId)?.state).toBe('PendingDeletion');
  });

  it('PutKeyPolicy sees kms:BypassPolicyLockoutSafetyCheck', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(
      role(
        identity({ Action: 'kms:PutKeyPolicy' }),
        identity({
          Effect: 'Deny',
          Action: 'kms:PutKeyPolicy',
          Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
        }),
      ),
    );
    const key = emulator.state.createKeyDirect(REGION);
    const policy = policyOf(rootStatement());
    // Act
    const bypass = await rejection(
      roleKms.send(
        new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: policy, BypassPolicyLockoutSafetyCheck: true }),
      ),
    );
    await roleKms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: policy }));
    // Assess
    expect(bypass.message).toContain('with an explicit deny in an identity-based policy');
    expect(emulator.state.key(REGION, key.keyId)?.policy).toBe(policy);
  });

  it('Encrypt sees kms:EncryptionContext:<key> and kms:EncryptionContextKeys', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(role());
    const key = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), {
        Effect: 'Allow',
        Principal: { AWS: ROLE_ARN },
        Action: 'kms:Encrypt',
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:EncryptionContext:purpose': 'test' },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['purpose'] },
        },
      }),
    });
    const encrypt = (context?: Record<string, string>) =>
      roleKms.send(
        new EncryptCommand({
          KeyId: key.arn,
          Plaintext: Buffer.from('hi'),
          ...(context ? { EncryptionContext: context } : {}),
        }),
      );
    // Act
    const ok = await encrypt({ purpose: 'test' });
    const wrong = await rejection(encrypt({ purpose: 'other' }));
    const none = await rejection(encrypt());
    // Assess
    expect(ok.KeyId).toBe(key.arn);
    expect(ok.CiphertextBlob?.length).toBeGreaterThan(0);
    expect(wrong.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:Encrypt on resource: ${key.arn} because no identity-based policy allows the kms:Encrypt action`,
    );
    expect(none.name).toBe('AccessDeniedException');
  });
});

describe('IAM: tags and aliases count for authorization only after the lag', () => {
  const tagged = { StringEquals: { 'aws:ResourceTag/team': 'guard' } };
  const aliased = { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/guard' } };

  it('tags and aliases set seconds ago do not count; direct set-up does', async () => {
    // Prepare
    const { roleKms, adminKms, emulator } = await iamSetup(
      role(
        identity({ Action: 'kms:DescribeKey', Condition: tagged }),
        identity({ Action: 'kms:DescribeKey', Condition: aliased }),
      ),
    );
    const { KeyMetadata: fresh } = await adminKms.send(
      new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'guard' }] }),
    );
    const aliasedNow = emulator.state.createKeyDirect(REGION);
    await adminKms.send(new CreateAliasCommand({ AliasName: 'alias/guard', TargetKeyId: aliasedNow.keyId }));
    const old = emulator.state.createKeyDirect(REGION, { tags: { team: 'guard' } });
    // Act
    const freshTag = await rejection(roleKms.send(new DescribeKeyCommand({ KeyId: fresh?.KeyId })));
    const freshAlias = await rejection(roleKms.send(new DescribeKeyCommand({ KeyId: aliasedNow.keyId })));
    const direct = await roleKms.send(new DescribeKeyCommand({ KeyId: old.keyId }));
    // Assess
    expect(freshTag.name).toBe('AccessDeniedException');
    expect(freshAlias.name).toBe('AccessDeniedException');
    expect(direct.KeyMetadata?.KeyId).toBe(old.keyId);
  });

  it('they count once authorizationLagMs / timeScale has passed', async () => {
    // Prepare
    const { roleKms, adminKms, emulator } = await iamSetup(
      role(identity({ Action: 'kms:DescribeKey', Condition: aliased })),
      { authorizationLagMs: 300 },
    );
    const key = emulator.state.createKeyDirect(REGION);
    await adminKms.send(new CreateAliasCommand({ AliasName: 'alias/guard', TargetKeyId: key.keyId }));
    const early = await rejection(roleKms.send(new DescribeKeyCommand({ KeyId: key.keyId })));
    // Act
    await sleep(400);
    const { KeyMetadata } = await roleKms.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    // Assess
    expect(early.name).toBe('AccessDeniedException');
    expect(KeyMetadata?.KeyId).toBe(key.keyId);
  });
});

describe('IAM: CloudWatch Logs calls KMS with the caller credentials', () => {
  const logsGrants = identity({
    Action: ['logs:CreateLogGroup', 'logs:AssociateKmsKey', 'logs:DescribeLogGroups'],
  });
  const describeKey = identity({ Action: 'kms:DescribeKey' });

  it('AssociateKmsKey by a role lacking kms:Encrypt via Logs fails with AWS text and changes nothing', async () => {
    // Prepare
    const { roleLogs, emulator } = await iamSetup(role(logsGrants, describeKey));
    const key = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), logsStatement(REGION)),
    });
    emulator.state.putLogGroup(REGION, '/app');
    // Act
    const err = await rejection(
      roleLogs.send(new AssociateKmsKeyCommand({ logGroupName: '/app', kmsKeyId: key.arn })),
    );
    // Assess
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:Encrypt on resource: ${key.arn} because no identity-based policy allows the kms:Encrypt action`,
    );
    expect(emulator.state.logGroup(REGION, '/app')?.kmsKeyId).toBeUndefined();
  });

  it('succeeds with a key-policy statement for the role via Logs plus IAM DescribeKey, and records every decision', async () => {
    // Prepare
    const { roleLogs, emulator } = await iamSetup(role(logsGrants, describeKey));
    const key = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), logsStatement(REGION), viaLogsStatement),
    });
    emulator.state.putLogGroup(REGION, '/app');
    // Act
    await roleLogs.send(new AssociateKmsKeyCommand({ logGroupName: '/app', kmsKeyId: key.arn }));
    // Assess
    expect(emulator.state.logGroup(REGION, '/app')?.kmsKeyId).toBe(key.arn);
    const principal = ROLE_ARN;
    const group = `${GROUP_ARN('/app')}:log-stream:`;
    expect(emulator.authorizations.map(({ at: _at, ...r }) => r)).toEqual([
      {
        accessKeyId: ROLE_KEY,
        principal,
        operation: 'AssociateKmsKey',
        action: 'logs:AssociateKmsKey',
        resource: group,
        decision: 'Allowed',
      },
      ...['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'].map((action) => ({
        accessKeyId: ROLE_KEY,
        principal,
        operation: 'AssociateKmsKey',
        action,
        resource: key.arn,
        forwardedBy: 'logs',
        decision: 'Allowed',
      })),
    ]);
  });

  it('succeeds with IAM grants conditioned on kms:ViaService on a root-delegating key (CreateLogGroup too)', async () => {
    // Prepare
    const viaLogs = identity({
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': `logs.${REGION}.amazonaws.com` } },
    });
    const { roleLogs, emulator } = await iamSetup(role(logsGrants, describeKey, viaLogs));
    const key = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), logsStatement(REGION)),
    });
    // Act
    await roleLogs.send(new CreateLogGroupCommand({ logGroupName: '/new', kmsKeyId: key.arn }));
    // Assess
    expect(emulator.state.logGroup(REGION, '/new')?.kmsKeyId).toBe(key.arn);
    expect(emulator.authorizations.filter((r) => r.forwardedBy === 'logs')).toHaveLength(4);
  });

  it('the via-Logs key-policy statement does not allow a direct kms:Encrypt', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(role(describeKey));
    const key = emulator.state.createKeyDirect(REGION, {
      policy: policyOf(rootStatement(), viaLogsStatement),
    });
    // Act
    const err = await rejection(
      roleKms.send(
        new EncryptCommand({
          KeyId: key.arn,
          Plaintext: Buffer.from('x'),
          EncryptionContext: { 'aws:logs:arn': GROUP_ARN('/app') },
        }),
      ),
    );
    // Assess
    expect(err.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:Encrypt on resource: ${key.arn} because no identity-based policy allows the kms:Encrypt action`,
    );
  });

  it('authorizes the Logs operation itself on the log group, and DescribeLogGroups on *', async () => {
    // Prepare
    const { roleLogs, emulator } = await iamSetup(
      role(
        identity({
          Action: 'logs:CreateLogGroup',
          Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/app/*`,
        }),
      ),
    );
    // Act
    await roleLogs.send(new CreateLogGroupCommand({ logGroupName: '/app/a' }));
    const other = await rejection(roleLogs.send(new CreateLogGroupCommand({ logGroupName: '/other' })));
    const list = await rejection(roleLogs.send(new DescribeLogGroupsCommand({})));
    // Assess
    expect(emulator.state.logGroups(REGION).map((g) => g.name)).toEqual(['/app/a']);
    expect(other.message).toBe(
      `User: ${SESSION} is not authorized to perform: logs:CreateLogGroup on resource: ${GROUP_ARN('/other')}:log-stream: because no identity-based policy allows the logs:CreateLogGroup action`,
    );
    expect(list.message).toBe(
      `User: ${SESSION} is not authorized to perform: logs:DescribeLogGroups on resource: arn:aws:logs:${REGION}:${ACCOUNT}:log-group::log-stream: because no identity-based policy allows the logs:DescribeLogGroups action`,
    );
  });
});

describe('IAM: aliases', () => {
  it('CreateAlias needs permission on the alias and on the key', async () => {
    // Prepare
    const aliasOnly = identity({
      Action: 'kms:CreateAlias',
      Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/*`,
    });
    const { roleKms, emulator } = await iamSetup(role(aliasOnly));
    const key = emulator.state.createKeyDirect(REGION);
    // Act
    const noKey = await rejection(
      roleKms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: key.keyId })),
    );
    emulator.iam.setPrincipal(
      ROLE_KEY,
      role(
        aliasOnly,
        identity({ Action: 'kms:CreateAlias', Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/*` }),
      ),
    );
    await roleKms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: key.keyId }));
    // Assess
    expect(noKey.message).toBe(
      `User: ${SESSION} is not authorized to perform: kms:CreateAlias on resource: ${key.arn} because no identity-based policy allows the kms:CreateAlias action`,
    );
    expect(emulator.state.key(REGION, 'alias/a')?.keyId).toBe(key.keyId);
    expect(emulator.authorizations.map((r) => [r.resource.split(':').at(-1), r.decision])).toEqual([
      ['alias/a', 'Allowed'],
      [`key/${key.keyId}`, 'ImplicitlyDenied'],
      ['alias/a', 'Allowed'],
      [`key/${key.keyId}`, 'Allowed'],
    ]);
  });
});

describe('IAM: aliases and ciphertexts name their keys', () => {
  it('UpdateAlias checks the alias, the current key and the new key; DeleteAlias the alias and its key', async () => {
    // Prepare
    const { roleKms, adminKms, emulator } = await iamSetup(
      role(identity({ Action: ['kms:UpdateAlias', 'kms:DeleteAlias'] })),
    );
    const from = emulator.state.createKeyDirect(REGION);
    const to = emulator.state.createKeyDirect(REGION);
    await adminKms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: from.keyId }));
    // Act
    await roleKms.send(new UpdateAliasCommand({ AliasName: 'alias/x', TargetKeyId: to.keyId }));
    await roleKms.send(new DeleteAliasCommand({ AliasName: 'alias/x' }));
    // Assess
    const alias = `arn:aws:kms:${REGION}:${ACCOUNT}:alias/x`;
    expect(emulator.authorizations.map((r) => [r.action, r.resource])).toEqual([
      ['kms:UpdateAlias', alias],
      ['kms:UpdateAlias', from.arn],
      ['kms:UpdateAlias', to.arn],
      ['kms:DeleteAlias', alias],
      ['kms:DeleteAlias', to.arn],
    ]);
  });

  it('Decrypt without KeyId is authorized on the key the ciphertext names', async () => {
    // Prepare
    const { roleKms, emulator } = await iamSetup(role(identity({ Action: 'kms:Encrypt' })));
    const key = emulator.state.createKeyDirect(REGION);
    const { CiphertextBlob } = await roleKms.send(
      new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x') }),
    );
    // Act
    const denied = await rejection(roleKms.send(new DecryptCommand({ CiphertextBlob })));
    emulator.iam.setPrincipal(ROLE_KEY, role(identity({ Action: ['kms:Encrypt', 'kms:Decrypt'] })));
    const { Plaintext, KeyId } = await roleKms.send(new DecryptCommand({ CiphertextBlob }));
    // Assess
    expect(denied.message).toContain(`kms:Decrypt on resource: ${key.arn} because no identity-based policy`);
    expect(Buffer.from(Plaintext ?? []).toString()).toBe('x');
    expect(KeyId).toBe(key.arn);
  });
});

describe('IAM: new key policies', () => {
  it('refuses a policy naming an AWS principal that is neither an account nor a registered role', async () => {
    // Prepare
    const { roleKms, adminKms, emulator } = await iamSetup(role(identity({ Action: 'kms:*' })));
    const key = emulator.state.createKeyDirect(REGION);
    const naming = (arn: string) =>
      policyOf(rootStatement(), {
        Effect: 'Allow',
        Principal: { AWS: arn },
        Action: 'kms:Decrypt',
        Resource: '*',
      });
    // Act
    const unknownRole = await rejection(
      adminKms.send(
        new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: naming(`arn:aws:iam::${ACCOUNT}:role/Nobody`) }),
      ),
    );
    const byRole = await rejection(
      roleKms.send(new CreateKeyCommand({ Policy: naming(`arn:aws:iam::${ACCOUNT}:user/nobody`) })),
    );
    await adminKms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: naming(ROLE_ARN) }));
    await adminKms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: naming('111122223333') }));
    // Assess
    for (const err of [unknownRole, byRole]) {
      expect(err.name).toBe('MalformedPolicyDocumentException');
      expect(err.message).toBe('Policy contains a statement with one or more invalid principals.');
    }
  });

  it('the lockout check asks whether the calling role could still call PutKeyPolicy', async () => {
    // Prepare
    const { roleKms, adminKms, emulator } = await iamSetup(role());
    const roleOwns = (actions: string[]) =>
      policyOf({ Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: actions, Resource: '*' });
    const key = emulator.state.createKeyDirect(REGION, { policy: roleOwns(['kms:*']) });
    // Act
    await roleKms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: roleOwns(['kms:PutKeyPolicy', 'kms:Describe*']) }),
    );
    const lockout = await rejection(
      roleKms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: roleOwns(['kms:DescribeKey']) })),
    );
    const adminLockout = await rejection(
      adminKms.send(new PutKeyPolicyCommand({ KeyId: key.keyId, Policy: roleOwns(['kms:*']) })),
    );
    // Assess
    expect(lockout.message).toBe(
      'The new key policy will not allow you to update the key policy in the future.',
    );
    expect(adminLockout.message).toBe(
      'The new key policy will not allow you to update the key policy in the future.',
    );
    expect(JSON.parse(emulator.state.key(REGION, key.keyId)?.policy ?? '{}').Statement[0].Action).toEqual([
      'kms:PutKeyPolicy',
      'kms:Describe*',
    ]);
  });
});

describe('IAM: evaluate on its own', () => {
  const queue = `arn:aws:sqs:${REGION}:${ACCOUNT}:guard-events`;
  const principal = role(identity({ Action: 'sqs:ReceiveMessage', Resource: queue }));

  it('decides an SQS action on a queue ARN with identity policies only', async () => {
    // Act
    const allowed = await evaluate({
      principal,
      accessKeyId: ROLE_KEY,
      account: ACCOUNT,
      action: 'sqs:ReceiveMessage',
      resource: queue,
    });
    const denied = await evaluate({
      principal,
      accessKeyId: ROLE_KEY,
      account: ACCOUNT,
      action: 'sqs:DeleteMessage',
      resource: queue,
    });
    // Assess
    expect(allowed).toEqual({ decision: 'Allowed', message: '' });
    expect(denied).toEqual({
      decision: 'ImplicitlyDenied',
      message: `User: ${SESSION} is not authorized to perform: sqs:DeleteMessage on resource: ${queue} because no identity-based policy allows the sqs:DeleteMessage action`,
    });
  });

  it('throws on input iam-simulate refuses, never reads it as Allowed', async () => {
    // Prepare
    const broken = role({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*' }] });
    // Act
    const err = await rejection(
      evaluate({
        principal: broken,
        accessKeyId: ROLE_KEY,
        account: ACCOUNT,
        action: 'sqs:ReceiveMessage',
        resource: queue,
      }),
    );
    const badKey = await rejection(
      evaluate({
        principal,
        accessKeyId: ROLE_KEY,
        account: ACCOUNT,
        action: 'sqs:ReceiveMessage',
        resource: queue,
        context: { 'kms:ViaService': 'x' },
      }),
    );
    // Assess
    expect(err.message).toMatch(/iam-simulate cannot evaluate sqs:ReceiveMessage .*policy\.errors/);
    expect(badKey.message).toContain('kms:ViaService do not apply to sqs:ReceiveMessage');
  });
});
