/**
 * Dry runs and the confirmation prompt of `enforce` and `rollback` (functions/cli/commands/bulk.ts with
 * dry-plan.ts), run in-process through the real SDK against the emulator (issue 20, item 5): a dry run lists
 * the groups it would change (table and JSON), says once per account-region which guard key it would create,
 * counts as `audit` does in one world of every kind of group, and the prompt names the account, the region and
 * how many groups, as counted before it asks.
 */
import { CreateAliasCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { ACCOUNT, credentials, GUARD_ALIAS, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let emu: Emulator;
const policy = () => JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT }));
const UNENCRYPTED = ['/app/plain-1', '/app/plain-2', '/app/plain-3'];
const mutating = (from: number) =>
  emu.calls.slice(from).filter((c) => !/^(Describe|List|Get)/.test(c.operation));

function cli(extra: Parameters<typeof testIo>[0] = {}) {
  return testIo({
    clients: defaultClientFactory({ endpoint: emu.endpoint, credentials }),
    env: { AWS_REGION: REGION },
    ...extra,
  });
}

/** Runs the CLI with a terminal whose user answers `answer`; the questions it was asked. */
async function asked(argv: string[], answer: string) {
  const questions: string[] = [];
  const t = cli({
    tty: true,
    prompt: async (q: string) => {
      questions.push(q);
      return answer;
    },
  });
  const code = await run(argv, t.io);
  return { code, questions, stderr: t.stderr(), stdout: t.stdout() };
}

beforeAll(async () => {
  clearKeyCache();
  ({ emulator: emu } = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 } }));
  // One group of every kind but the guard key's (it does not exist yet): unencrypted, on a team's key, on a
  // disabled key, tagged out, excluded by name, reserved for AWS.
  const team = emu.state.createKeyDirect(REGION, { policy: policy() }).arn;
  const disabled = emu.state.createKeyDirect(REGION, { policy: policy(), state: 'Disabled' }).arn;
  for (const name of UNENCRYPTED) emu.state.putLogGroup(REGION, name);
  emu.state.putLogGroup(REGION, '/app/team-1', { kmsKeyId: team });
  emu.state.putLogGroup(REGION, '/app/team-2', { kmsKeyId: team });
  emu.state.putLogGroup(REGION, '/app/dead-1', { kmsKeyId: disabled });
  emu.state.putLogGroup(REGION, '/app/dead-2', { kmsKeyId: disabled });
  emu.state.putLogGroup(REGION, '/app/opted-out', { tags: { 'logs-kms-guard:skip': 'true' } });
  emu.state.putLogGroup(REGION, '/legacy/old', {});
  emu.state.putLogGroup(REGION, 'aws/spans', {});
}, 60_000);
afterAll(async () => {
  await emu?.stop();
});

describe('before the guard key exists', () => {
  it('enforce --dry-run lists each group it would encrypt in the table, and says once which key it would create', async () => {
    // Prepare
    clearKeyCache();
    const mark = emu.calls.length;
    const t = cli();
    // Act
    const code = await run(['enforce', '--dry-run', '-v', '--exclude', '/legacy/'], t.io);
    // Assess
    expect(code).toBe(0);
    const lines = t.stdout().trim().split('\n');
    expect(lines[0]).toMatch(/^ACCOUNT\s+REGION\s+LOG GROUP\s+WOULD\s+KEY$/);
    const rows = lines.slice(2);
    expect(rows).toHaveLength(UNENCRYPTED.length);
    for (const [i, name] of UNENCRYPTED.entries()) {
      expect(rows[i]).toMatch(
        new RegExp(
          `^${ACCOUNT}\\s+${REGION}\\s+${name}\\s+encrypt with\\s+${GUARD_ALIAS} \\(to be created\\)$`,
        ),
      );
    }
    const err = t.stderr();
    // The run's statement, once for the account-region (not once per group, -v or not)
    expect(err.match(/dry run: would create the guard key [^\n]* in [^\n]*/g)).toEqual([
      `dry run: would create the guard key ${GUARD_ALIAS} in ${ACCOUNT} ${REGION}`,
    ]);
    // and the core's decision under -v once for it too (it was logged once per group).
    expect(err.match(/would create the guard key alias=/g)).toHaveLength(1);
    expect(err).toContain('3 would be encrypted');
    expect(mutating(mark)).toEqual([]);
    expect(emu.state.key(REGION, GUARD_ALIAS)).toBeUndefined();
  });

  it('enforce --dry-run --json has the groups with their planned action and the key it would create', async () => {
    // Act
    const t = cli();
    const code = await run(['enforce', '--dry-run', '--json', '--exclude', '/legacy/'], t.io);
    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(t.stdout());
    expect(report.groups.map((g: { logGroup: string }) => g.logGroup)).toEqual(UNENCRYPTED);
    expect(report.groups[0]).toMatchObject({
      account: ACCOUNT,
      region: REGION,
      logGroup: UNENCRYPTED[0],
      keyState: 'no-key',
      inScope: true,
      action: 'would-encrypt',
      keyArn: null,
      keyAlias: GUARD_ALIAS,
    });
    expect(report.wouldCreate).toEqual([{ account: ACCOUNT, region: REGION, keyAlias: GUARD_ALIAS }]);
  });

  it('the prompt names the account, the region and how many groups, and "n" changes nothing', async () => {
    // Prepare
    const mark = emu.calls.length;
    // Act
    const { code, questions, stderr } = await asked(['enforce', '--exclude', '/legacy/'], 'n');
    // Assess
    expect(code).toBe(0);
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain(
      `This will associate the guard key ${GUARD_ALIAS} with 3 log group(s) in account ${ACCOUNT}, region ${REGION}.`,
    );
    expect(questions[0]).toContain(
      `It would first create the guard key ${GUARD_ALIAS} in that account-region.`,
    );
    expect(questions[0]).toMatch(/Proceed\? \[y\/N\] $/);
    expect(stderr).toContain('nothing changed');
    expect(mutating(mark)).toEqual([]);
  });

  it('Ctrl-C while it counts asks nothing and changes nothing (exit 130)', async () => {
    // Prepare
    const mark = emu.calls.length;
    const controller = new AbortController();
    controller.abort();
    const questions: string[] = [];
    const t = cli({
      tty: true,
      signal: controller.signal,
      prompt: async (q: string) => {
        questions.push(q);
        return 'y';
      },
    });
    // Act
    const code = await run(['enforce', '--exclude', '/legacy/'], t.io);
    // Assess
    expect(code).toBe(130);
    expect(questions).toEqual([]);
    expect(t.stderr()).toContain('stopped while counting: nothing changed');
    expect(mutating(mark)).toEqual([]);
  });

  it('without a terminal and without --yes it still refuses, calling nothing', async () => {
    const mark = emu.calls.length;
    const t = cli();
    expect(await run(['enforce'], t.io)).toBe(2);
    expect(t.stderr()).toContain('stdin is not a terminal; pass --yes');
    expect(emu.calls.length).toBe(mark);
  });
});

