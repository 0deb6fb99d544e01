/**
 * The --org mode of functions/cli/program.ts (with across.ts, resume-token.ts and the Pool of
 * core/concurrency.ts), run in-process end to end through the real SDK against the multi-account emulator
 * (Organizations + STS + one emulator per account, real quotas time-scaled): audit, enforce interrupted and
 * resumed, and doctor, each across accounts, then the pool and the resume token on their own.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFor } from '../../functions/cli/across.ts';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { decodeAcross, encodeAcross } from '../../functions/cli/resume-token.ts';
import { Pool } from '../../functions/core/concurrency.ts';
import { loadConfig } from '../../functions/core/config.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { scaledClock } from '../../local/clock.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import { testIo } from './helpers.ts';

const SCALE = 10;
// eu-south-1 is an opt-in Region: US_ONLY has not enabled it (a skip). A default Region cannot be disabled, so
// an invalid token there is a failure (issue 20), which test/cli/incomplete.emulator.test.ts covers.
const REGIONS = ['us-east-1', 'eu-south-1'];
const MGMT = '111111111111';
const PROD = '222222222222';
const DEV = '333333333333';
const GONE = '444444444444';
const LOCKED = '555555555555';
const US_ONLY = '666666666666';
const OU = 'ou-abcd-11111111';
const REACHABLE = [MGMT, PROD, DEV, US_ONLY];
const GROUPS = 40;
const UNENCRYPTED = 8;

let org: OrgEmulator;

/** Every region an account has enabled: each gets GROUPS groups, UNENCRYPTED of them without a key. */
function seed(account: string) {
  const emulator = org.account(account);
  for (const region of account === US_ONLY ? ['us-east-1'] : REGIONS) {
    const owned = emulator.state.createKeyDirect(region, {
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account })),
    }).arn;
    for (let i = 0; i < GROUPS; i++) {
      const name = `/app/${account.slice(0, 3)}-${String(i).padStart(3, '0')}`;
      emulator.state.putLogGroup(region, name, i < UNENCRYPTED ? {} : { kmsKeyId: owned });
    }
  }
}

function cli(extra: Parameters<typeof testIo>[0] = {}) {
  return testIo({
    clients: defaultClientFactory({
      endpoint: org.endpoint,
      credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
    }),
    clock: scaledClock(SCALE),
    env: { AWS_REGION: 'us-east-1' },
    ...extra,
  });
}

const associations = (account: string) =>
  org.account(account).calls.filter((c) => c.operation === 'AssociateKmsKey' && !c.error);

beforeEach(async () => {
  clearKeyCache();
  org = await startOrgEmulator({
    management: MGMT,
    timeScale: SCALE,
    propagationDelayMs: 3000,
    accounts: [
      { id: PROD, name: 'prod', ou: OU },
      { id: DEV, name: 'dev <script>' },
      { id: GONE, name: 'gone', status: 'SUSPENDED' },
      { id: LOCKED, name: 'locked', refuseRole: true },
      { id: US_ONLY, name: 'us-only', enabledRegions: ['us-east-1'] },
    ],
    ous: [{ id: OU, name: 'Production' }],
  });
  for (const a of REACHABLE) seed(a);
});
afterEach(async () => {
  await org?.stop();
});

