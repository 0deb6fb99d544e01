/**
 * The checks of functions/cli/validate.ts, as plain functions: region typos and their suggestion, a key of
 * another region, `--out` paths (real temporary folders, no mocks), profiles in the shared files, reserved log
 * group names, and messages in the terms the user typed.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_REGIONS } from '../../functions/cli/aws.ts';
import {
  editDistance,
  inUserTerms,
  keyRegionProblem,
  nearestRegion,
  outPathProblem,
  profileProblem,
  profilesIn,
  regionProblem,
  reservedGroupProblem,
  sharedFiles,
} from '../../functions/cli/validate.ts';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718';

describe('regions', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(editDistance('eu-west-1', 'eu-west-1')).toBe(0);
    expect(editDistance('eu-wset-1', 'eu-west-1')).toBe(1);
    expect(editDistance('us-east1', 'us-east-1')).toBe(1);
    expect(editDistance('abc', '')).toBe(3);
  });

  it('suggests the nearest known region for a typo, none for something far off', () => {
    expect(nearestRegion('eu-wset-1', KNOWN_REGIONS)).toBe('eu-west-1');
    expect(nearestRegion('US-EAST-1', KNOWN_REGIONS)).toBe('us-east-1');
    expect(nearestRegion('nowhere', KNOWN_REGIONS)).toBeUndefined();
  });

  it('accepts every known region of every partition; names the flag and suggests for the others', () => {
    for (const r of ['us-east-1', 'eu-west-1', 'cn-north-1', 'us-gov-west-1'])
      expect(regionProblem(r, '--region', KNOWN_REGIONS)).toBeUndefined();
    expect(regionProblem('eu-wset-1', '--region', KNOWN_REGIONS)).toBe(
      '--region: "eu-wset-1" is not an AWS region; did you mean eu-west-1?',
    );
    expect(regionProblem('eu-west-9', 'AWS_REGION', KNOWN_REGIONS)).toMatch(
      /^AWS_REGION: .*did you mean eu-west-[123]\?/,
    );
    expect(regionProblem('mars', '--regions', KNOWN_REGIONS)).toMatch(/known regions: us-east-1, /);
  });
});

describe('key region', () => {
  it('accepts a key of the only region of the run', () => {
    expect(keyRegionProblem(KEY, '--key-arn', ['eu-west-1'])).toBeUndefined();
  });

  it('refuses a key of another region, naming the source, the regions and what to do', () => {
    const problem = keyRegionProblem(KEY, '--key-arn', ['us-east-1']);
    expect(problem).toMatch(/^--key-arn names a key of region eu-west-1, but this run covers us-east-1/);
    expect(problem).toContain('Pass --region eu-west-1');
    expect(keyRegionProblem(KEY, 'KMS_KEY_ARN', ['eu-west-1', 'us-east-1'])).toMatch(
      /^KMS_KEY_ARN names a key of region eu-west-1, but this run covers us-east-1:/,
    );
  });
});

describe('--out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lkg-out-'));

  it('accepts a new file in an existing folder; an existing file only with overwrite (--force, a resumed run)', () => {
    expect(outPathProblem(join(dir, 'report.html'))).toBeUndefined();
    writeFileSync(join(dir, 'old.csv'), 'x');
    // Was accepted (and silently overwritten): issue 20 item 6 says an existing report is kept unless --force.
    expect(outPathProblem(join(dir, 'old.csv'))).toBe(
      `--out ${join(dir, 'old.csv')}: the file exists; pass --force to overwrite it, or name another file`,
    );
    expect(outPathProblem(join(dir, 'old.csv'), { overwrite: true })).toBeUndefined();
  });

  it('refuses a symbolic link, even with overwrite, even a dangling one', () => {
    writeFileSync(join(dir, 'target.csv'), 'x');
    symlinkSync(join(dir, 'target.csv'), join(dir, 'link.csv'));
    symlinkSync(join(dir, 'nowhere.csv'), join(dir, 'dangling.csv'));
    for (const link of ['link.csv', 'dangling.csv'])
      expect(outPathProblem(join(dir, link), { overwrite: true })).toMatch(
        /: is a symbolic link; a report is never written through one/,
      );
  });

  it('refuses a missing folder, a folder, and a path under a file', () => {
    expect(outPathProblem(join(dir, 'missing', 'r.html'))).toBe(
      `--out ${join(dir, 'missing', 'r.html')}: the folder ${join(dir, 'missing')} does not exist`,
    );
    expect(outPathProblem(dir)).toMatch(/is a folder; name a file/);
    writeFileSync(join(dir, 'plain'), 'x');
    expect(outPathProblem(join(dir, 'plain', 'r.csv'))).toMatch(/is not a folder/);
  });

  it.skipIf(process.getuid?.() === 0)('refuses a folder that is not writable', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    expect(outPathProblem(join(locked, 'r.csv'))).toMatch(/the folder .*locked is not writable/);
  });
});

describe('profiles', () => {
  const config = '[default]\nregion = eu-west-1\n[profile ops]\nregion = us-east-1\n[sso-session corp]\n';
  const credentials = '[build]\naws_access_key_id = x\n';

  it('reads the profile names of each kind of file', () => {
    expect(profilesIn(config, 'config')).toEqual(['default', 'ops']);
    expect(profilesIn(credentials, 'credentials')).toEqual(['build']);
  });

  it('accepts a profile either file defines; names the profile and the files read otherwise', () => {
    const files = [
      { path: '/h/.aws/config', kind: 'config' as const, text: config },
      { path: '/h/.aws/credentials', kind: 'credentials' as const, text: undefined },
    ];
    expect(profileProblem('ops', '--profile', files)).toBeUndefined();
    expect(
      profileProblem('build', '--profile', [
        ...files.slice(0, 1),
        { ...files[0], path: '/c', kind: 'credentials', text: credentials },
      ]),
    ).toBeUndefined();
    expect(profileProblem('corp', '--profile', files)).toBe(
      '--profile: profile "corp" is not in the shared config or credentials files (read: /h/.aws/config, /h/.aws/credentials (missing)); check the name (aws configure list-profiles) or the files',
    );
  });

  it('finds the files where the SDK does', () => {
    expect(sharedFiles({ HOME: '/h' })).toEqual({
      config: '/h/.aws/config',
      credentials: '/h/.aws/credentials',
    });
    expect(sharedFiles({ HOME: '/h', AWS_CONFIG_FILE: '/c', AWS_SHARED_CREDENTIALS_FILE: '/k' })).toEqual({
      config: '/c',
      credentials: '/k',
    });
  });
});

describe('reserved names and the user terms', () => {
  it('refuses aws/… log groups, in any case, and no other', () => {
    expect(reservedGroupProblem('aws/spans')).toMatch(/^--log-group aws\/spans: reserved for AWS/);
    expect(reservedGroupProblem('AWS/x')).toBeDefined();
    expect(reservedGroupProblem('/aws/lambda/x')).toBeUndefined();
  });

  it('names the flag for a value that came from a flag, the variable otherwise', () => {
    const message = 'KMS_KEY_ARN must be a full key ARN; INCLUDE_LOG_GROUPS: "x" is bad';
    expect(inUserTerms(message, new Set(['KMS_KEY_ARN']))).toBe(
      '--key-arn must be a full key ARN; INCLUDE_LOG_GROUPS: "x" is bad',
    );
    expect(inUserTerms(message, new Set(['INCLUDE_LOG_GROUPS']))).toBe(
      'KMS_KEY_ARN must be a full key ARN; --include: "x" is bad',
    );
    expect(inUserTerms(message, new Set())).toBe(message);
  });
});
