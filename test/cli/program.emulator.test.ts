/**
 * functions/cli/program.ts run in-process through the real SDK against the emulator (local/world.ts): audit,
 * dry run, interrupted and resumed enforce, doctor and rollback over 10,000 groups; then audit's groups at
 * risk after keys are changed through the KMS API. program.test.ts covers the commands against mocks.
 *
 * At a time-scaled quota (SCALE): the CLI's pacing runs on a clock just as much faster as the emulator's
 * quotas, so a 10,000-group backfill takes seconds and must still never throttle.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  type KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy, rootStatement } from '../../functions/core/policy.ts';
import { scaledClock } from '../../local/clock.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { ACCOUNT, credentials, GUARD_ALIAS, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

const SCALE = 100;

let emu: Emulator;
let otherKey: string;
const snapshot = () =>
  JSON.stringify({
    groups: emu.state.logGroups(REGION).map((g) => [g.name, g.kmsKeyId ?? null, g.tags]),
    keys: emu.state.keys(REGION).map((k) => [k.arn, k.state, k.policy, k.aliases, k.rotation]),
  });
const associations = () => emu.calls.filter((c) => c.operation === 'AssociateKmsKey' && !c.error).length;
const throttles = () => emu.calls.filter((c) => /Throttl/.test(c.error ?? '')).length;

function cli(extra: Parameters<typeof testIo>[0] = {}) {
  return testIo({
    clients: defaultClientFactory({
      endpoint: emu.endpoint,
      credentials,
    }),
    clock: scaledClock(SCALE),
    env: { AWS_REGION: REGION },
    ...extra,
  });
}

describe('CLI end to end (emulator, 10,000 log groups)', () => {
  beforeAll(async () => {
    clearKeyCache();
    ({ emulator: emu } = await startWorld({
      emulator: { timeScale: SCALE, propagationDelayMs: 3000, throttle: true },
    }));
    // A team's own key, with a policy that lets CloudWatch Logs use it (else its groups would be at risk).
    otherKey = emu.state.createKeyDirect(REGION, {
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: emu.account })),
    }).arn;
    // 10,000 groups: 2,000 unencrypted in scope, 7,000 on another key, 500 excluded by name, 500 tagged to skip.
    for (let i = 0; i < 10_000; i++) {
      const n = String(i).padStart(5, '0');
      if (i % 5 === 0) emu.state.putLogGroup(REGION, `/app/${n}`);
      else if (i % 20 === 1) emu.state.putLogGroup(REGION, `/legacy/${n}`);
      else if (i % 20 === 2)
        emu.state.putLogGroup(REGION, `/tagged/${n}`, { tags: { 'logs-kms-guard:skip': 'true' } });
      else emu.state.putLogGroup(REGION, `/owned/${n}`, { kmsKeyId: otherKey });
    }
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('audit finds the 2,000 gaps and exits 1', async () => {
    const t = cli();
    const code = await run(['audit', '--json', '--exclude', '/legacy/'], t.io);
    expect(code).toBe(1);
    const report = JSON.parse(t.stdout());
    expect(report.totals).toMatchObject({ listed: 10_000, candidates: 2_000, noKey: 3_000, otherKey: 7_000 });
  }, 60_000);

  it('a dry run changes nothing', async () => {
    const before = snapshot();
    const calls = emu.calls.length;
    const t = cli();
    const code = await run(['enforce', '--dry-run', '--json', '--exclude', '/legacy/'], t.io);
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout()).totals.wouldEncrypt).toBe(2_000);
    expect(snapshot()).toBe(before);
    const mutating = emu.calls.slice(calls).filter((c) => !/^(Describe|List|Get)/.test(c.operation));
    expect(mutating).toEqual([]);
  }, 60_000);

  it('enforce, interrupted and resumed, encrypts each gap exactly once with no throttling and touches nothing else', async () => {
    // Prepare
    const before = new Map(emu.state.logGroups(REGION).map((g) => [g.name, g.kmsKeyId]));
    const controller = new AbortController();
    const watch = setInterval(() => {
      if (associations() >= 700) controller.abort();
    }, 5);
    const t = cli({ signal: controller.signal });
    // Act
    const first = await run(['enforce', '--yes', '--exclude', '/legacy/', '--rate', '5'], t.io);
    clearInterval(watch);
    // Assess
    expect(first).toBe(130);
    const token = /--resume-token (\S+)/.exec(t.stderr())?.[1];
    expect(token).toBeDefined();
    expect(associations()).toBeLessThan(2_000);
    // Act: resume.
    const t2 = cli();
    const second = await run(
      ['enforce', '--yes', '--json', '--exclude', '/legacy/', '--resume-token', token ?? ''],
      t2.io,
    );
    // Assess
    expect(second).toBe(0);
    expect(associations()).toBe(2_000);
    expect(throttles()).toBe(0);
    const guardKey = emu.state.key(REGION, GUARD_ALIAS);
    expect(guardKey?.state).toBe('Enabled');
    for (const g of emu.state.logGroups(REGION)) {
      if (g.name.startsWith('/app/')) expect(g.kmsKeyId).toBe(guardKey?.arn);
      else expect(g.kmsKeyId).toBe(before.get(g.name));
    }
    // And the audit now passes.
    const t3 = cli();
    expect(await run(['audit', '--json', '--exclude', '/legacy/'], t3.io)).toBe(0);
  }, 120_000);

  it('doctor reports the key as ready and the AWS-only services as unchecked', async () => {
    const t = cli();
    await run(['doctor', '--json'], t.io);
    const checks = JSON.parse(t.stdout()).checks as { check: string; status: string }[];
    expect(checks.find((c) => c.check === 'key')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'key policy')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'key rotation')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'cloudtrail')?.status).toBe('warn');
  }, 60_000);

  it('rollback disassociates only the guard key and keeps the key', async () => {
    const t = cli();
    const code = await run(['rollback', '--yes', '--json'], t.io);
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout()).totals.disassociated).toBe(2_000);
    expect(throttles()).toBe(0);
    const guardKey = emu.state.key(REGION, GUARD_ALIAS);
    expect(guardKey?.state).toBe('Enabled');
    for (const g of emu.state.logGroups(REGION)) {
      if (g.name.startsWith('/owned/')) expect(g.kmsKeyId).toBe(otherKey);
      else expect(g.kmsKeyId).toBeUndefined();
    }
  }, 120_000);
});

describe('CLI end to end: audit finds the groups at risk (emulator, keys changed through the KMS API)', () => {
  const admin = credentials;
  /** An auditor that may list groups and describe keys, but not read key policies. */
  const auditor = { accessKeyId: 'auditor', secretAccessKey: 'local' };
  let emulator: Emulator;
  let kms: KMSClient;
  const keys: Record<'pending' | 'disabled' | 'narrowed', string> = {
    pending: '',
    disabled: '',
    narrowed: '',
  };
  let deletionDate: string;

  const audit = async (args: string[], credentials = admin) => {
    const t = testIo({
      clients: defaultClientFactory({ endpoint: emulator.endpoint, credentials }),
      env: { AWS_REGION: REGION },
    });
    const code = await run(['audit', '--json', ...args], t.io);
    return { code, report: JSON.parse(t.stdout() || '{}'), stderr: t.stderr() };
  };
  const row = (report: { groups: { logGroup: string }[] }, name: string) =>
    report.groups.find((g) => g.logGroup === name);

  beforeAll(async () => {
    // Prepare: the guard key, three team keys, groups created on them through the API
    clearKeyCache();
    const world = await startWorld({
      emulator: { throttle: false, propagationDelayMs: 0 },
      iam: {
        principals: {
          [auditor.accessKeyId]: {
            arn: `arn:aws:iam::${ACCOUNT}:role/auditor`,
            policies: [
              {
                name: 'ReadOnlyAudit',
                policy: {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Action: ['logs:DescribeLogGroups', 'logs:ListTagsForResource', 'kms:DescribeKey'],
                      Resource: '*',
                    },
                  ],
                },
              },
            ],
          },
        },
      },
    });
    ({ emulator, kms } = world);
    const policy = JSON.stringify(
      defaultKeyPolicy({ partition: 'aws', region: REGION, account: emulator.account }),
    );
    const guardKey = await kms.send(new CreateKeyCommand({ Policy: policy, Description: 'guard' }));
    await kms.send(
      new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: guardKey.KeyMetadata?.KeyId }),
    );
    for (const which of Object.keys(keys) as (keyof typeof keys)[]) {
      const out = await kms.send(new CreateKeyCommand({ Policy: policy, Description: `team ${which}` }));
      keys[which] = out.KeyMetadata?.Arn ?? '';
    }
    const guard = emulator.state.key(REGION, GUARD_ALIAS)?.arn ?? '';
    const logs = defaultClientFactory({ endpoint: emulator.endpoint, credentials: admin })(REGION).logs;
    const plan: [string, string][] = [
      ['/healthy/1', guard],
      ['/healthy/2', guard],
      ['/pending/1', keys.pending],
      ['/pending/2', keys.pending],
      ['/pending/3', keys.pending],
      ['/disabled/1', keys.disabled],
      ['/narrowed/1', keys.narrowed],
      ['/narrowed/2', keys.narrowed],
    ];
    for (const [logGroupName, kmsKeyId] of plan) {
      await logs.send(new CreateLogGroupCommand({ logGroupName, kmsKeyId }));
    }
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/unencrypted/1' }));
    // Act on the keys, as people would: schedule a deletion, disable one, narrow a policy to the root alone
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keys.pending, PendingWindowInDays: 7 }));
    await kms.send(new DisableKeyCommand({ KeyId: keys.disabled }));
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: keys.narrowed,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [rootStatement({ partition: 'aws', region: REGION, account: emulator.account })],
        }),
      }),
    );
    const described = await kms.send(new DescribeKeyCommand({ KeyId: keys.pending }));
    deletionDate = described.KeyMetadata?.DeletionDate?.toISOString() ?? '';
  }, 60_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  it('reports each group at risk with the reason and the key DeletionDate, exits 1, one GetKeyPolicy per Enabled key', async () => {
    // Prepare
    const mark = emulator.calls.length;

    // Act
    const { code, report, stderr } = await audit([]);

    // Assess
    expect(code).toBe(1);
    expect(deletionDate).not.toBe('');
    expect(report.totals).toMatchObject({ listed: 9, guardKey: 2, atRisk: 6, candidates: 1 });
    for (const name of ['/pending/1', '/pending/2', '/pending/3']) {
      expect(row(report, name)).toMatchObject({
        keyStatus: 'PendingDeletion',
        atRisk: 'key-pending-deletion',
        unreadableFrom: deletionDate,
        note: `at risk: key pending deletion: unreadable from ${deletionDate.slice(0, 10)}`,
      });
    }
    expect(row(report, '/disabled/1')).toMatchObject({ keyStatus: 'Disabled', atRisk: 'key-disabled' });
    for (const name of ['/narrowed/1', '/narrowed/2']) {
      expect(row(report, name)).toMatchObject({
        keyStatus: 'Enabled',
        keyPolicy: 'excludes-logs',
        atRisk: 'key-policy-excludes-logs',
      });
    }
    expect(row(report, '/healthy/1')).toMatchObject({
      keyState: 'guard-key',
      keyPolicy: 'admits-logs',
      atRisk: '',
    });
    expect(stderr).toContain('1 unencrypted in scope, 6 at risk');
    const calls = emulator.calls.slice(mark);
    // the guard key, the narrowed key, and the guard key once more for the Insights query-results check
    expect(calls.filter((c) => c.operation === 'GetKeyPolicy').length).toBe(3);
    // Reads only (CloudTrail LookupEvents, issue 21 item 1, is a read).
    expect(calls.filter((c) => !/^(Describe|List|Get|Lookup)/.test(c.operation))).toEqual([]);
  }, 60_000);

  it('--unencrypted lists exactly the groups at risk and the gap', async () => {
    // Act
    const { code, report } = await audit(['--unencrypted']);

    // Assess
    expect(code).toBe(1);
    expect(report.groups.map((g: { logGroup: string }) => g.logGroup).sort()).toEqual([
      '/disabled/1',
      '/narrowed/1',
      '/narrowed/2',
      '/pending/1',
      '/pending/2',
      '/pending/3',
      '/unencrypted/1',
    ]);
  }, 60_000);

  it('an auditor without kms:GetKeyPolicy: the policies are unknown, not at risk; the key states still count', async () => {
    // Act
    const { code, report, stderr } = await audit(['--exclude', '/unencrypted/'], auditor);

    // Assess
    expect(code).toBe(1);
    expect(report.totals).toMatchObject({ atRisk: 4, candidates: 0 });
    expect(row(report, '/narrowed/1')).toMatchObject({ keyPolicy: 'unknown', atRisk: '' });
    expect(row(report, '/healthy/1')).toMatchObject({ keyPolicy: 'unknown', atRisk: '' });
    expect(row(report, '/pending/1')).toMatchObject({
      atRisk: 'key-pending-deletion',
      unreadableFrom: deletionDate,
    });
    expect(stderr).toContain('4 log group(s) use a key whose policy could not be read (kms:GetKeyPolicy)');
    expect(
      emulator.calls.some(
        (c) => c.operation === 'GetKeyPolicy' && c.accessKeyId === auditor.accessKeyId && c.error,
      ),
    ).toBe(true);
  }, 60_000);

  it('once the deletion is cancelled, the key enabled and the policy repaired, nothing is at risk', async () => {
    // Prepare
    const { CancelKeyDeletionCommand, EnableKeyCommand } = await import('@aws-sdk/client-kms');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keys.pending }));
    await kms.send(new EnableKeyCommand({ KeyId: keys.pending }));
    await kms.send(new EnableKeyCommand({ KeyId: keys.disabled }));
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: keys.narrowed,
        PolicyName: 'default',
        Policy: JSON.stringify(
          defaultKeyPolicy({ partition: 'aws', region: REGION, account: emulator.account }),
        ),
      }),
    );

    // Act
    const { code, report } = await audit(['--exclude', '/unencrypted/']);

    // Assess
    expect(code).toBe(0);
    expect(report.totals).toMatchObject({ atRisk: 0, keyUnusable: 0, candidates: 0 });
  }, 60_000);
});