describe('audit --org', () => {
  it('lists every account and region with its counts; a refused role and a suspended account are reported, not fatal', async () => {
    // Prepare
    const t = cli();
    // Act
    const code = await run(['audit', '--org', '--regions', REGIONS.join(','), '--json', '-q'], t.io);
    // Assess: exit 3, since one account could not be audited (a denied role is an incomplete audit).
    expect(code).toBe(3);
    const report = JSON.parse(t.stdout());
    const pairs = report.pairs as {
      account: string;
      region: string;
      status: string;
      reason?: string;
      counts: { listed: number; candidates: number };
    }[];
    expect(pairs.map((p) => `${p.account}/${p.region}/${p.status}`)).toEqual([
      `${MGMT}/us-east-1/done`,
      `${MGMT}/eu-south-1/done`,
      `${PROD}/us-east-1/done`,
      `${PROD}/eu-south-1/done`,
      `${DEV}/us-east-1/done`,
      `${DEV}/eu-south-1/done`,
      `${GONE}/us-east-1/skipped`,
      `${GONE}/eu-south-1/skipped`,
      `${LOCKED}/us-east-1/failed`,
      `${LOCKED}/eu-south-1/failed`,
      `${US_ONLY}/us-east-1/done`,
      `${US_ONLY}/eu-south-1/skipped`,
    ]);
    for (const p of pairs.filter((x) => x.status === 'done')) {
      expect(p.counts.listed).toBe(GROUPS);
      expect(p.counts.candidates).toBe(UNENCRYPTED);
    }
    expect(pairs.find((p) => p.account === LOCKED)?.reason).toMatch(
      /cannot assume .*555555555555.*AccessDenied/,
    );
    expect(pairs.find((p) => p.account === GONE)?.reason).toMatch(/SUSPENDED/);
    expect(pairs.find((p) => p.account === US_ONLY && p.region === 'eu-south-1')?.reason).toMatch(
      /not enabled/,
    );
    expect(report.totals.listed).toBe(7 * GROUPS);
    expect(report.totals.candidates).toBe(7 * UNENCRYPTED);
    // Every row names its account; names from Organizations come through as data.
    expect(report.groups).toHaveLength(7 * GROUPS);
    expect(new Set(report.groups.map((g: { account: string }) => g.account))).toEqual(new Set(REACHABLE));
    expect(report.accounts.find((a: { account: string }) => a.account === DEV)?.name).toBe('dev <script>');
    expect(report.accounts.find((a: { account: string }) => a.account === US_ONLY)?.status).toBe('partial');
    // Nothing was written anywhere: an audit only reads.
    for (const a of REACHABLE) expect(associations(a)).toHaveLength(0);
    // The management account was audited with the caller's own credentials, not a role it does not have.
    expect(org.calls.filter((c) => c.operation === 'AssumeRole').map((c) => c.error ?? 'ok')).toHaveLength(4);
  }, 60_000);

  it('--ou narrows to the accounts under an organizational unit; --accounts to a list', async () => {
    const byOu = cli();
    expect(await run(['audit', '--ou', OU, '--region', 'us-east-1', '--json', '-q'], byOu.io)).toBe(1);
    expect(JSON.parse(byOu.stdout()).pairs.map((p: { account: string }) => p.account)).toEqual([PROD]);
    const listed = cli();
    const orgCallsBefore = org.calls.filter((c) => c.service === 'organizations').length;
    expect(
      await run(
        ['audit', '--accounts', `${DEV},${MGMT}`, '--region', 'us-east-1', '--json', '-q'],
        listed.io,
      ),
    ).toBe(1);
    expect(JSON.parse(listed.stdout()).pairs.map((p: { account: string }) => p.account)).toEqual([MGMT, DEV]);
    // No Organizations call for an explicit list.
    expect(org.calls.filter((c) => c.service === 'organizations')).toHaveLength(orgCallsBefore);
  }, 60_000);

  it('--format html writes one page naming every account, and CSV rows carry the account', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lkg-org-'));
    const html = join(dir, 'report.html');
    const t = testIo({ ...cli().io, writeFile: undefined });
    expect(
      await run(
        ['audit', '--org', '--regions', REGIONS.join(','), '--format', 'html', '--out', html, '-q'],
        t.io,
      ),
    ).toBe(3);
    const page = readFileSync(html, 'utf8');
    for (const a of [MGMT, PROD, DEV, GONE, LOCKED, US_ONLY]) expect(page).toContain(a);
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('dev <script>');
    const csv = join(dir, 'groups.csv');
    expect(
      await run(['audit', '--org', '--region', 'us-east-1', '--format', 'csv', '--out', csv, '-q'], t.io),
    ).toBe(3);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]?.startsWith('account,region,logGroup')).toBe(true);
    // The rows, then (the locked account refused its role: incomplete) the `#` summary lines.
    const rows = lines.filter((l) => !l.startsWith('#'));
    expect(rows).toHaveLength(1 + 4 * GROUPS);
    expect(new Set(rows.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(REACHABLE));
    expect(lines.slice(1 + 4 * GROUPS)).toEqual([
      expect.stringMatching(/^# INCOMPLETE: 1 of 6 account-region\(s\) not audited \(1 failed\)/),
      expect.stringMatching(
        /^# failed: account 555555555555 region us-east-1: cannot assume .*; check the role/,
      ),
    ]);
  }, 60_000);

  it('refuses bad input before any AWS call (exit 2)', async () => {
    const cases = [
      ['audit', '--accounts', '12345', '--region', 'us-east-1'],
      ['audit', '--org', '--accounts', PROD, '--region', 'us-east-1'],
      ['audit', '--role-name', 'X', '--region', 'us-east-1'],
      ['audit', '--ou', 'engineering', '--region', 'us-east-1'],
      ['audit', '--org', '--parallel', '0', '--region', 'us-east-1'],
      [
        'enforce',
        '--org',
        '--yes',
        '--key-arn',
        `arn:aws:kms:us-east-1:${PROD}:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718`,
      ],
    ];
    for (const argv of cases) {
      const t = cli();
      expect(await run(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.stderr()).toMatch(/error: /);
    }
    expect(org.calls).toHaveLength(0);
    for (const a of REACHABLE) expect(org.account(a).calls).toHaveLength(0);
  });
});

