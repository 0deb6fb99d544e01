/**
 * The multi-account emulator (local/emulator/org.ts) through the real SDK: Organizations, STS AssumeRole into
 * member accounts, expired sessions, enabled regions and IAM; and `npm run emulator -- --org FILE` as a
 * process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import {
  AccessDeniedException,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  InvalidInputException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
  ParentNotFoundException,
  paginateListAccounts,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { type OrgEmulator, startOrgEmulator } from '../../../local/emulator/org.ts';
import type { OrgEmulatorOptions } from '../../../local/emulator/org-model.ts';
import { credentials } from '../../../local/world.ts';
import { rejection } from './helpers.ts';

const MGMT = '111111111111';
const OU = 'ou-abcd-11111111';
const running: OrgEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((o) => o.stop()));
});

const member = (n: number) => String(200000000000 + n);

async function setup(extra: Partial<OrgEmulatorOptions> = {}) {
  const org = await startOrgEmulator({
    management: MGMT,
    accounts: [
      { id: member(1), name: 'prod', ou: OU },
      { id: member(2), name: 'dev' },
      { id: member(3), status: 'SUSPENDED' },
      { id: member(4), roles: ['Auditor'] },
      { id: member(5), refuseRole: true },
      { id: member(6), externalId: 'secret-42' },
      { id: member(7), enabledRegions: ['us-east-1'] },
    ],
    ous: [{ id: OU, name: 'Production' }],
    ...extra,
  });
  running.push(org);
  return org;
}

const config = (org: OrgEmulator, creds: typeof credentials | Record<string, string> = credentials) => ({
  region: 'us-east-1',
  endpoint: org.endpoint,
  credentials: creds as { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  maxAttempts: 1,
});

async function assume(org: OrgEmulator, account: string, role = 'OrganizationAccountAccessRole', extra = {}) {
  const sts = new STSClient(config(org));
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/${role}`,
      RoleSessionName: 'audit',
      ...extra,
    }),
  );
  const c = out.Credentials;
  return {
    out,
    creds: {
      accessKeyId: c?.AccessKeyId as string,
      secretAccessKey: c?.SecretAccessKey as string,
      sessionToken: c?.SessionToken as string,
    },
  };
}

describe('org emulator: Organizations', () => {
  it('ListAccounts pages by 20 (MaxResults above 20 is InvalidInputException) and lists every status', async () => {
    // Prepare
    const accounts = Array.from({ length: 44 }, (_, i) => ({
      id: member(100 + i),
      ...(i === 3 ? { status: 'SUSPENDED' as const } : {}),
    }));
    const org = await startOrgEmulator({ management: MGMT, accounts });
    running.push(org);
    const client = new OrganizationsClient(config(org));
    // Act
    const first = await client.send(new ListAccountsCommand({}));
    const pages: number[] = [];
    const all: string[] = [];
    for await (const p of paginateListAccounts({ client }, {})) {
      pages.push(p.Accounts?.length ?? 0);
      all.push(...(p.Accounts ?? []).map((a) => a.Id as string));
    }
    const small = await client.send(new ListAccountsCommand({ MaxResults: 5 }));
    const tooMany = await rejection(client.send(new ListAccountsCommand({ MaxResults: 21 })));
    const badToken = await rejection(client.send(new ListAccountsCommand({ NextToken: 'nope' })));
    // Assess
    expect(first.Accounts).toHaveLength(20);
    expect(first.NextToken).toBeDefined();
    expect(pages).toEqual([20, 20, 5]);
    expect(all).toEqual([MGMT, ...accounts.map((a) => a.id)]);
    expect(small.Accounts?.map((a) => a.Id)).toEqual(all.slice(0, 5));
    expect(tooMany).toBeInstanceOf(InvalidInputException);
    expect((tooMany as InvalidInputException).Reason).toBe('MAX_VALUE_EXCEEDED');
    expect((badToken as InvalidInputException).Reason).toBe('INVALID_NEXT_TOKEN');
    const suspended = first.Accounts?.find((a) => a.Id === member(103));
    expect(suspended).toMatchObject({ State: 'SUSPENDED' });
    // Status was retired on 9 September 2026: AWS sends State only.
    expect(suspended?.Status).toBeUndefined();
    expect(first.Accounts?.[0]).toMatchObject({
      Id: MGMT,
      State: 'ACTIVE',
      Arn: `arn:aws:organizations::${MGMT}:account/${org.organizationId}/${MGMT}`,
      Name: `account-${MGMT}`,
    });
    expect(first.Accounts?.[0]?.JoinedTimestamp).toBeInstanceOf(Date);
  });

  it('lists roots, OUs, children and the accounts of an OU; DescribeOrganization / DescribeAccount', async () => {
    // Prepare
    const org = await setup();
    const client = new OrganizationsClient(config(org));
    // Act
    const { Roots } = await client.send(new ListRootsCommand({}));
    const rootId = Roots?.[0]?.Id as string;
    const ous = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: rootId }));
    const inOu = await client.send(new ListAccountsForParentCommand({ ParentId: OU }));
    const atRoot = await client.send(new ListAccountsForParentCommand({ ParentId: rootId }));
    const children = await client.send(
      new ListChildrenCommand({ ParentId: rootId, ChildType: 'ORGANIZATIONAL_UNIT' }),
    );
    const missing = await rejection(
      client.send(new ListAccountsForParentCommand({ ParentId: 'ou-abcd-99999999' })),
    );
    const description = await client.send(new DescribeOrganizationCommand({}));
    const account = await client.send(new DescribeAccountCommand({ AccountId: member(1) }));
    // Assess
    expect(rootId).toBe(org.rootId);
    expect(rootId).toMatch(/^r-[0-9a-z]{4}$/);
    expect(org.organizationId).toMatch(/^o-[a-z0-9]{10}$/);
    expect(ous.OrganizationalUnits?.map((o) => [o.Id, o.Name])).toEqual([[OU, 'Production']]);
    expect(inOu.Accounts?.map((a) => [a.Id, a.Name])).toEqual([[member(1), 'prod']]);
    expect(inOu.Accounts?.[0]?.Paths).toEqual([`${org.organizationId}/${rootId}/${OU}/${member(1)}/`]);
    expect(atRoot.Accounts?.map((a) => a.Id)).not.toContain(member(1));
    expect(atRoot.Accounts?.map((a) => a.Id)).toContain(MGMT);
    expect(children.Children).toEqual([{ Id: OU, Type: 'ORGANIZATIONAL_UNIT' }]);
    expect(missing).toBeInstanceOf(ParentNotFoundException);
    expect(description.Organization).toMatchObject({
      Id: org.organizationId,
      MasterAccountId: MGMT,
      FeatureSet: 'ALL',
    });
    expect(account.Account).toMatchObject({ Id: member(1), Name: 'prod', State: 'ACTIVE' });
  });

  it('a member account calling ListAccounts is AccessDeniedException (403); DescribeOrganization is allowed', async () => {
    // Prepare
    const org = await setup();
    const { creds } = await assume(org, member(1));
    const client = new OrganizationsClient(config(org, creds));
    // Act
    const err = await rejection(client.send(new ListAccountsCommand({})));
    const description = await client.send(new DescribeOrganizationCommand({}));
    // Assess
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect(err.message).toBe("You don't have permissions to access this resource.");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(description.Organization?.Id).toBe(org.organizationId);
    expect(org.calls.find((c) => c.operation === 'ListAccounts')).toMatchObject({
      service: 'organizations',
      account: member(1),
      accessKeyId: creds.accessKeyId,
      error: 'AccessDeniedException',
    });
  });
});

describe('org emulator: STS', () => {
  it('AssumeRole issues ASIA keys; KMS and Logs calls with them land in that account only', async () => {
    // Prepare
    const org = await setup();
    const { out, creds } = await assume(org, member(1));
    const kms = new KMSClient(config(org, creds));
    const logs = new CloudWatchLogsClient(config(org, creds));
    const mgmtLogs = new CloudWatchLogsClient(config(org));
    // Act
    const key = await kms.send(new CreateKeyCommand({}));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/in/prod' }));
    await mgmtLogs.send(new CreateLogGroupCommand({ logGroupName: '/in/mgmt' }));
    const seen = await logs.send(new DescribeLogGroupsCommand({}));
    const aliases = await new KMSClient(config(org)).send(new ListAliasesCommand({}));
    // Assess
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.sessionToken.length).toBeGreaterThan(100);
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${member(1)}:assumed-role/OrganizationAccountAccessRole/audit`,
    );
    expect(key.KeyMetadata?.Arn).toContain(`:${member(1)}:key/`);
    expect(org.account(member(1)).state.logGroup('us-east-1', '/in/prod')).toBeDefined();
    expect(org.account(member(2)).state.logGroup('us-east-1', '/in/prod')).toBeUndefined();
    expect(org.account(MGMT).state.logGroup('us-east-1', '/in/prod')).toBeUndefined();
    expect(org.account(MGMT).state.logGroup('us-east-1', '/in/mgmt')).toBeDefined();
    expect(seen.logGroups?.map((g) => g.logGroupName)).toEqual(['/in/prod']);
    expect(org.account(member(1)).state.keys('us-east-1')).toHaveLength(1);
    expect(org.account(MGMT).state.keys('us-east-1')).toHaveLength(0);
    expect(aliases.Aliases ?? []).toEqual([]);
    expect(org.account(member(1)).calls.map((c) => c.operation)).toEqual([
      'CreateKey',
      'CreateLogGroup',
      'DescribeLogGroups',
    ]);
  });

  it('each refusal is AccessDenied (403) naming the caller and the role', async () => {
    // Prepare
    const org = await setup();
    const sts = new STSClient(config(org));
    const tryRole = (account: string, role = 'OrganizationAccountAccessRole', extra = {}) =>
      rejection(
        sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${account}:role/${role}`,
            RoleSessionName: 's1',
            ...extra,
          }),
        ),
      );
    // Act
    const outside = await tryRole('999999999999');
    const wrongRole = await tryRole(member(4));
    const refusing = await tryRole(member(5));
    const noExternalId = await tryRole(member(6));
    const wrongExternalId = await tryRole(member(6), 'OrganizationAccountAccessRole', {
      ExternalId: 'guess',
    });
    const rightExternalId = await assume(org, member(6), 'OrganizationAccountAccessRole', {
      ExternalId: 'secret-42',
    });
    const customRole = await assume(org, member(4), 'Auditor');
    const managementRole = await tryRole(MGMT);
    // Assess
    for (const [err, account, role] of [
      [outside, '999999999999', 'OrganizationAccountAccessRole'],
      [wrongRole, member(4), 'OrganizationAccountAccessRole'],
      [refusing, member(5), 'OrganizationAccountAccessRole'],
      [noExternalId, member(6), 'OrganizationAccountAccessRole'],
      [wrongExternalId, member(6), 'OrganizationAccountAccessRole'],
      [managementRole, MGMT, 'OrganizationAccountAccessRole'],
    ] as const) {
      expect(err.name).toBe('AccessDenied');
      expect(err.$metadata?.httpStatusCode).toBe(403);
      expect(err.message).toBe(
        `User: arn:aws:iam::${MGMT}:user/local-emulator is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${account}:role/${role}`,
      );
    }
    expect(rightExternalId.creds.accessKeyId).toMatch(/^ASIA/);
    expect(customRole.out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${member(4)}:assumed-role/Auditor/audit`);
    expect(org.calls.filter((c) => c.error === 'AccessDenied')).toHaveLength(6);
  });

  it('a member session cannot assume into another account; DurationSeconds is validated', async () => {
    // Prepare
    const org = await setup();
    const { creds } = await assume(org, member(1));
    const chained = new STSClient(config(org, creds));
    const sts = new STSClient(config(org));
    // Act
    const chain = await rejection(
      chained.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${member(2)}:role/OrganizationAccountAccessRole`,
          RoleSessionName: 'hop',
        }),
      ),
    );
    const tooShort = await rejection(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${member(2)}:role/OrganizationAccountAccessRole`,
          RoleSessionName: 'x1',
          DurationSeconds: 60,
        }),
      ),
    );
    const short = await assume(org, member(2), 'OrganizationAccountAccessRole', { DurationSeconds: 900 });
    // Assess
    expect(chain.name).toBe('AccessDenied');
    expect(chain.message).toContain(
      `User: arn:aws:sts::${member(1)}:assumed-role/OrganizationAccountAccessRole/audit is not authorized`,
    );
    expect(tooShort.name).toBe('ValidationError');
    const expiry = short.out.Credentials?.Expiration?.getTime() ?? 0;
    expect(expiry - Date.now()).toBeLessThanOrEqual(900_000);
    expect(expiry - Date.now()).toBeGreaterThan(890_000);
  });

  it('GetCallerIdentity: the management IAM user for unknown keys, the assumed-role session for issued ones', async () => {
    // Prepare
    const org = await setup();
    const { creds } = await assume(org, member(2));
    // Act
    const mine = await new STSClient(config(org)).send(new GetCallerIdentityCommand({}));
    const theirs = await new STSClient(config(org, creds)).send(new GetCallerIdentityCommand({}));
    // Assess
    expect(mine).toMatchObject({ Account: MGMT, Arn: `arn:aws:iam::${MGMT}:user/local-emulator` });
    expect(mine.UserId).toMatch(/^AIDA/);
    expect(theirs).toMatchObject({
      Account: member(2),
      Arn: `arn:aws:sts::${member(2)}:assumed-role/OrganizationAccountAccessRole/audit`,
    });
    expect(theirs.UserId).toMatch(/^AROA[0-9A-F]{17}:audit$/);
    expect(org.calls.map((c) => [c.service, c.operation, c.account])).toEqual([
      ['sts', 'AssumeRole', MGMT],
      ['sts', 'GetCallerIdentity', MGMT],
      ['sts', 'GetCallerIdentity', member(2)],
    ]);
  });
});

describe('org emulator: expired sessions', () => {
  it('after Expiration the keys are ExpiredTokenException (KMS) / ExpiredToken (STS)', async () => {
    // Prepare
    const org = await setup();
    const { creds } = await assume(org, member(2));
    const session = org.sessions.get(creds.accessKeyId);
    if (session) session.expiresAt = Date.now() - 1;
    // Act
    const kms = await rejection(new KMSClient(config(org, creds)).send(new ListAliasesCommand({})));
    const sts = await rejection(new STSClient(config(org, creds)).send(new GetCallerIdentityCommand({})));
    // Assess
    expect(kms.name).toBe('ExpiredTokenException');
    expect(kms.message).toBe('The security token included in the request is expired');
    expect(sts.name).toBe('ExpiredToken');
    expect(org.account(member(2)).calls.at(-1)?.error).toBe('ExpiredTokenException');
  });
});

describe('org emulator: regions, iam', () => {
  it('a region the account has not enabled is UnrecognizedClientException (400)', async () => {
    // Prepare
    const org = await setup();
    const { creds } = await assume(org, member(7));
    const east = new CloudWatchLogsClient(config(org, creds));
    const west = new CloudWatchLogsClient({ ...config(org, creds), region: 'eu-west-1' });
    // Act
    await east.send(new CreateLogGroupCommand({ logGroupName: '/ok' }));
    const err = await rejection(west.send(new CreateLogGroupCommand({ logGroupName: '/no' })));
    const otherAccount = await new CloudWatchLogsClient({ ...config(org), region: 'eu-west-1' }).send(
      new DescribeLogGroupsCommand({}),
    );
    // Assess
    expect(err.name).toBe('UnrecognizedClientException');
    expect(err.message).toBe('The security token included in the request is invalid.');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(org.account(member(7)).state.logGroup('eu-west-1', '/no')).toBeUndefined();
    expect(org.account(member(7)).calls.at(-1)).toMatchObject({
      region: 'eu-west-1',
      error: 'UnrecognizedClientException',
    });
    expect(otherAccount.logGroups).toEqual([]);
  });

  it('with iam, an assumed session is the role (AdministratorAccess, or the role policies iam names)', async () => {
    // Prepare
    const readOnlyRole = `arn:aws:iam::${member(2)}:role/ReadOnly`;
    const org = await startOrgEmulator({
      management: MGMT,
      accounts: [
        { id: member(1), options: { iam: { principals: {} } } },
        {
          id: member(2),
          roles: ['ReadOnly'],
          options: {
            iam: {
              principals: {
                UNUSED: {
                  arn: readOnlyRole,
                  policies: [
                    {
                      name: 'ro',
                      policy: {
                        Version: '2012-10-17',
                        Statement: [{ Effect: 'Allow', Action: 'logs:Describe*', Resource: '*' }],
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      ],
    });
    running.push(org);
    const admin = await assume(org, member(1));
    const readOnly = await assume(org, member(2), 'ReadOnly');
    // Act
    await new CloudWatchLogsClient(config(org, admin.creds)).send(
      new CreateLogGroupCommand({ logGroupName: '/a' }),
    );
    const roLogs = new CloudWatchLogsClient(config(org, readOnly.creds));
    const listed = await roLogs.send(new DescribeLogGroupsCommand({}));
    const denied = await rejection(roLogs.send(new CreateLogGroupCommand({ logGroupName: '/b' })));
    const unknown = await new CloudWatchLogsClient(
      config(org, { accessKeyId: 'ASIAUNKNOWN', secretAccessKey: 'x' }),
    ).send(new DescribeLogGroupsCommand({}));
    // Assess
    expect(org.account(member(1)).state.logGroup('us-east-1', '/a')).toBeDefined();
    expect(org.account(member(1)).authorizations.at(-1)).toMatchObject({
      principal: `arn:aws:iam::${member(1)}:role/OrganizationAccountAccessRole`,
      decision: 'Allowed',
    });
    expect(listed.logGroups).toEqual([]);
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('logs:CreateLogGroup');
    // An access key the front never issued is the management account's (no iam there: any key works).
    expect(unknown.logGroups).toEqual([]);
    expect(org.account(MGMT).calls.at(-1)).toMatchObject({ operation: 'DescribeLogGroups' });
  });
});

describe('org emulator: createRole (a deployment creating a function role)', () => {
  it('before: a key policy naming the role is "invalid principals" and AssumeRole fails; after: both work', async () => {
    // Prepare
    const org = await startOrgEmulator({
      management: MGMT,
      accounts: [{ id: member(1), options: { iam: { principals: {} } } }],
    });
    running.push(org);
    const roleArn = `arn:aws:iam::${member(1)}:role/logs-kms-guard-prod-enforce-us-east-1`;
    const admin = await assume(org, member(1));
    const kms = new KMSClient(config(org, admin.creds));
    const naming = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${member(1)}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        { Effect: 'Allow', Principal: { AWS: roleArn }, Action: 'kms:DescribeKey', Resource: '*' },
      ],
    });
    const before = await rejection(kms.send(new CreateKeyCommand({ Policy: naming })));
    const notYet = await rejection(assume(org, member(1), 'logs-kms-guard-prod-enforce-us-east-1'));

    // Act
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'logs:Describe*', Resource: '*' }],
    };
    org.createRole(member(1), { arn: roleArn, policies: [{ name: 'fn', policy }] });
    const created = await kms.send(new CreateKeyCommand({ Policy: naming }));
    const session = await assume(org, member(1), 'logs-kms-guard-prod-enforce-us-east-1');
    const logs = new CloudWatchLogsClient(config(org, session.creds));
    await logs.send(new DescribeLogGroupsCommand({}));
    const denied = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: '/x' })));

    // Assess
    expect(before.name).toBe('MalformedPolicyDocumentException');
    expect(before.message).toContain('invalid principals');
    expect(notYet.name).toBe('AccessDenied');
    expect(created.KeyMetadata?.Arn).toBeDefined();
    expect(org.account(member(1)).authorizations.at(-1)).toMatchObject({ principal: roleArn });
    expect(denied.name).toBe('AccessDeniedException');
    expect(() => org.createRole(MGMT, { arn: roleArn, policies: [] })).toThrow('has no iam');
  });
});

describe('npm run emulator -- --org FILE', () => {
  it('starts the organization from a JSON file and prints the endpoint line', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'org-'));
    const file = join(dir, 'org.json');
    writeFileSync(
      file,
      JSON.stringify({
        management: MGMT,
        accounts: [
          { id: member(1), name: 'prod' },
          { id: member(2), status: 'SUSPENDED' },
        ],
      }),
    );
    const child = spawn(
      'node_modules/.bin/node',
      ['local/emulator/main.ts', '--org', file, '--time-scale', '10'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines = createInterface({ input: child.stdout });
    try {
      // Act
      const [line] = (await once(lines, 'line')) as [string];
      const endpoint = /^endpoint: (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1] as string;
      const base = { region: 'us-east-1', endpoint, credentials, maxAttempts: 1 };
      const { Accounts } = await new OrganizationsClient(base).send(new ListAccountsCommand({}));
      const out = await new STSClient(base).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${member(1)}:role/OrganizationAccountAccessRole`,
          RoleSessionName: 'cli',
        }),
      );
      const c = out.Credentials;
      const who = await new STSClient({
        ...base,
        credentials: {
          accessKeyId: c?.AccessKeyId as string,
          secretAccessKey: c?.SecretAccessKey as string,
          sessionToken: c?.SessionToken as string,
        },
      }).send(new GetCallerIdentityCommand({}));
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      // Assess
      expect(Accounts?.map((a) => [a.Id, a.State])).toEqual([
        [MGMT, 'ACTIVE'],
        [member(1), 'ACTIVE'],
        [member(2), 'SUSPENDED'],
      ]);
      expect(who.Account).toBe(member(1));
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
