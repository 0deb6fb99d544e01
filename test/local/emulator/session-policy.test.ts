/**
 * Session policies in the organization emulator (local/emulator/sts.ts, iam.ts): AssumeRole's `Policy` is checked
 * as STS checks it (at most 2,048 characters, JSON) and limits the session to what both it and the role allow
 * (IAM User Guide, "Session policies"), with AWS's "no session policy allows" denial text.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { type OrgEmulator, startOrgEmulator } from '../../../local/emulator/org.ts';
import { credentials } from '../../../local/world.ts';
import { rejection } from './helpers.ts';

const MGMT = '111111111111';
const MEMBER = '222222222222';
const ROLE = `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`;
let org: OrgEmulator | undefined;
afterEach(async () => {
  await org?.stop();
});

const config = (creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => ({
  region: 'us-east-1',
  endpoint: (org as OrgEmulator).endpoint,
  credentials: creds,
  maxAttempts: 1,
});

async function start() {
  org = await startOrgEmulator({
    management: MGMT,
    accounts: [{ id: MEMBER, options: { iam: { principals: {} } } }],
  });
  return new STSClient(config(credentials));
}

describe('org emulator: AssumeRole with a session policy', () => {
  it('limits the AdministratorAccess session to what the session policy allows', async () => {
    // Prepare
    const sts = await start();
    const readOnly = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'logs:Describe*', Resource: '*' }],
    };
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'ro', Policy: JSON.stringify(readOnly) }),
    );
    const c = out.Credentials;
    const logs = new CloudWatchLogsClient(
      config({
        accessKeyId: c?.AccessKeyId as string,
        secretAccessKey: c?.SecretAccessKey as string,
        sessionToken: c?.SessionToken as string,
      }),
    );

    // Act
    const listed = await logs.send(new DescribeLogGroupsCommand({}));
    const denied = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: '/x' })));

    // Assess
    expect(listed.logGroups).toEqual([]);
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe(
      `User: arn:aws:sts::${MEMBER}:assumed-role/OrganizationAccountAccessRole/${c?.AccessKeyId} is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:${MEMBER}:log-group:/x:log-stream: because no session policy allows the logs:CreateLogGroup action`,
    );
    expect(org?.sessions.get(c?.AccessKeyId as string)?.policy).toEqual(readOnly);
  });

  it('refuses a policy over 2,048 characters (ValidationError) and one that is not JSON (MalformedPolicyDocument)', async () => {
    // Prepare
    const sts = await start();
    const long = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*', Sid: 'x'.repeat(2048) },
      ],
    });

    // Act
    const tooLong = await rejection(
      sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'ss', Policy: long })),
    );
    const notJson = await rejection(
      sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'ss', Policy: '{' })),
    );

    // Assess
    expect(tooLong.name).toBe('ValidationError');
    expect(tooLong.message).toContain('Member must have length less than or equal to 2048');
    expect(notJson.name).toBe('MalformedPolicyDocumentException'); // code MalformedPolicyDocument, as the SDK models it
  });
});
