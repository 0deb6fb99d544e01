/**
 * A run that did not finish every account × region says so, in every format, with exit 3 (issue 20, item 1):
 * functions/cli/program.ts run in-process through the real SDK where the failures are real: an endpoint that
 * refuses connections, no credentials, a role the account refuses (the organization emulator), and an
 * invalid-token answer in a default Region (a failure) against the same answer in an opt-in Region (a Region
 * not enabled, skipped).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { scaledClock } from '../../local/clock.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import { testIo } from './helpers.ts';

const FORMATS = ['json', 'csv', 'table', 'html'] as const;
const dir = mkdtempSync(join(tmpdir(), 'lkg-incomplete-'));

/** Runs `audit --format <format>` (HTML to a file); its exit code, stdout (or the file) and stderr. */
async function auditIn(format: (typeof FORMATS)[number], t: ReturnType<typeof testIo>, extra: string[] = []) {
  const out = join(dir, `report-${format}-${Math.random().toString(36).slice(2)}.html`);
  const code = await run(
    ['audit', '--format', format, ...(format === 'html' ? ['--out', out] : []), ...extra],
    t.io,
  );
  return { code, out: format === 'html' ? readFileSync(out, 'utf8') : t.stdout(), stderr: t.stderr() };
}

/** What every format of an incomplete run must show; `check` is what the error must name. */
function expectIncomplete(
  format: (typeof FORMATS)[number],
  r: { code: number; out: string; stderr: string },
  check: RegExp,
) {
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/INCOMPLETE: 1 of 1 account-region\(s\) not audited \(1 failed\)/);
  expect(r.stderr).toMatch(check);
  // Nothing was listed: nothing to resume.
  expect(r.stderr).not.toMatch(/resume with/);
  if (format === 'json') {
    const report = JSON.parse(r.out);
    expect(report.complete).toBe(false);
    expect(report.totals.complete).toBe(false);
    expect(report.resumeToken).toBeUndefined();
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ account: '', region: 'us-east-1', status: 'failed' });
    expect(report.errors[0].check).toMatch(check);
  }
  if (format === 'csv') {
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^account,region,logGroup/);
    expect(lines[1]).toMatch(/^# INCOMPLETE: 1 of 1 account-region\(s\) not audited/);
    expect(lines[2]).toMatch(/^# failed: account \(this account\) region us-east-1: .*; check /);
    expect(lines[2]).toMatch(check);
  }
  if (format === 'table') expect(r.out).toMatch(/INCOMPLETE: 1 of 1 account-region\(s\) not audited/);
  if (format === 'html') {
    expect(r.out).toContain('id="incomplete"');
    expect(r.out).toContain('Incomplete: 1 of 1 account-region(s) not audited');
    expect(r.out).toMatch(check);
    // No green card: a zero here only means nothing was listed.
    expect(r.out).not.toContain('class="card ok"');
    expect(r.out).toContain('INCOMPLETE');
  }
}

describe('a single-account audit that could not run is incomplete in every format (exit 3)', () => {
  it.each(FORMATS)(
    'an endpoint that refuses connections names AWS_ENDPOINT_URL (%s)',
    async (format) => {
      const endpoint = 'http://127.0.0.1:1';
      const t = testIo({
        clients: defaultClientFactory({ endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
        env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint },
      });
      const r = await auditIn(format, t);
      expectIncomplete(format, r, /AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:1/);
      expect(r.stderr).toMatch(/error: cannot reach AWS: ECONNREFUSED 127\.0\.0\.1:1/);
    },
    60_000,
  );

  it.each(FORMATS)(
    'no credentials names the credentials to check (%s)',
    async (format) => {
      const saved = { ...process.env };
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'none');
      process.env.AWS_CONFIG_FILE = join(dir, 'none');
      try {
        const t = testIo({
          clients: defaultClientFactory({ endpoint: 'http://127.0.0.1:1', profile: 'no-such-profile' }),
          env: { AWS_REGION: 'us-east-1' },
        });
        const r = await auditIn(format, t);
        expectIncomplete(format, r, /--profile,( set)? AWS_PROFILE/);
        expect(r.stderr).toMatch(/error: no AWS credentials found/);
      } finally {
        process.env = saved;
      }
    },
    60_000,
  );
});

