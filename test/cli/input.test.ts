/**
 * Input checked before the first AWS call (issue 20, item 4), through the CLI as a user runs it (`run(argv, io)`):
 * each mistake exits 2 with one line in the terms the user typed, and the SDK mocks record no call at all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../functions/cli/program.ts';
import { testIo } from './helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const awsCalls = () => logs.calls().length + kms.calls().length + sts.calls().length;
const EU_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718';
const dir = mkdtempSync(join(tmpdir(), 'lkg-input-'));

/** Runs the CLI; returns its exit code and stderr. */
async function cli(argv: string[], env: Record<string, string | undefined> = { AWS_REGION: 'us-east-1' }) {
  const t = testIo({ env });
  const code = await run(argv, t.io);
  return { code, stderr: t.stderr(), stdout: t.stdout() };
}

describe('input checked before any AWS call: exit 2, the flag typed, nothing called', () => {
  beforeEach(() => {
    logs.reset();
    kms.reset();
    sts.reset();
  });

  it('a region typo is refused with a suggestion (--region, --regions, AWS_REGION)', async () => {
    const one = await cli(['audit', '--region', 'eu-wset-1']);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe('error: --region: "eu-wset-1" is not an AWS region; did you mean eu-west-1?\n');
    const list = await cli(['audit', '--regions', 'eu-west-1,us-est-1']);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('--regions: "us-est-1" is not an AWS region; did you mean us-east-1?');
    const env = await cli(['audit'], { AWS_REGION: 'eu-wset-1' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('AWS_REGION: "eu-wset-1" is not an AWS region; did you mean eu-west-1?');
    expect(awsCalls()).toBe(0);
  });

  it('a repeated --region is refused, pointing at --regions; repeated --regions add up', async () => {
    const twice = await cli(['enforce', '--yes', '--region', 'eu-west-1', '--region', 'us-east-1']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      '--region given twice (eu-west-1, us-east-1); for several regions use --regions eu-west-1,us-east-1',
    );
    // The second --regions is kept with the first: its typo is caught, so it was read.
    const added = await cli(['audit', '--regions', 'eu-west-1', '--regions', 'eu-wset-2']);
    expect(added.code).toBe(2);
    expect(added.stderr).toContain('"eu-wset-2" is not an AWS region; did you mean eu-west-2?');
    const empty = await cli(['audit', '--regions', ',']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('error: --regions: no region given\n');
    expect(awsCalls()).toBe(0);
  });

  it('a --key-arn of another region than the run is refused before any call, the env var named when it came from there', async () => {
    const flag = await cli(['enforce', '--yes', '--region', 'us-east-1', '--key-arn', EU_KEY]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(
      /^error: --key-arn names a key of region eu-west-1, but this run covers us-east-1/,
    );
    const env = await cli(['audit', '--regions', 'eu-west-1,us-east-1'], {
      AWS_REGION: 'eu-west-1',
      KMS_KEY_ARN: EU_KEY,
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(
      /^error: KMS_KEY_ARN names a key of region eu-west-1, but this run covers us-east-1/,
    );
    expect(awsCalls()).toBe(0);
  });

  it('--out into a missing folder, or onto a folder, is refused before the work', async () => {
    const missing = join(dir, 'no-such-folder', 'report.html');
    const r = await cli(['audit', '--format', 'html', '--out', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: --out ${missing}: the folder ${join(dir, 'no-such-folder')} does not exist\n`,
    );
    const folder = await cli(['audit', '--format', 'csv', '--out', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('is a folder; name a file');
    expect(awsCalls()).toBe(0);
  });

  it('an unknown --profile names the profile and the files read', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, '[default]\nregion = eu-west-1\n[profile ops]\nregion = eu-west-1\n');
    const env = {
      AWS_REGION: 'eu-west-1',
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    };
    const r = await cli(['audit', '--profile', 'opps'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: --profile: profile "opps" is not in the shared config or credentials files (read: ${config}, ${join(dir, 'credentials')} (missing)); check the name (aws configure list-profiles) or the files\n`,
    );
    expect(r.stderr).not.toContain('pass --profile');
    expect(awsCalls()).toBe(0);
  });

  it('configuration errors name the flag when the value came from a flag, the variable when from the environment', async () => {
    const flag = await cli(['audit', '--key-arn', 'alias/x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^error: --key-arn must be a full key ARN/);
    expect(flag.stderr).not.toContain('KMS_KEY_ARN');
    const env = await cli(['audit'], { AWS_REGION: 'us-east-1', KMS_KEY_ARN: 'alias/x' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^error: KMS_KEY_ARN must be a full key ARN/);
    const include = await cli(['audit', '--include', '/ok,bad[']);
    expect(include.code).toBe(2);
    expect(include.stderr).toMatch(/^error: --include: "bad\[" is not a log group name prefix or glob/);
    const alias = await cli(['enforce', '--yes', '--key-alias', 'alias/aws/logs']);
    expect(alias.stderr).toMatch(/^error: --key-alias must look like alias\/<name>/);
    expect(awsCalls()).toBe(0);
  });

  it('associate --log-group aws/spans is refused: AWS reserves aws/ names', async () => {
    const r = await cli(['associate', '--log-group', 'aws/spans']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: --log-group aws/spans: reserved for AWS (aws/…): CloudWatch Logs does not let anyone encrypt it\n',
    );
    const bad = await cli(['associate', '--log-group', 'no spaces']);
    expect(bad.stderr).toBe('error: --log-group "no spaces" is not a log group name\n');
    expect(awsCalls()).toBe(0);
  });
});
