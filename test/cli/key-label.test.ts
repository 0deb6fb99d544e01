/**
 * Keys named for people (functions/cli/key-label.ts, issue 20 item 6): the guard key by its alias and key id,
 * other keys by their ARN; then `associate` and `disassociate` as a user runs them (`run(argv, io)`, SDK mocks):
 * their lines name the guard key by its alias, their JSON keeps the ARN.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
  ListTagsForResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultFunctionRole } from '../../functions/cli/function-role.ts';
import { keyLabel } from '../../functions/cli/key-label.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { KEY_ARN, KEY_ID, logGroupPage, OTHER_KEY_ARN } from '../helpers.ts';
import { testIo } from './helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const GUARD = `alias/logs-kms-guard (key ${KEY_ID})`;

function serve(group: LogGroup) {
  logs
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { nextToken?: string }) =>
      logGroupPage(
        [{ logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group.logGroupName}`, ...group }],
        input.nextToken,
        50,
      ),
    );
}

describe('keyLabel', () => {
  it('names a key by its alias and id when the alias is known, by its ARN otherwise', () => {
    expect(keyLabel(KEY_ARN, 'alias/logs-kms-guard')).toBe(GUARD);
    expect(keyLabel(KEY_ARN)).toBe(KEY_ARN);
    expect(keyLabel('not-an-arn', 'alias/x')).toBe('alias/x');
  });
});

describe('associate and disassociate name the guard key by its alias', () => {
  beforeEach(() => {
    logs.reset();
    kms.reset();
    sts.reset();
    clearKeyCache();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        Arn: KEY_ARN,
        KeyId: KEY_ID,
        KeyState: 'Enabled',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
      },
    });
    // The guard key as the CLI or the deployment makes it: naming the function role of this account and region.
    const guardRoles = [defaultFunctionRole(ACCOUNT, REGION)];
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(
        defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT, guardRoles }),
      ),
    });
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
    logs.on(AssociateKmsKeyCommand).resolves({});
    logs.on(DisassociateKmsKeyCommand).resolves({});
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
  });

  it('associate: "associated … with alias/… (key …)"; the JSON keeps the ARN', async () => {
    serve({ logGroupName: '/a' });
    const t = testIo();
    expect(await run(['associate', '--log-group', '/a'], t.io)).toBe(0);
    expect(t.stderr()).toContain(`associated /a with ${GUARD} (1 attempt(s))`);
    expect(t.stderr()).not.toContain(KEY_ARN);
    const json = testIo();
    expect(await run(['associate', '--log-group', '/a', '--json', '-q'], json.io)).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ keyArn: KEY_ARN });
  });

  it('associate on a group already on it: "already uses the guard key alias/… (key …)"', async () => {
    serve({ logGroupName: '/a', kmsKeyId: KEY_ARN });
    const t = testIo();
    expect(await run(['associate', '--log-group', '/a'], t.io)).toBe(0);
    expect(t.stderr()).toBe(`/a already uses the guard key ${GUARD}\n`);
  });

  it('disassociate: the guard key by its alias, another key (--force) by its ARN', async () => {
    serve({ logGroupName: '/a', kmsKeyId: KEY_ARN });
    const dry = testIo();
    expect(await run(['disassociate', '--log-group', '/a', '--dry-run'], dry.io)).toBe(0);
    expect(dry.stderr()).toBe(`dry run: would disassociate ${GUARD} from /a\n`);
    const done = testIo();
    expect(await run(['disassociate', '--log-group', '/a'], done.io)).toBe(0);
    expect(done.stderr()).toContain(`disassociated: /a (the key ${GUARD} is kept;`);
    serve({ logGroupName: '/b', kmsKeyId: OTHER_KEY_ARN });
    const other = testIo();
    expect(await run(['disassociate', '--log-group', '/b', '--force', '--dry-run'], other.io)).toBe(0);
    expect(other.stderr()).toBe(`dry run: would disassociate ${OTHER_KEY_ARN} from /b\n`);
  });
});