describe('enforce --org', () => {
  it('encrypts every in-scope group of every reachable account, each exactly once across an interruption and its resume', async () => {
    // Prepare: stop the run once some associations are done.
    const controller = new AbortController();
    const total = () => REACHABLE.reduce((n, a) => n + associations(a).length, 0);
    const watch = setInterval(() => {
      if (total() >= 15) controller.abort();
    }, 2);
    const t = cli({ signal: controller.signal });
    // Act
    const first = await run(
      ['enforce', '--org', '--regions', REGIONS.join(','), '--yes', '--rate', '1', '--concurrency', '1'],
      t.io,
    );
    clearInterval(watch);
    // Assess: interrupted, with one command for everything still to do.
    expect(first).toBe(130);
    const again = /[Rr]esume with:\n {2}(logs-kms-guard .*)/.exec(t.stderr())?.[1];
    expect(again).toContain('--resume-token');
    const token = /--resume-token (\S+)/.exec(again ?? '')?.[1] ?? '';
    const t2 = cli();
    const second = await run(
      ['enforce', '--org', '--regions', REGIONS.join(','), '--yes', '--json', '--resume-token', token],
      t2.io,
    );
    // The locked account still refuses: exit 3, everything else done.
    expect(second).toBe(3);
    for (const a of REACHABLE) {
      const emulator = org.account(a);
      for (const region of a === US_ONLY ? ['us-east-1'] : REGIONS) {
        const key = emulator.state.key(region, 'alias/logs-kms-guard');
        expect(key?.state, `${a} ${region}`).toBe('Enabled');
        const groups = emulator.state.logGroups(region);
        expect(groups.filter((g) => g.kmsKeyId === key?.arn)).toHaveLength(UNENCRYPTED);
        expect(groups.filter((g) => !g.kmsKeyId)).toHaveLength(0);
      }
      // Exactly once: no group was associated twice, across both runs.
      const names = associations(a).map((c) => `${c.region}`);
      expect(names).toHaveLength(a === US_ONLY ? UNENCRYPTED : 2 * UNENCRYPTED);
    }
    for (const a of [GONE, LOCKED]) expect(org.account(a).calls).toHaveLength(0);
    const report = JSON.parse(t2.stdout());
    // A refused role is a failure of the run (was `skipped`, the same as a suspended account: issue 20).
    expect(report.pairs.find((p: { account: string }) => p.account === LOCKED)?.status).toBe('failed');
    expect(report.complete).toBe(false);
    // What is left to do is the refusing account alone, for when its role is fixed.
    expect(await decodeAcross(report.resumeToken, 'enforce', async () => '')).toEqual(
      REGIONS.map((r) => ({ a: LOCKED, r })),
    );
    expect(report.totals.failed).toBe(0);
  }, 120_000);

  it('enforce --org --dry-run changes nothing and says what it would do per account', async () => {
    const t = cli();
    expect(
      await run(['enforce', '--org', '--regions', REGIONS.join(','), '--dry-run', '--json', '-q'], t.io),
    ).toBe(3);
    const report = JSON.parse(t.stdout());
    expect(report.totals.wouldEncrypt).toBe(7 * UNENCRYPTED);
    for (const a of REACHABLE) {
      expect(associations(a)).toHaveLength(0);
      expect(org.account(a).state.key('us-east-1', 'alias/logs-kms-guard')).toBeUndefined();
    }
  }, 60_000);
});

