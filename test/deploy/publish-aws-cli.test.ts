// infra/publish.mjs needs the AWS CLI: without `aws` on PATH, or with one too old for the flags it uses
// (`s3api put-object --checksum-sha256`), it stops before reading anything or calling AWS, saying what to install.
// The version rule is pure (`awsCliProblem`); the missing CLI is tested as a user meets it: a PATH without `aws`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './template.ts';

const publish = path.join(root, 'infra', 'publish.mjs');
const ARGS = [
  '--org-id',
  'o-abc123def4',
  '--ous',
  'ou-ab12-cdef3456',
  '--regions',
  'us-east-1',
  '--bucket-prefix',
  'acme-lkg',
];

describe('awsCliProblem (pure)', () => {
  it('accepts AWS CLI v2 from 2.4.21 and v1 from 1.22.62, as aws --version prints them', async () => {
    const { awsCliProblem } = await import('../../infra/publish.mjs' as string);
    expect(awsCliProblem('aws-cli/2.22.35 Python/3.12.6 Linux/6.1 exe/x86_64.ubuntu.24')).toBeUndefined();
    expect(awsCliProblem('aws-cli/2.4.21 Python/3.8.8 Darwin/21.3.0 exe/x86_64')).toBeUndefined();
    expect(awsCliProblem('aws-cli/1.22.62 Python/3.9.10 Linux/5.10 botocore/1.24.7')).toBeUndefined();
    expect(awsCliProblem('aws-cli/1.45.11 Python/3.11.7 Linux/6.1 botocore/1.43.11')).toBeUndefined();
  });

  it('refuses older releases, naming the versions to install, and an unreadable answer', async () => {
    const { awsCliProblem } = await import('../../infra/publish.mjs' as string);
    expect(awsCliProblem('aws-cli/2.4.20 Python/3.8.8 Linux/5.4 exe/x86_64')).toBe(
      'AWS CLI 2.4.20 is too old for `s3api put-object --checksum-sha256`: install 2.4.21 or newer (v2), or 1.22.62 or newer (v1)',
    );
    expect(awsCliProblem('aws-cli/1.18.69 Python/2.7.18 Linux/4.14 botocore/1.16.19')).toMatch(
      /1\.18\.69 is too old/,
    );
    expect(awsCliProblem('')).toMatch(/cannot tell the AWS CLI's version/);
  });
});

describe('publish.mjs without the AWS CLI', () => {
  it('stops first, before reading the packaged template, saying what to install', () => {
    // Prepare: a PATH with no `aws` (node is started by its full path); a template path that does not exist, so
    // only a check made before reading the inputs can produce the message below.
    const emptyBin = mkdtempSync(path.join(tmpdir(), 'lkg-no-aws-'));
    const args = [publish, ...ARGS, '--template', path.join(emptyBin, 'missing.json')];

    // Act
    const r = spawnSync(process.execPath, args, {
      cwd: root,
      env: { ...process.env, PATH: emptyBin },
      encoding: 'utf8',
    });

    // Assess
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('publish: the AWS CLI is needed (no `aws` on PATH): install AWS CLI v2');
    expect(r.stderr).toContain('or use --dry-run to print the commands');
    expect(r.stderr).not.toContain('missing.json');
  });
});
