/**
 * The sweep loop (functions/core/sweep/sweep.ts, with quotas.ts) against aws-sdk-client-mock on a fake clock:
 * classify and encrypt, pacing under the quotas, stopping on a signal or the deadline with a resume token,
 * enqueue mode, rollback and audit.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
  ListTagsForResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  NotFoundException,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/core/config.ts';
import { clearKeyCache } from '../../../functions/core/key.ts';
import { keyCreator } from '../../../functions/core/key-create.ts';
import { defaultKeyPolicy } from '../../../functions/core/policy.ts';
import type { SweepOptions } from '../../../functions/core/sweep/options.ts';
import { sweepBuckets } from '../../../functions/core/sweep/quotas.ts';
import { type GroupReport, keyStateOf } from '../../../functions/core/sweep/report.ts';
import { sweep } from '../../../functions/core/sweep/sweep.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { fakeClock, KEY_ARN, logGroupPage, memoryLog, OTHER_KEY_ARN } from '../../helpers.ts';

const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const clients = {
  kms: new KMSClient({ region: REGION }),
  logs: new CloudWatchLogsClient({ region: REGION }),
};
const arnOf = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;
const group = (name: string, kmsKeyId?: string): LogGroup => ({
  logGroupName: name,
  arn: `${arnOf(name)}:*`,
  logGroupArn: arnOf(name),
  ...(kmsKeyId ? { kmsKeyId } : {}),
});

/** Serves `groups` in pages of `size`, tokens "p1", "p2", …; tags from `tags`. */
function serve(groups: LogGroup[], size = 50, tags: Record<string, Record<string, string>> = {}) {
  logs
    .on(DescribeLogGroupsCommand)
    .callsFake((input: { nextToken?: string }) => logGroupPage(groups, input.nextToken, size));
  logs.on(ListTagsForResourceCommand).callsFake((input: { resourceArn: string }) => {
    const name = input.resourceArn.split(':log-group:')[1] ?? '';
    return { tags: tags[name] ?? {} };
  });
}

function keyExists() {
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      KeyId: KEY_ARN.split('/')[1],
      Arn: KEY_ARN,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    },
  });
  kms.on(GetKeyPolicyCommand).resolves({
    Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
  });
}

function options(extra: Partial<SweepOptions> = {}, env: Record<string, string> = {}): SweepOptions {
  const clock = fakeClock();
  return {
    mode: 'enforce',
    clients,
    config: loadConfig(env),
    region: REGION,
    account: ACCOUNT,
    log: memoryLog(),
    clock,
    buckets: sweepBuckets({}, clock),
    ...extra,
  };
}

const MUTATING = [AssociateKmsKeyCommand, DisassociateKmsKeyCommand];
const KMS_MUTATING = [CreateKeyCommand, CreateAliasCommand, PutKeyPolicyCommand];

describe('sweepBuckets', () => {
  it('caps every rate at the published quota and makes each bucket adaptive', () => {
    // Act
    const b = sweepBuckets({ describe: 50, tags: 8, associate: 9, disassociate: 2 }, fakeClock());
    // Assess: DescribeLogGroups 10, ListTagsForResource 5, AssociateKmsKey 5 (CloudWatch Logs quotas page).
    expect([b.describe.rate, b.tags.rate, b.associate.rate, b.disassociate.rate]).toEqual([10, 5, 5, 2]);
    b.associate.reportThrottle();
    expect(b.associate.rate).toBe(2.5);
  });
});

describe('keyStateOf', () => {
  it('classifies by the guard key ARN or id', () => {
    expect(keyStateOf(undefined, KEY_ARN)).toBe('no-key');
    expect(keyStateOf(KEY_ARN, KEY_ARN)).toBe('guard-key');
    expect(keyStateOf(KEY_ARN.split('/')[1], KEY_ARN)).toBe('guard-key');
    expect(keyStateOf(OTHER_KEY_ARN, KEY_ARN)).toBe('other-key');
    expect(keyStateOf(OTHER_KEY_ARN, undefined)).toBe('other-key');
  });
});