describe('enforce --org: what it would change, before it asks', () => {
  it('the dry run lists each group per account and region, and says once per account-region which key it would create', async () => {
    // Act
    const t = cli();
    await run(['enforce', '--org', '--regions', REGIONS.join(','), '--dry-run', '--json', '-q'], t.io);
    // Assess
    const report = JSON.parse(t.stdout());
    const groups = report.groups as { account: string; region: string; action: string }[];
    expect(groups).toHaveLength(7 * UNENCRYPTED);
    expect(groups.every((g) => g.action === 'would-encrypt')).toBe(true);
    expect(new Set(groups.map((g) => g.account))).toEqual(new Set(REACHABLE));
    expect(groups.filter((g) => g.account === PROD && g.region === 'eu-south-1')).toHaveLength(UNENCRYPTED);
    // Seven account-regions without a guard key: seven keys it would create, one each.
    expect(report.wouldCreate).toHaveLength(7);
    expect(
      new Set(report.wouldCreate.map((k: { account: string; region: string }) => `${k.account} ${k.region}`))
        .size,
    ).toBe(7);
  }, 60_000);

  it('the prompt names the accounts, the regions and how many groups (counted first); "n" changes nothing', async () => {
    // Prepare
    const questions: string[] = [];
    const t = cli({
      tty: true,
      prompt: async (q: string) => {
        questions.push(q);
        return 'n';
      },
    });
    // Act
    const code = await run(['enforce', '--org', '--regions', REGIONS.join(',')], t.io);
    // Assess
    expect(code).toBe(0);
    expect(questions).toHaveLength(1);
    const q = questions[0] ?? '';
    expect(q).toContain(`with ${7 * UNENCRYPTED} log group(s) in 7 account-regions: 4 accounts (`);
    for (const a of REACHABLE) expect(q).toContain(a);
    expect(q).toContain(`× 2 regions (${REGIONS.join(', ')}).`);
    expect(q).toContain('in the 7 account-regions that have none');
    // The account whose role was refused cannot be counted, and the question says so.
    expect(q).toContain(`Not counted (the run tries them too):\n  ${LOCKED}: cannot assume`);
    expect(t.stderr()).toContain('nothing changed');
    for (const a of REACHABLE) expect(associations(a)).toHaveLength(0);
  }, 60_000);
});

describe('doctor --org', () => {
  it('runs the checks in every reachable account, each line naming its account', async () => {
    const t = cli();
    await run(['doctor', '--org', '--region', 'us-east-1', '--json', '-q'], t.io);
    const out = JSON.parse(t.stdout());
    expect(new Set(out.checks.map((c: { account: string }) => c.account))).toEqual(new Set(REACHABLE));
    expect(
      out.pairs
        .filter((p: { status: string }) => p.status === 'skipped')
        .map((p: { account: string }) => p.account),
    ).toEqual([GONE]);
    // A refused role is a failure, not a skip like a suspended account (issue 20).
    expect(
      out.pairs
        .filter((p: { status: string }) => p.status === 'failed')
        .map((p: { account: string }) => p.account),
    ).toEqual([LOCKED]);
  }, 60_000);
});

describe('the pool and the resume token', () => {
  it('never runs more than its size at once', async () => {
    const pool = new Pool(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, i % 3));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it('round-trips the pairs still to do and is bound to its command', async () => {
    const pairs = [
      { a: PROD, r: 'us-east-1', t: 'page-7' },
      { a: DEV, r: 'eu-south-1' },
    ];
    const token = encodeAcross('enforce', pairs);
    expect(await decodeAcross(token, 'enforce', async () => '')).toEqual(pairs);
    await expect(decodeAcross(token, 'rollback', async () => '')).rejects.toThrow(/printed by "enforce"/);
    await expect(decodeAcross('2.garbage', 'enforce', async () => '')).rejects.toThrow(/not a token/);
  });

  it('--function-role names the role of the same name in each account', () => {
    const config = loadConfig({ GUARD_ROLE_ARN: `arn:aws:iam::${MGMT}:role/logs-kms-guard-enforce` });
    expect(configFor(config, PROD).guardRoleArn).toBe(`arn:aws:iam::${PROD}:role/logs-kms-guard-enforce`);
    expect(configFor(config, MGMT)).toBe(config);
    expect(configFor(loadConfig({}), PROD).guardRoleArn).toBeUndefined();
  });
});
