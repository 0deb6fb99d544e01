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

describe('the audit table fits the terminal; JSON and CSV keep every value whole', () => {
  const LONG = `/aws/lambda/${'x'.repeat(80)}-end`;
  const OTHER = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-5b6a-7988-a1b2-c3d4e5f60718`;
  const FOREIGN = `arn:aws:kms:${REGION}:999999999999:key/88888888-5b6a-7988-a1b2-c3d4e5f60718`;

  it('a 120-column terminal: every line fits, the long name cut in the middle, the guard key by its alias', async () => {
    keyExists();
    serve([listedGroup(LONG, KEY_ARN), listedGroup('/short', OTHER), listedGroup('/foreign', FOREIGN)]);
    const t = testIo({ stdout: { write: (s: string) => void out.push(s), isTTY: true, columns: 120 } });
    const out: string[] = [];
    await run(['audit'], t.io);
    const table = out.join('');
    for (const line of table.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(table).toMatch(/\/aws\/lambda\/x+…x+-end\s+guard-key\s+yes\s+alias\/logs-kms-guard/);
    // A key of the row's own account and region by its id; another account's by its ARN (cut to fit).
    expect(table).toMatch(/\/short\s+other-key\s+yes\s+key\/9999/);
    expect(table).toMatch(/\/foreign\s+other-key\s+yes\s+arn:aws:km…/);
    expect(table).not.toContain(LONG);
  });

  it('not a terminal: 100 columns (COLUMNS when set); JSON and CSV keep the name and the ARN whole', async () => {
    keyExists();
    serve([listedGroup(LONG, KEY_ARN)]);
    const piped = testIo();
    await run(['audit'], piped.io);
    expect(piped.stdout()).toContain('…');
    const wide = testIo({ env: { AWS_REGION: REGION, COLUMNS: '300' } });
    await run(['audit'], wide.io);
    expect(wide.stdout()).toContain(LONG);
    const json = testIo();
    await run(['audit', '--json'], json.io);
    expect(JSON.parse(json.stdout()).groups[0]).toMatchObject({ logGroup: LONG, kmsKeyId: KEY_ARN });
    const csv = testIo();
    await run(['audit', '--format', 'csv'], csv.io);
    expect(csv.stdout()).toContain(`,${LONG},guard-key,true,${KEY_ARN},`);
  });
});

describe('an unknown profile in AWS_PROFILE', () => {
  const config = join(dir, 'config');
  const env = (extra: Record<string, string>) => ({
    AWS_REGION: REGION,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    ...extra,
  });

  it('is refused before any AWS call like --profile, naming AWS_PROFILE (exit 2)', async () => {
    writeFileSync(config, '[default]\nregion = eu-west-1\n[profile ops]\nregion = eu-west-1\n');
    const t = testIo({ env: env({ AWS_PROFILE: 'opps' }) });
    expect(await run(['audit'], t.io)).toBe(2);
    expect(t.stderr()).toBe(
      `error: AWS_PROFILE: profile "opps" is not in the shared config or credentials files (read: ${config}, ${join(dir, 'credentials')} (missing)); check the name (aws configure list-profiles) or the files; or unset AWS_PROFILE (set in the environment)\n`,
    );
    expect(logs.calls().length + kms.calls().length + sts.calls().length).toBe(0);
  });

  it('a known one passes; --profile wins over it; access keys do not make it harmless, a web identity token does', async () => {
    writeFileSync(config, '[default]\nregion = eu-west-1\n[profile ops]\nregion = eu-west-1\n');
    keyExists();
    serve([listedGroup('/a', KEY_ARN)]);
    const known = testIo({ env: env({ AWS_PROFILE: 'ops' }) });
    expect(await run(['audit', '-q'], known.io)).toBe(0);
    const flag = testIo({ env: env({ AWS_PROFILE: 'opps' }) });
    expect(await run(['audit', '--profile', 'ops', '-q'], flag.io)).toBe(0);
    const keys = testIo({
      env: env({ AWS_PROFILE: 'opps', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }),
    });
    // The SDK's chain uses AWS_PROFILE over the environment's keys (credential-provider-node skips fromEnv).
    expect(await run(['audit', '-q'], keys.io)).toBe(2);
    const webIdentity = testIo({
      env: env({ AWS_PROFILE: 'opps', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' }),
    });
    expect(await run(['audit', '-q'], webIdentity.io)).toBe(0);
  });
});