describe('sweep', () => {
  beforeEach(() => {
    logs.reset();
    kms.reset();
    clearKeyCache();
  });

  it('classifies every group and encrypts only unencrypted in-scope ones', async () => {
    // Prepare
    keyExists();
    serve(
      [
        group('/a/none'),
        group('/a/guard', KEY_ARN),
        group('/a/other', OTHER_KEY_ARN),
        group('/skip/me'),
        group('/a/tagged'),
        group('/a/none2'),
      ],
      2,
      { '/a/tagged': { 'logs-kms-guard:skip': 'true' } },
    );
    logs.on(AssociateKmsKeyCommand).resolves({});
    const reports: GroupReport[] = [];
    // Act
    const result = await sweep(
      options({ onGroup: (r) => reports.push(r) }, { EXCLUDE_LOG_GROUPS: '/skip/' }),
    );
    // Assess
    expect(result.done).toBe(true);
    const associated = logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input);
    expect(associated).toEqual([
      { logGroupName: '/a/none', kmsKeyId: KEY_ARN },
      { logGroupName: '/a/none2', kmsKeyId: KEY_ARN },
    ]);
    // Tags read only for the unencrypted groups in scope by name.
    expect(logs.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input.resourceArn)).toEqual([
      arnOf('/a/none'),
      arnOf('/a/tagged'),
      arnOf('/a/none2'),
    ]);
    // The listing already said the groups have no key: no second DescribeLogGroups per group.
    expect(logs.commandCalls(DescribeLogGroupsCommand)).toHaveLength(3);
    expect(result.state.counts).toMatchObject({
      pages: 3,
      listed: 6,
      guardKey: 1,
      otherKey: 1,
      noKey: 4,
      outOfScope: 2,
      candidates: 2,
      encrypted: 2,
      failed: 0,
    });
    expect(reports.find((r) => r.name === '/a/tagged')).toMatchObject({
      inScope: false,
      action: 'none',
      scopeReason: 'tagged logs-kms-guard:skip=true',
    });
    expect(result.state.nextToken).toBeUndefined();
  });

  it('dry run makes no mutating call', async () => {
    // Prepare: no guard key yet; the run has the key creator, as the CLI's bulk run does (bulk.ts), so the dry
    // run plans the key (key-create.ts) instead of creating it
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ $metadata: {}, message: 'no alias' }));
    serve([group('/a'), group('/b', OTHER_KEY_ARN), group('/c')]);
    // Act
    const result = await sweep(options({ keyCreator }, { DRY_RUN: 'true' }));
    // Assess
    const logsCalls = logs.calls().map((c) => (c.args[0] as object).constructor.name);
    const kmsCalls = kms.calls().map((c) => (c.args[0] as object).constructor.name);
    for (const command of MUTATING) expect(logsCalls).not.toContain(command.name);
    for (const command of KMS_MUTATING) expect(kmsCalls).not.toContain(command.name);
    expect(result.state.counts.wouldEncrypt).toBe(2);
  });

  it('paces AssociateKmsKey under its rate', async () => {
    // Prepare
    keyExists();
    serve(Array.from({ length: 60 }, (_, i) => group(`/g/${String(i).padStart(3, '0')}`)));
    const o = options({ concurrency: 8 });
    const clock = o.clock as ReturnType<typeof fakeClock>;
    const at: number[] = [];
    logs.on(AssociateKmsKeyCommand).callsFake(() => {
      at.push(clock.now());
      return {};
    });
    const start = clock.now();
    // Act
    await sweep(o);
    // Assess: 4 a second after a burst of 4.
    expect(at).toHaveLength(60);
    at.forEach((t, i) => {
      expect(t - start).toBeGreaterThanOrEqual(Math.max(0, ((i - 4) / 4) * 1000) - 1);
    });
  });

  it('paces DescribeLogGroups and ListTagsForResource', async () => {
    // Prepare
    keyExists();
    serve(
      Array.from({ length: 500 }, (_, i) => group(`/g/${i}`, OTHER_KEY_ARN)),
      5,
    );
    const o = options({ mode: 'audit' });
    const clock = o.clock as ReturnType<typeof fakeClock>;
    const start = clock.now();
    // Act
    const result = await sweep(o);
    // Assess: 100 pages at 10 a second (the quota) after a burst of 10.
    expect(result.state.counts.pages).toBe(100);
    expect(clock.now() - start).toBeGreaterThanOrEqual(((100 - 10) / 10) * 1000 - 1);
    expect(logs.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
  });

  it('stops between groups on the signal and resumes from the returned token without repeats', async () => {
    // Prepare
    keyExists();
    const all = Array.from({ length: 30 }, (_, i) => group(`/g/${String(i).padStart(2, '0')}`));
    serve(all, 10);
    const controller = new AbortController();
    let calls = 0;
    logs.on(AssociateKmsKeyCommand).callsFake(() => {
      if (++calls === 15) controller.abort();
      return {};
    });
    // Act
    const first = await sweep(options({ signal: controller.signal, concurrency: 1 }));
    // Assess
    expect(first.done).toBe(false);
    expect(first.stopped).toBe('signal');
    expect(first.state.nextToken).toBe('p1');
    expect(first.state.counts.encrypted).toBe(15);
    // Resume: the already associated groups of page 2 now list with the guard key.
    const associated = new Set(
      logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName),
    );
    serve(
      all.map((g) => (associated.has(g.logGroupName) ? { ...g, kmsKeyId: KEY_ARN } : g)),
      10,
    );
    const before = logs.commandCalls(DescribeLogGroupsCommand).length;
    const second = await sweep(options({ resume: first.state }));
    expect(second.done).toBe(true);
    const names = logs.commandCalls(AssociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName);
    expect(names).toHaveLength(30);
    expect(new Set(names).size).toBe(30);
    expect(second.state.counts.encrypted).toBe(30);
    expect(logs.commandCalls(DescribeLogGroupsCommand)[before]?.args[0].input.nextToken).toBe('p1');
  });

  it('lists nothing when the signal is already aborted', async () => {
    // Prepare
    keyExists();
    serve([group('/a')]);
    // Act
    const result = await sweep(options({ signal: AbortSignal.abort() }));
    // Assess
    expect(result.stopped).toBe('signal');
    expect(logs.commandCalls(DescribeLogGroupsCommand)).toHaveLength(0);
  });

  it('stops at the deadline after a finished page and hands back the next token', async () => {
    // Prepare
    keyExists();
    serve(
      Array.from({ length: 20 }, (_, i) => group(`/g/${i}`, KEY_ARN)),
      5,
    );
    const o = options({ mode: 'audit' });
    const clock = o.clock as ReturnType<typeof fakeClock>;
    o.stopAt = clock.now() + 1;
    const checkpoints: (string | undefined)[] = [];
    // Act: time passes while the first page is worked on.
    const result = await sweep({
      ...o,
      onPage: (s) => {
        checkpoints.push(s.nextToken);
        clock.advance(5);
      },
    });
    // Assess
    expect(result.stopped).toBe('deadline');
    expect(checkpoints).toEqual(['p1']);
    expect(result.state).toMatchObject({ nextToken: 'p1', counts: { pages: 1, listed: 5, guardKey: 5 } });
  });

  it('never touches a group twice within one run', async () => {
    // Prepare: the listing repeats a group across pages (a group created meanwhile shifts pages).
    keyExists();
    serve([group('/a'), group('/b'), group('/b'), group('/c')], 2);
    logs.on(AssociateKmsKeyCommand).resolves({});
    // Act
    const result = await sweep(options());
    // Assess
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(3);
    expect(result.state.counts.skippedDuplicate).toBe(1);
  });

  it('enqueue mode hands each page of candidates over instead of associating', async () => {
    // Prepare
    keyExists();
    serve([group('/a'), group('/b', KEY_ARN), group('/c')], 2);
    const batches: string[][] = [];
    // Act
    const result = await sweep(
      options({ mode: 'enqueue', enqueue: async (c) => void batches.push(c.map((x) => x.name)) }),
    );
    // Assess
    expect(batches).toEqual([['/a'], ['/c']]);
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(0);
    expect(result.state.counts.queued).toBe(2);
  });

  it('rollback disassociates only groups with the guard key', async () => {
    // Prepare
    keyExists();
    serve([group('/a', KEY_ARN), group('/b', OTHER_KEY_ARN), group('/c'), group('/d', KEY_ARN)]);
    logs.on(DisassociateKmsKeyCommand).resolves({});
    // Act
    const result = await sweep(options({ mode: 'rollback' }));
    // Assess
    expect(logs.commandCalls(DisassociateKmsKeyCommand).map((c) => c.args[0].input.logGroupName)).toEqual([
      '/a',
      '/d',
    ]);
    expect(result.state.counts.disassociated).toBe(2);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('rollback dry run disassociates nothing', async () => {
    // Prepare
    keyExists();
    serve([group('/a', KEY_ARN)]);
    // Act
    const result = await sweep(options({ mode: 'rollback' }, { DRY_RUN: 'true' }));
    // Assess
    expect(logs.commandCalls(DisassociateKmsKeyCommand)).toHaveLength(0);
    expect(result.state.counts.wouldDisassociate).toBe(1);
  });

  it('stops the run on an error every group would hit', async () => {
    // Prepare
    keyExists();
    serve(Array.from({ length: 10 }, (_, i) => group(`/g/${i}`)));
    logs.on(AssociateKmsKeyCommand).rejects(
      Object.assign(
        new Error('User: arn:aws:sts::1:assumed-role/x is not authorized to perform: logs:AssociateKmsKey'),
        {
          name: 'AccessDeniedException',
        },
      ),
    );
    // Act
    const result = await sweep(options({ concurrency: 1 }));
    // Assess
    expect(result.stopped).toBe('error');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(1);
    expect(result.state.nextToken).toBeUndefined();
  });

  it('audit reports unusable keys', async () => {
    // Prepare
    kms
      .on(DescribeKeyCommand, { KeyId: 'alias/logs-kms-guard' })
      .resolves({ KeyMetadata: { Arn: KEY_ARN, KeyId: 'k' } });
    kms.on(DescribeKeyCommand, { KeyId: OTHER_KEY_ARN }).resolves({
      KeyMetadata: { Arn: OTHER_KEY_ARN, KeyId: 'o', KeyState: 'PendingDeletion' },
    });
    serve([group('/a', OTHER_KEY_ARN), group('/b', OTHER_KEY_ARN)]);
    // Act
    const result = await sweep(options({ mode: 'audit', checkKeys: true }));
    // Assess
    expect(result.state.counts.keyUnusable).toBe(2);
    expect(kms.commandCalls(DescribeKeyCommand, { KeyId: OTHER_KEY_ARN })).toHaveLength(1);
  });
});
