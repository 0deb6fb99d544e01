/**
 * The CLI's commands (functions/cli/program.ts run) in-process against aws-sdk-client-mock: output, exit
 * codes, prompts and resume tokens of audit, enforce, rollback, associate, key setup and doctor, and the
 * groups at risk; then the built dist/cli.mjs as a process (built first when missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
  ListTagsForResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  type KeyState,
  KMSClient,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeAwsError } from '../../functions/cli/aws.ts';
import { defaultFunctionRole } from '../../functions/cli/function-role.ts';
import { run } from '../../functions/cli/program.ts';
import { toCsv } from '../../functions/cli/report.ts';
import { decodeResume, encodeResume, resumeCommand } from '../../functions/cli/resume-token.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, listedGroup as group, KEY_ARN, logGroupPage, OTHER_KEY_ARN } from '../helpers.ts';
import { testIo } from './helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const root = join(import.meta.dirname, '../..');

function serve(groups: LogGroup[], size = 50) {
  logs
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { nextToken?: string; logGroupNamePrefix?: string }) => {
      const list = input.logGroupNamePrefix
        ? groups.filter((g) => g.logGroupName?.startsWith(input.logGroupNamePrefix ?? ''))
        : groups;
      return logGroupPage(list, input.nextToken, size);
    });
  logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
}

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

const mutatingLogs = () =>
  logs
    .calls()
    .map((c) => (c.args[0] as object).constructor.name)
    .filter((n) => /Associate|Disassociate|Put|Create|Delete/.test(n));
const mutatingKms = () =>
  kms
    .calls()
    .map((c) => (c.args[0] as object).constructor.name)
    .filter((n) => /Create|Put|Enable|Schedule|Tag/.test(n));

describe('logs-kms-guard CLI (in-process)', () => {
  beforeEach(() => {
    logs.reset();
    kms.reset();
    sts.reset();
    clearKeyCache();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
  });

  it('--help lists every command and exits 0', async () => {
    // Prepare
    const t = testIo();
    // Act
    const code = await run(['--help'], t.io);
    // Assess
    expect(code).toBe(0);
    for (const c of ['audit', 'enforce', 'rollback', 'doctor', 'key', 'associate', 'disassociate']) {
      expect(t.stdout()).toContain(c);
    }
  });

  it.each([
    ['audit'],
    ['enforce'],
    ['rollback'],
    ['doctor'],
    ['key', 'setup'],
    ['associate'],
    ['disassociate'],
  ])('%s --help shows examples', async (...command) => {
    const t = testIo();
    expect(await run([...command, '--help'], t.io)).toBe(0);
    expect(t.stdout()).toContain('Examples:');
    expect(t.stdout()).toContain(`$ logs-kms-guard ${command.join(' ')}`);
  });

  it('exits 2 on usage errors', async () => {
    const t = testIo();
    expect(await run(['frobnicate'], t.io)).toBe(2);
    expect(await run(['audit', '--format', 'xml'], t.io)).toBe(2);
    expect(await run(['associate'], t.io)).toBe(2);
    expect(await run(['audit', '--region', 'nowhere'], t.io)).toBe(2);
    expect(await run(['audit', '--key-arn', 'alias/x'], t.io)).toBe(2);
    expect(t.stderr()).toContain('--key-arn must be a full key ARN');
  });

  it('audit prints a table and exits 1 when groups in scope are unencrypted', async () => {
    // Prepare
    keyExists();
    serve([group('/a'), group('/b', KEY_ARN), group('/c', OTHER_KEY_ARN), group('/skip/x')]);
    const t = testIo();
    // Act
    const code = await run(['audit', '--exclude', '/skip/'], t.io);
    // Assess
    expect(code).toBe(1);
    expect(t.stdout()).toMatch(/us-east-1\s+\/a\s+no-key\s+yes/);
    expect(t.stdout()).toMatch(/\/b\s+guard-key/);
    expect(t.stdout()).toMatch(/\/skip\/x\s+no-key\s+no/);
    expect(t.stderr()).toContain('1 unencrypted in scope');
    expect(mutatingLogs()).toEqual([]);
  });

  it('audit --json puts JSON alone on stdout and exits 0 when all is encrypted', async () => {
    // Prepare
    keyExists();
    serve([group('/b', KEY_ARN), group('/c', OTHER_KEY_ARN)]);
    const t = testIo();
    // Act
    const code = await run(['audit', '--json'], t.io);
    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(t.stdout());
    expect(report.totals).toMatchObject({ listed: 2, guardKey: 1, otherKey: 1, candidates: 0 });
    expect(report.groups).toHaveLength(2);
  });

  it('audit shows AWS-reserved groups as reserved, not as gaps; enforce never tries them', async () => {
    // Prepare
    keyExists();
    serve([group('aws/spans'), group('/b', KEY_ARN)]);
    logs.on(AssociateKmsKeyCommand).resolves({});
    const audit = testIo();
    const enforce = testIo();

    // Act
    const auditCode = await run(['audit', '--json'], audit.io);
    const enforceCode = await run(['enforce', '--yes'], enforce.io);

    // Assess: nothing to fix (exit 0), the group listed as reserved with the reason, no association tried
    expect(auditCode).toBe(0);
    const report = JSON.parse(audit.stdout());
    expect(report.totals).toMatchObject({ listed: 2, reserved: 1, candidates: 0, outOfScope: 0 });
    expect(report.groups.find((g: { logGroup: string }) => g.logGroup === 'aws/spans')).toMatchObject({
      keyState: 'reserved',
      inScope: false,
      note: expect.stringContaining('reserved for AWS'),
    });
    expect(enforceCode).toBe(0);
    expect(enforce.stderr()).toContain('1 reserved for AWS (not encryptable)');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
  });

  it('enforce refuses a --key-arn of another account before touching anything (exit 2, the reason)', async () => {
    // Prepare
    serve([group('/a')]);
    const t = testIo();
    const central = 'arn:aws:kms:us-east-1:210987654321:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718';

    // Act
    const code = await run(['enforce', '--yes', '--key-arn', central], t.io);

    // Assess
    expect(code).toBe(2);
    expect(t.stderr()).toMatch(/--key-arn names a key of account 210987654321/);
    expect(mutatingLogs()).toEqual([]);
    expect(kms.calls()).toHaveLength(0);
  });

  it('audit --format csv --out writes the file', async () => {
    // Prepare
    keyExists();
    serve([group('/a,b')]);
    const files: Record<string, string> = {};
    const t = testIo({
      writeFile: async (p, d) => {
        files[p] = d;
      },
    });
    // Act
    const code = await run(['audit', '--format', 'csv', '--out', 'r.csv'], t.io);
    // Assess
    expect(code).toBe(1);
    expect(files['r.csv']?.split('\n')[0]).toBe(
      'account,region,logGroup,keyState,inScope,kmsKeyId,keyStatus,note,atRisk,unreadableFrom,keyPolicy,logClass,deletionProtection,foughtBy',
    );
    expect(files['r.csv']).toContain('"/a,b"');
    expect(t.stdout()).toBe('');
  });

  it('enforce refuses without --yes when stdin is not a terminal, calling nothing', async () => {
    // Prepare
    const t = testIo();
    // Act
    const code = await run(['enforce'], t.io);
    // Assess
    expect(code).toBe(2);
    expect(t.stderr()).toContain('stdin is not a terminal; pass --yes');
    expect(logs.calls()).toHaveLength(0);
  });

  it('enforce asks on a terminal and changes nothing on "n"', async () => {
    keyExists();
    serve([group('/a')]);
    const t = testIo({ tty: true, answers: ['n'] });
    expect(await run(['enforce'], t.io)).toBe(0);
    expect(t.stderr()).toContain('nothing changed');
    expect(mutatingLogs()).toEqual([]);
  });

  it('enforce --dry-run makes no mutating call and creates no key', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('no alias'), { name: 'NotFoundException' }));
    serve([group('/a'), group('/b')]);
    const t = testIo();
    // Act
    const code = await run(['enforce', '--dry-run', '--json'], t.io);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout()).totals.wouldEncrypt).toBe(2);
    expect(mutatingLogs()).toEqual([]);
    expect(mutatingKms()).toEqual([]);
    expect(kms.commandCalls(CreateKeyCommand)).toHaveLength(0);
  });

  it('enforce --yes encrypts the gaps, and Ctrl-C stops cleanly with a resume command that works', async () => {
    // Prepare
    keyExists();
    const all = Array.from({ length: 120 }, (_, i) => group(`/g/${String(i).padStart(3, '0')}`));
    serve(all);
    const controller = new AbortController();
    const done = new Set<string>();
    logs.on(AssociateKmsKeyCommand).callsFake((input: { logGroupName: string }) => {
      done.add(input.logGroupName);
      if (done.size === 70) controller.abort();
      return {};
    });
    const t = testIo({ signal: controller.signal, clock: fakeClock() });
    // Act
    const code = await run(['enforce', '--yes', '--rate', '5'], t.io);
    // Assess
    expect(code).toBe(130);
    const match = /--resume-token (\S+)/.exec(t.stderr());
    expect(match).not.toBeNull();
    expect(t.stderr()).toContain('logs-kms-guard enforce --yes --rate 5 --resume-token');
    // Act: resume (the listing now shows what was done).
    serve(all.map((g) => (done.has(g.logGroupName ?? '') ? { ...g, kmsKeyId: KEY_ARN } : g)));
    const t2 = testIo({ clock: fakeClock() });
    const code2 = await run(['enforce', '--yes', '--json', '--resume-token', match?.[1] ?? ''], t2.io);
    // Assess
    expect(code2).toBe(0);
    const names = logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName);
    expect(names).toHaveLength(120);
    expect(new Set(names).size).toBe(120);
  });

  it('rollback touches only groups on the guard key and never the key', async () => {
    // Prepare
    keyExists();
    serve([group('/a', KEY_ARN), group('/b', OTHER_KEY_ARN), group('/c')]);
    logs.on(DisassociateKmsKeyCommand).resolves({});
    const t = testIo();
    // Act
    const code = await run(['rollback', '--yes'], t.io);
    // Assess
    expect(code).toBe(0);
    expect(logs.commandCalls(DisassociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName)).toEqual([
      '/a',
    ]);
    expect(mutatingKms()).toEqual([]);
  });

  it('turns an access denial into one line naming the action and resource, exit 3', async () => {
    // Prepare
    keyExists();
    logs
      .on(DescribeLogGroupsCommand)
      .rejects(
        Object.assign(
          new Error(
            `User: arn:aws:iam::${ACCOUNT}:user/me is not authorized to perform: logs:DescribeLogGroups on resource: arn:aws:logs:${REGION}:${ACCOUNT}:log-group::log-stream: because no identity-based policy allows the logs:DescribeLogGroups action`,
          ),
          { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } },
        ),
      );
    const t = testIo();
    // Act
    const code = await run(['audit'], t.io);
    // Assess
    expect(code).toBe(3);
    const lines = t.stderr().trim().split('\n');
    expect(lines.at(-1)).toBe(
      `error: access denied: logs:DescribeLogGroups on arn:aws:logs:${REGION}:${ACCOUNT}:log-group::log-stream: was refused for these credentials; grant it in IAM (or the key policy) and try again`,
    );
  });

  it('describes missing credentials and annotated denials', () => {
    expect(
      describeAwsError(
        Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        }),
      ),
    ).toMatch(/no AWS credentials found/);
    expect(
      describeAwsError(
        Object.assign(new Error('denied'), {
          name: 'AccessDeniedException',
          $action: 'kms:CreateKey',
          $resource: 'alias/x',
        }),
      ),
    ).toBe(
      'access denied: kms:CreateKey on alias/x was refused for these credentials; grant it in IAM (or the key policy) and try again',
    );
  });

  it('associate waits out propagation and reports the key', async () => {
    // Prepare
    keyExists();
    serve([group('/a')]);
    logs
      .on(AssociateKmsKeyCommand)
      .rejectsOnce(
        Object.assign(new Error('The specified KMS Key Id could not be found.'), {
          name: 'InvalidParameterException',
        }),
      )
      .resolves({});
    const t = testIo();
    // Act
    const code = await run(['associate', '--log-group', '/a', '--json'], t.io);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout())).toMatchObject({ status: 'associated', keyArn: KEY_ARN, attempts: 2 });
  });

  it('disassociate refuses a key that is not the guard key without --force', async () => {
    keyExists();
    serve([group('/b', OTHER_KEY_ARN)]);
    const t = testIo();
    expect(await run(['disassociate', '--log-group', '/b'], t.io)).toBe(1);
    expect(logs.commandCalls(DisassociateKmsKeyCommand)).toHaveLength(0);
  });

  it('key setup verifies an existing key without changing it', async () => {
    keyExists();
    // A key that names the function role key setup names by default (the template's, of this account and region).
    const guardRoles = [defaultFunctionRole(ACCOUNT, REGION)];
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(
        defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT, guardRoles }),
      ),
    });
    const t = testIo();
    expect(await run(['key', 'setup', '--json'], t.io)).toBe(0);
    expect(JSON.parse(t.stdout()).keys[0]).toMatchObject({
      keyArn: KEY_ARN,
      action: 'verified',
      rotation: true,
    });
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('key setup adds the default function role to a key that names none (issue 19: no key left unusable)', async () => {
    keyExists();
    const t = testIo();
    expect(await run(['key', 'setup', '--json'], t.io)).toBe(0);
    expect(JSON.parse(t.stdout()).keys[0].action).toContain(
      "the enforce role's statement to manage the key added",
    );
    const put = kms.commandCalls(PutKeyPolicyCommand)[0]?.args[0].input.Policy ?? '';
    expect(put).toContain(`"aws:PrincipalArn":"${defaultFunctionRole(ACCOUNT, REGION)}"`);
  });

  it('doctor reports key checks and degrades where services cannot be checked', async () => {
    // Prepare
    keyExists();
    const t = testIo();
    // Act
    const code = await run(['doctor', '--json'], t.io);
    // Assess
    const checks = JSON.parse(t.stdout()).checks as { check: string; status: string }[];
    expect(checks.find((c) => c.check === 'key')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'key policy')?.status).toBe('ok');
    expect(checks.find((c) => c.check === 'cloudtrail')?.status).toBe('warn');
    expect(code).toBe(checks.some((c) => c.status === 'fail') ? 1 : 0);
  });
});

describe('audit: groups at risk (key pending deletion, disabled, policy that shuts CloudWatch Logs out)', () => {
  const keyArn = (n: number) =>
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/${n}0000000-5b6a-7988-a1b2-c3d4e5f60718`;
  const PENDING = keyArn(1);
  const DISABLED = keyArn(2);
  const NARROWED = keyArn(3);
  const UNREADABLE = keyArn(4);
  const DELETION = new Date('2026-12-08T10:30:00.000Z');
  const goodPolicy = JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT }));
  const narrowedPolicy = (() => {
    const doc = JSON.parse(goodPolicy);
    doc.Statement = doc.Statement.filter((st: { Sid?: string }) => st.Sid !== 'AllowCloudWatchLogs');
    return JSON.stringify(doc);
  })();
  const meta = (Arn: string, KeyState: KeyState, extra: Partial<KeyMetadata> = {}) => ({
    KeyMetadata: {
      Arn,
      KeyId: Arn.slice(-36),
      KeyState,
      KeySpec: 'SYMMETRIC_DEFAULT' as const,
      ...extra,
    } satisfies KeyMetadata,
  });
  const denied = (action: string) =>
    Object.assign(
      new Error(`User: arn:aws:iam::${ACCOUNT}:user/me is not authorized to perform: ${action}`),
      { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } },
    );

  /** The guard key (healthy) and one key per risk, with the groups on them. */
  function keys() {
    keyExists();
    kms
      .on(DescribeKeyCommand, { KeyId: PENDING })
      .resolves(meta(PENDING, 'PendingDeletion', { DeletionDate: DELETION, Enabled: false }));
    kms.on(DescribeKeyCommand, { KeyId: DISABLED }).resolves(meta(DISABLED, 'Disabled'));
    kms.on(DescribeKeyCommand, { KeyId: NARROWED }).resolves(meta(NARROWED, 'Enabled'));
    kms.on(DescribeKeyCommand, { KeyId: UNREADABLE }).resolves(meta(UNREADABLE, 'Enabled'));
    kms.on(GetKeyPolicyCommand, { KeyId: NARROWED }).resolves({ Policy: narrowedPolicy });
    kms.on(GetKeyPolicyCommand, { KeyId: UNREADABLE }).rejects(denied('kms:GetKeyPolicy'));
  }
  const groups = () => [
    group('/healthy', KEY_ARN),
    group('/pending/1', PENDING),
    group('/pending/2', PENDING),
    group('/disabled', DISABLED),
    group('/narrowed', NARROWED),
    group('/unreadable-policy', UNREADABLE),
    group('/excluded/pending', PENDING),
  ];
  const byName = (report: { groups: { logGroup: string }[] }, name: string) =>
    report.groups.find((g) => g.logGroup === name);

  beforeEach(() => {
    logs.reset();
    kms.reset();
    sts.reset();
    clearKeyCache();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` });
  });

  it('--json: each group at risk with its reason and date, totals count them, exit 1; one GetKeyPolicy per Enabled key', async () => {
    // Prepare
    keys();
    serve(groups());
    const t = testIo();

    // Act
    const code = await run(['audit', '--json', '--exclude', '/excluded/'], t.io);

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(t.stdout());
    // At risk whatever the scope: the excluded group's data is lost all the same.
    expect(report.totals).toMatchObject({ listed: 7, atRisk: 5, candidates: 0, keyUnusable: 4 });
    expect(byName(report, '/pending/1')).toMatchObject({
      keyState: 'key-unusable',
      keyStatus: 'PendingDeletion',
      atRisk: 'key-pending-deletion',
      unreadableFrom: '2026-12-08T10:30:00.000Z',
      note: 'at risk: key pending deletion: unreadable from 2026-12-08',
    });
    expect(byName(report, '/excluded/pending')).toMatchObject({
      inScope: false,
      atRisk: 'key-pending-deletion',
      note: expect.stringMatching(/^at risk: key pending deletion: unreadable from 2026-12-08; /),
    });
    expect(byName(report, '/disabled')).toMatchObject({
      keyStatus: 'Disabled',
      atRisk: 'key-disabled',
      unreadableFrom: '',
      note: expect.stringContaining('at risk: key disabled'),
    });
    expect(byName(report, '/narrowed')).toMatchObject({
      keyState: 'other-key',
      keyStatus: 'Enabled',
      keyPolicy: 'excludes-logs',
      atRisk: 'key-policy-excludes-logs',
      note: 'at risk: key policy does not admit CloudWatch Logs',
    });
    // A policy the caller may not read is unknown, not a risk.
    expect(byName(report, '/unreadable-policy')).toMatchObject({
      keyPolicy: 'unknown',
      atRisk: '',
      note: 'key policy not readable: not checked',
    });
    expect(byName(report, '/healthy')).toMatchObject({ keyPolicy: 'admits-logs', atRisk: '', note: '' });
    const policyReads = kms.commandCalls(GetKeyPolicyCommand).map((c) => c.args[0].input.KeyId);
    // one per Enabled key, and the guard key once more: the Insights query-results check of the region
    expect(policyReads.sort()).toEqual([KEY_ARN, KEY_ARN, NARROWED, UNREADABLE].sort());
    expect(kms.commandCalls(DescribeKeyCommand, { KeyId: PENDING })).toHaveLength(1);
    expect(mutatingLogs()).toEqual([]);
    expect(mutatingKms()).toEqual([]);
  });

  it('table: the NOTE says why and until when, the totals line says "N at risk", stderr says what to do', async () => {
    // Prepare
    keys();
    serve(groups().filter((g) => !g.logGroupName?.startsWith('/excluded/')));
    // A terminal wide enough for every note on one line (a narrower one wraps them: output-details.test.ts).
    const t = testIo({ env: { AWS_REGION: REGION, COLUMNS: '250' } });

    // Act
    const code = await run(['audit'], t.io);

    // Assess
    expect(code).toBe(1);
    const out = t.stdout();
    expect(out).toMatch(
      /\/pending\/1\s+key-unusable \(PendingDeletion\)\s+yes\s+\S+\s+at risk: key pending deletion: unreadable from 2026-12-08/,
    );
    expect(out).toMatch(/\/disabled\s+key-unusable \(Disabled\)\s+yes\s+\S+\s+at risk: key disabled/);
    expect(out).toMatch(
      /\/narrowed\s+other-key\s+yes\s+\S+\s+at risk: key policy does not admit CloudWatch Logs/,
    );
    expect(out).toMatch(/\/healthy\s+guard-key\s+yes\s+\S+$/m);
    const err = t.stderr();
    expect(err).toContain('0 unencrypted in scope, 4 at risk');
    expect(err).toContain(
      '4 log group(s) at risk of losing their data: 2 on a key pending deletion (unreadable from 2026-12-08T10:30:00.000Z), 1 on a disabled key, 1 on a key whose policy does not admit CloudWatch Logs',
    );
    expect(err).toContain('aws kms cancel-key-deletion');
    expect(err).toContain('1 log group(s) use a key whose policy could not be read (kms:GetKeyPolicy)');
  });

  it('--unencrypted lists the groups at risk with the gaps, and nothing healthy', async () => {
    // Prepare
    keys();
    serve([...groups(), group('/unencrypted')]);
    const t = testIo();

    // Act
    const code = await run(['audit', '--json', '--unencrypted', '--exclude', '/excluded/'], t.io);

    // Assess
    expect(code).toBe(1);
    const names = JSON.parse(t.stdout()).groups.map((g: { logGroup: string }) => g.logGroup);
    expect(names.sort()).toEqual(
      ['/pending/1', '/pending/2', '/disabled', '/narrowed', '/excluded/pending', '/unencrypted'].sort(),
    );
  });

  it('CSV rows carry the reason and the date', async () => {
    // Prepare
    keys();
    serve([group('/pending/1', PENDING), group('/narrowed', NARROWED)]);
    const t = testIo();

    // Act
    const code = await run(['audit', '--format', 'csv'], t.io);

    // Assess
    expect(code).toBe(1);
    const [header, ...lines] = t.stdout().trim().split('\n');
    const cols = (header ?? '').split(',');
    // Cells are quoted when they hold a comma or a quote (RFC 4180).
    const cells = (line: string | undefined) =>
      [...(line ?? '').matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) =>
        (m[1] ?? '').replace(/^"|"$/g, '').replace(/""/g, '"'),
      );
    const row = (line: string | undefined) => Object.fromEntries(cells(line).map((v, i) => [cols[i], v]));
    expect(row(lines[0])).toMatchObject({
      logGroup: '/pending/1',
      atRisk: 'key-pending-deletion',
      unreadableFrom: '2026-12-08T10:30:00.000Z',
      keyStatus: 'PendingDeletion',
    });
    expect(row(lines[1])).toMatchObject({
      logGroup: '/narrowed',
      atRisk: 'key-policy-excludes-logs',
      unreadableFrom: '',
      keyPolicy: 'excludes-logs',
    });
  });

  it('exit 0 when nothing is at risk: a healthy key, and a key whose policy the caller may not read (unknown)', async () => {
    // Prepare
    keys();
    serve([group('/healthy', KEY_ARN), group('/unreadable-policy', UNREADABLE)]);
    const t = testIo();

    // Act
    const code = await run(['audit', '--json'], t.io);

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(t.stdout());
    expect(report.totals).toMatchObject({ atRisk: 0, candidates: 0 });
    expect(byName(report, '/unreadable-policy')).toMatchObject({ keyPolicy: 'unknown', atRisk: '' });
    expect(t.stderr()).toContain('0 at risk');
    expect(t.stderr()).not.toContain('at risk of losing');
  });

  it('a Deny for CloudWatch Logs in the policy of the guard key puts its groups at risk', async () => {
    // Prepare
    keyExists();
    const withDeny = JSON.parse(goodPolicy);
    withDeny.Statement.push({
      Sid: 'NoLogs',
      Effect: 'Deny',
      Principal: { Service: `logs.${REGION}.amazonaws.com` },
      Action: 'kms:Decrypt',
      Resource: '*',
    });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(withDeny) });
    serve([group('/a', KEY_ARN), group('/b', KEY_ARN)]);
    const t = testIo();

    // Act
    const code = await run(['audit', '--json'], t.io);

    // Assess
    expect(code).toBe(1);
    const report = JSON.parse(t.stdout());
    expect(report.totals).toMatchObject({ guardKey: 2, atRisk: 2 });
    expect(report.groups.map((g: { atRisk: string }) => g.atRisk)).toEqual([
      'key-policy-excludes-logs',
      'key-policy-excludes-logs',
    ]);
    // the guard key's policy, and once more for the region's Insights query-results check
    expect(kms.commandCalls(GetKeyPolicyCommand)).toHaveLength(2);
  });
});

describe('doctor: the enforce role and the key (CloudWatch Logs uses the caller credentials)', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-EnforceRole`;
  const policyWith = (guardRoles: string[]) =>
    JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT, guardRoles }));
  const roleCheck = async (args: string[]) => {
    const t = testIo();
    await run(['doctor', '--json', ...args], t.io);
    return (JSON.parse(t.stdout()).checks as { check: string; status: string; fix?: string }[]).find(
      (c) => c.check === 'function role',
    );
  };

  it('ok when the guard key policy names the role', async () => {
    keyExists();
    kms.on(GetKeyPolicyCommand).resolves({ Policy: policyWith([ROLE]) });
    expect(await roleCheck(['--function-role', ROLE])).toMatchObject({ status: 'ok' });
  });

  it('fails with the key setup command when it does not (a key of an older version)', async () => {
    keyExists();
    expect(await roleCheck(['--function-role', ROLE])).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`key setup --region ${REGION} --function-role ${ROLE}`),
    });
  });

  it('a configured key: fails naming what is missing when its policy neither delegates nor names the role', async () => {
    keyExists();
    const logsOnly = JSON.parse(policyWith([]));
    logsOnly.Statement = logsOnly.Statement.filter(
      (st: { Sid?: string }) => st.Sid === 'AllowCloudWatchLogs',
    );
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(logsOnly) });
    const check = await roleCheck(['--function-role', ROLE, '--key-arn', KEY_ARN]);
    expect(check?.status).toBe('fail');
    expect(JSON.stringify(check)).toContain('kms:Encrypt, kms:Decrypt, kms:GenerateDataKey');
  });
});

