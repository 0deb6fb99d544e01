/**
 * The output details of issue 20, item 6, through the CLI as a user runs it (`run(argv, io)` against
 * aws-sdk-client-mock): CSV cells a spreadsheet would evaluate, the table's width and key labels, the JSON
 * regions fields, `--out` files, `--external-id`, AWS_PROFILE and `key setup`'s report of what it changed.
 */
import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
import { openReportFile } from '../../functions/cli/sink.ts';
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

describe('--out: a new file, 0600, never through a symbolic link, an existing one kept unless --force', () => {
  const awsCalls = () => logs.calls().length + kms.calls().length + sts.calls().length;

  it('creates the report readable by its owner only', async () => {
    keyExists();
    serve([listedGroup('/a')]);
    const out = join(dir, 'new.json');
    expect(await run(['audit', '--json', '--out', out, '-q'], testIo().io)).toBe(1);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(out, 'utf8')).groups).toHaveLength(1);
  });

  it('an existing file is refused before any AWS call (exit 2); --force overwrites it, 0600', async () => {
    keyExists();
    serve([listedGroup('/a')]);
    const out = join(dir, 'exists.csv');
    writeFileSync(out, 'precious', { mode: 0o644 });
    const t = testIo();
    expect(await run(['audit', '--format', 'csv', '--out', out], t.io)).toBe(2);
    expect(t.stderr()).toBe(
      `error: --out ${out}: the file exists; pass --force to overwrite it, or name another file\n`,
    );
    expect(awsCalls()).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(await run(['audit', '--format', 'csv', '--out', out, '--force', '-q'], testIo().io)).toBe(1);
    expect(readFileSync(out, 'utf8')).toMatch(/^account,region,logGroup/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('a symbolic link is refused before any AWS call, even with --force; its target is untouched', async () => {
    const target = join(dir, 'elsewhere.txt');
    writeFileSync(target, 'untouched');
    const link = join(dir, 'link.html');
    symlinkSync(target, link);
    const t = testIo();
    expect(await run(['audit', '--format', 'html', '--out', link, '--force'], t.io)).toBe(2);
    expect(t.stderr()).toContain(`error: --out ${link}: is a symbolic link`);
    expect(awsCalls()).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
  });

  it('the open itself refuses a file or link that appeared after the check', () => {
    const raced = join(dir, 'raced.csv');
    writeFileSync(raced, 'x');
    expect(() => openReportFile(raced, false)).toThrow(/the file exists; pass --force/);
    const link = join(dir, 'raced-link.csv');
    symlinkSync(raced, link);
    expect(() => openReportFile(link, true)).toThrow(/is a symbolic link/);
    expect(readFileSync(raced, 'utf8')).toBe('x');
  });
});