describe('with the guard key: every kind of group', () => {
  let guard = '';
  beforeAll(() => {
    clearKeyCache();
    guard = emu.state.createKeyDirect(REGION, { policy: policy() }).arn;
  });

  it('audit and enforce --dry-run count the same groups the same way', async () => {
    // Prepare: the alias through the API (state has no direct alias setter), a group on the guard key.
    const kms = defaultClientFactory({ endpoint: emu.endpoint, credentials })(REGION).kms;
    await kms.send(new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: guard }));
    emu.state.putLogGroup(REGION, '/app/guarded', { kmsKeyId: guard });
    // Act
    const a = cli();
    const auditCode = await run(['audit', '--json', '--exclude', '/legacy/'], a.io);
    const e = cli();
    const enforceCode = await run(['enforce', '--dry-run', '--json', '--exclude', '/legacy/'], e.io);
    // Assess
    expect(auditCode).toBe(1);
    expect(enforceCode).toBe(0);
    const audit = JSON.parse(a.stdout()).totals;
    const dry = JSON.parse(e.stdout()).totals;
    const shared = [
      'listed',
      'guardKey',
      'otherKey',
      'keyUnusable',
      'noKey',
      'outOfScope',
      'reserved',
      'atRisk',
    ];
    for (const k of shared) expect({ [k]: dry[k] }).toEqual({ [k]: audit[k] });
    expect(audit).toMatchObject({
      listed: 11,
      guardKey: 1,
      otherKey: 2,
      keyUnusable: 2,
      noKey: 6,
      outOfScope: 2,
      reserved: 1,
      candidates: 3,
    });
    // What audit calls unencrypted in scope is what enforce would encrypt.
    expect(dry.wouldEncrypt).toBe(audit.candidates);
    expect(dry.candidates).toBe(audit.candidates);
    expect(e.stderr()).not.toContain('would create');
  });

  it('the dry-run table shows the existing guard key by its alias and key id', async () => {
    const t = cli();
    expect(await run(['enforce', '--dry-run', '--exclude', '/legacy/'], t.io)).toBe(0);
    const id = guard.split('/').pop();
    expect(t.stdout()).toContain(`${UNENCRYPTED[0]}  encrypt with  ${GUARD_ALIAS} (key ${id})`);
    expect(t.stdout()).not.toContain('/app/team-1');
    expect(t.stdout()).not.toContain('/app/opted-out');
  });

  it('rollback --dry-run lists the group it would take the key from; its prompt counts it', async () => {
    // Act
    const t = cli();
    const code = await run(['rollback', '--dry-run', '--json'], t.io);
    const { questions } = await asked(['rollback'], 'no');
    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(t.stdout());
    expect(report.groups).toEqual([
      expect.objectContaining({ logGroup: '/app/guarded', action: 'would-disassociate', keyArn: guard }),
    ]);
    expect(questions[0]).toContain(
      `This will disassociate the guard key ${GUARD_ALIAS} (the key itself is kept) from 1 log group(s) in account ${ACCOUNT}, region ${REGION}.`,
    );
    expect(emu.state.logGroup(REGION, '/app/guarded')?.kmsKeyId).toBe(guard);
  });

  it('answered "y", enforce encrypts as many groups as the prompt said', async () => {
    // Act
    const { code, questions } = await asked(['enforce', '--exclude', '/legacy/'], 'y');
    // Assess
    expect(code).toBe(0);
    const said = Number(/with (\d+) log group\(s\)/.exec(questions[0] ?? '')?.[1]);
    expect(said).toBe(3);
    const encrypted = UNENCRYPTED.filter((n) => emu.state.logGroup(REGION, n)?.kmsKeyId === guard);
    expect(encrypted).toHaveLength(said);
  });
});