describe('enforce that could not run says so too', () => {
  it('enforce --json: complete false, the error with what to check, no resume token, exit 3', async () => {
    const endpoint = 'http://127.0.0.1:1';
    const t = testIo({
      clients: defaultClientFactory({ endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: endpoint },
    });
    const code = await run(['enforce', '--yes', '--json'], t.io);
    expect(code).toBe(3);
    const report = JSON.parse(t.stdout());
    expect(report).toMatchObject({ complete: false, totals: { complete: false, listed: 0 } });
    expect(report.errors[0].check).toMatch(/AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:1/);
    expect(report.resumeToken).toBeUndefined();
    expect(t.stderr()).toMatch(/INCOMPLETE: 1 of 1 account-region\(s\) not done/);
    expect(t.stderr()).not.toMatch(/resume with/);
  }, 60_000);
});

describe('across accounts (organization emulator)', () => {
  const MGMT = '111111111111';
  const LOCKED = '555555555555';
  const EU_ONLY = '777777777777';
  let org: OrgEmulator;
  const cli = () =>
    testIo({
      clients: defaultClientFactory({
        endpoint: org.endpoint,
        credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
      }),
      clock: scaledClock(10),
      env: { AWS_REGION: 'eu-west-1' },
    });
  beforeAll(async () => {
    clearKeyCache();
    org = await startOrgEmulator({
      management: MGMT,
      timeScale: 10,
      accounts: [
        { id: LOCKED, name: 'locked', refuseRole: true },
        // eu-west-1 only: us-east-1 (a default Region) and eu-south-1 (opt-in) answer with an invalid token.
        { id: EU_ONLY, name: 'eu-only', enabledRegions: ['eu-west-1'] },
      ],
    });
    org.account(EU_ONLY).state.putLogGroup('eu-west-1', '/app/one');
  }, 60_000);
  afterAll(async () => {
    await org?.stop();
  });

  it('an invalid token in an opt-in Region is a Region not enabled: skipped, complete', async () => {
    const t = cli();
    const code = await run(
      ['audit', '--accounts', EU_ONLY, '--regions', 'eu-west-1,eu-south-1', '--json', '-q'],
      t.io,
    );
    const report = JSON.parse(t.stdout());
    expect(report.pairs.map((p: { region: string; status: string }) => `${p.region}/${p.status}`)).toEqual([
      'eu-west-1/done',
      'eu-south-1/skipped',
    ]);
    expect(report.complete).toBe(true);
    expect(report.errors).toEqual([]);
    expect(code).toBe(1); // the one unencrypted group: findings, not a failure
  }, 60_000);

  it.each(FORMATS)(
    'an invalid token in us-east-1 is a failure of the role session, named with what to check there: incomplete, exit 3 (%s)',
    async (format) => {
      const t = cli();
      const r = await auditIn(format, t, ['--accounts', EU_ONLY, '--regions', 'eu-west-1,us-east-1', '-q']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/INCOMPLETE: 1 of 2 account-region\(s\) not audited \(1 failed\)/);
      // The caller's credentials worked: the role session in that account-region is what failed (review 9).
      expect(r.stderr).toMatch(
        /777777777777 us-east-1: the role session in account 777777777777 \(role OrganizationAccountAccessRole\) is not accepted in us-east-1 \(\w+:\w+\): check the role session .*that the role arn:aws:iam::777777777777:role\/OrganizationAccountAccessRole exists, that its trust policy lets the caller assume it, and that us-east-1 is enabled for account 777777777777/,
      );
      expect(r.stderr).not.toMatch(/--profile, AWS_PROFILE/);
      expect(r.stderr).toMatch(/accounts: 0 of 1 fully audited; 1 not finished .*INCOMPLETE/);
      if (format === 'json') {
        const report = JSON.parse(r.out);
        expect(report.complete).toBe(false);
        expect(report.errors).toEqual([
          expect.objectContaining({
            account: EU_ONLY,
            region: 'us-east-1',
            status: 'failed',
            check: expect.stringMatching(/role session .*trust policy.*us-east-1 is enabled/),
          }),
        ]);
        // The pair that was audited keeps its counts; totals say they are not the whole run.
        expect(report.totals).toMatchObject({ listed: 1, complete: false });
      }
      if (format === 'csv') {
        expect(r.out).toMatch(/\n# INCOMPLETE: 1 of 2 .*\n# failed: account 777777777777 region us-east-1: /);
        // The "check …" text once, not twice.
        const failedLine = r.out.split('\n').find((l) => l.startsWith('# failed:')) ?? '';
        expect(failedLine.match(/check/g)).toHaveLength(1);
      }
      if (format === 'table') expect(r.out).toMatch(/INCOMPLETE: 1 of 2/);
      if (format === 'html') {
        expect(r.out).toContain('Incomplete: 1 of 2 account-region(s) not audited');
        expect(r.out).not.toContain('class="card ok"');
      }
    },
    60_000,
  );

  it.each(FORMATS)(
    'a refused role is a failure, not a skip: incomplete, the role named, exit 3 (%s)',
    async (format) => {
      const t = cli();
      const r = await auditIn(format, t, ['--accounts', `${MGMT},${LOCKED}`, '--regions', 'eu-west-1', '-q']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/INCOMPLETE: 1 of 2 account-region\(s\) not audited \(1 failed\)/);
      expect(r.stderr).toMatch(
        /555555555555( \(locked\))?: failed: cannot assume .*; check the role arn:aws:iam::555555555555:role\//,
      );
      if (format === 'json') {
        const report = JSON.parse(r.out);
        expect(report.complete).toBe(false);
        expect(report.pairs.find((p: { account: string }) => p.account === LOCKED).status).toBe('failed');
        expect(report.errors[0]).toMatchObject({ account: LOCKED, status: 'failed' });
        expect(report.errors[0].check).toMatch(/role arn:aws:iam::555555555555:role\/.*trust policy/);
        // The management account was audited: something to resume (the refused account, once its role is fixed).
        expect(report.resumeToken).toEqual(expect.any(String));
      }
      if (format === 'csv')
        expect(r.out).toMatch(
          /\n# failed: account 555555555555 region eu-west-1: cannot assume .*; check the role/,
        );
      if (format === 'table') expect(r.out).toMatch(/INCOMPLETE: 1 of 2/);
      if (format === 'html') {
        expect(r.out).toContain('Incomplete: 1 of 2 account-region(s) not audited');
        expect(r.out).toMatch(
          /"account":"555555555555",("accountName":"locked",)?"region":"eu-west-1","status":"failed"/,
        );
        expect(r.out).toContain('1 of 2</b><span>accounts fully audited; INCOMPLETE: 1 not finished');
      }
    },
    60_000,
  );
});
