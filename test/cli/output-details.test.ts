/**
 * The output details of issue 20, item 6, through the CLI as a user runs it (`run(argv, io)` against
 * aws-sdk-client-mock): CSV cells a spreadsheet would evaluate, the table's width and key labels, the JSON
 * regions fields, `--out` files, `--external-id`, AWS_PROFILE and `key setup`'s report of what it changed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
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
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { KEY_ARN, listedGroup, logGroupPage } from '../helpers.ts';
import { testIo } from './helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const dir = mkdtempSync(join(tmpdir(), 'lkg-details-'));

/** DescribeLogGroups answers `groups`; no tags. */
function serve(groups: LogGroup[]) {
  logs
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { nextToken?: string }) => logGroupPage(groups, input.nextToken, 50));
  logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
}

/** The guard key exists, with the default policy. */
function keyExists() {
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      Arn: KEY_ARN,
      KeyId: 'k',
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    },
  });
  kms.on(GetKeyPolicyCommand).resolves({
    Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
  });
  kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true });
}

beforeEach(() => {
  logs.reset();
  kms.reset();
  sts.reset();
  clearKeyCache();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
});

describe('CSV: cells a spreadsheet would evaluate get a leading quote', () => {
  it('audit --format csv defuses a log group name starting with = or -, on stdout and in --out', async () => {
    keyExists();
    serve([listedGroup('=HYPERLINK("http://evil")'), listedGroup('-x'), listedGroup('/plain')]);
    const t = testIo();
    expect(await run(['audit', '--format', 'csv'], t.io)).toBe(1);
    const csv = t.stdout();
    expect(csv).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    expect(csv).toContain(`,"'-x",`);
    expect(csv).toContain(',/plain,');
    expect(csv).not.toMatch(/,=|,"=|,-x/);
    const out = join(dir, 'groups.csv');
    expect(await run(['audit', '--format', 'csv', '--out', out, '-q'], testIo().io)).toBe(1);
    expect(readFileSync(out, 'utf8')).toContain(`,"'-x",`);
  });
});