describe('audit: Insights query results', () => {
  it('reports them encrypted when the guard key admits Logs for them, not encrypted otherwise', async () => {
    // Prepare
    keyExists();
    serve([group('/b', KEY_ARN)]);
    const plain = testIo();
    await run(['audit', '--json'], plain.io);
    const withQueries = defaultKeyPolicy({
      partition: 'aws',
      region: REGION,
      account: ACCOUNT,
      encryptQueryResults: true,
    });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify(withQueries) });
    const configured = testIo();

    // Act
    await run(['audit', '--json'], configured.io);

    // Assess
    expect(JSON.parse(plain.stdout()).queryResults[REGION]).toMatch(/^not encrypted with the guard key/);
    expect(JSON.parse(configured.stdout()).queryResults[REGION]).toMatch(
      new RegExp(`^encrypted with ${KEY_ARN}`),
    );
  });
});

describe('CLI helpers', () => {
  it('resume tokens round-trip and are bound to their command', () => {
    const token = encodeResume({
      command: 'enforce',
      region: 'eu-west-1',
      nextToken: 'abc',
      rest: ['us-east-1'],
    });
    expect(decodeResume(token, 'enforce')).toEqual({
      command: 'enforce',
      region: 'eu-west-1',
      nextToken: 'abc',
      rest: ['us-east-1'],
    });
    expect(() => decodeResume(token, 'rollback')).toThrow(/printed by "enforce"/);
    expect(() => decodeResume('garbage', 'enforce')).toThrow(/not a token/);
  });

  it('the resume command replaces an old token and quotes for the shell', () => {
    expect(resumeCommand(['enforce', '--include', '/a b', '--resume-token', 'old'], 'new')).toBe(
      "logs-kms-guard enforce --include '/a b' --resume-token new",
    );
  });

  it('CSV cells are escaped against injection', () => {
    const csv = toCsv([
      {
        account: '123456789012',
        region: 'r',
        logGroup: '=cmd',
        keyState: 'no-key',
        inScope: true,
        kmsKeyId: '',
        keyStatus: '',
        note: '',
        atRisk: '',
        unreadableFrom: '',
        keyPolicy: '',
        logClass: 'standard',
        deletionProtection: false,
        foughtBy: '',
      },
    ]);
    expect(csv).toContain(`"'=cmd"`);
  });
});

describe('dist/cli.mjs (the built bin)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/cli.mjs'))) {
      spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
    }
  });

  it('runs as a process: --help exits 0, a bad command exits 2', () => {
    // Act
    const help = spawnSync(join(root, 'node_modules/.bin/node'), [join(root, 'dist/cli.mjs'), '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const bad = spawnSync(join(root, 'node_modules/.bin/node'), [join(root, 'dist/cli.mjs'), 'nope'], {
      encoding: 'utf8',
    });
    // Assess
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: logs-kms-guard');
    expect(bad.status).toBe(2);
  });

  it('refuses enforce without --yes when stdin is not a terminal', () => {
    const r = spawnSync(
      join(root, 'node_modules/.bin/node'),
      [join(root, 'dist/cli.mjs'), 'enforce', '--region', 'us-east-1'],
      {
        encoding: 'utf8',
        input: '',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'y',
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        },
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('pass --yes');
  });
});
