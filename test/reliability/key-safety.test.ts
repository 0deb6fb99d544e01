/**
 * Reliability suite, in a local world (local/world.ts, IAM on) whose LocalPipeline runs dist/enforce.mjs: one
 * case per unusable key (disabled, pending deletion, asymmetric, other region, a Deny for Logs, ...), a
 * control with a usable key, and the retire path under a lost CreateAlias answer (in the key's creator: the
 * changes function's key check, dist/changes.mjs, as a deployment runs it).
 *
 * Promise: a key that must not be used is never associated with anything. Each refusal is a clear
 * failure (the record fails and ends in the DLQ, the log names the reason) and raises the alarm metric
 * (UnsafeKeyRefused). And the guard never schedules deletion of the key behind its alias.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKeyPolicy, logsStatement, rootStatement } from '../../functions/core/policy.ts';
import type { Emulator, InterceptedRequest, Interception } from '../../local/emulator/emulator.ts';
import {
  ACCOUNT,
  GUARD_ALIAS,
  GUARD_TAGS,
  REGION,
  retryAborted,
  startWorld,
  type World,
} from '../../local/world.ts';
import { captureOutput, policyOf, sleep } from '../helpers.ts';
import { figures } from './rig.ts';

const ctx = { partition: 'aws' as const, region: REGION, account: ACCOUNT };
/** A key policy as the guard writes it (root, Logs) plus a Deny that shuts Logs of `c.region` out of `action`. */
const shutOutLogs = (c: typeof ctx, action: string) =>
  policyOf(rootStatement(c), logsStatement(c), {
    Sid: 'NoLogs',
    Effect: 'Deny',
    Principal: { Service: `logs.${c.region}.amazonaws.com` },
    Action: action,
    Resource: '*',
  });
const GROUPS_PER_CASE = 3;
const MAX_RECEIVES = 3;

let world: World;
let emulator: Emulator;
let intercept: ((r: InterceptedRequest) => Interception | undefined) | undefined;
let feed: ((event: unknown) => void) | undefined;

beforeAll(async () => {
  world = await startWorld({
    iam: true,
    emulator: { timeScale: 20, propagationDelayMs: 3_000, intercept: (r) => intercept?.(r) },
    sdk: { maxAttempts: 5 },
  });
  emulator = world.emulator;
  world.onDelivered((e) => feed?.(e)); // what the template's rules send to the queue
});
afterAll(async () => {
  await emulator?.stop();
});

/** The stack's settings of a case (`env` on top): its functions' environment, and so its deployed role. */
const caseEnv = (env: Record<string, string> = {}) => ({
  POWERTOOLS_LOG_LEVEL: 'INFO',
  ASSOCIATE_RATE: '100',
  KEY_CACHE_TTL_SECONDS: '0',
  KMS_KEY_ARN: '',
  ALLOW_KEY_POLICY_UPDATE: 'false',
  EXCLUDE_LOG_GROUPS: '',
  ...env,
});

/** Runs `count` CreateLogGroup events through fresh enforce containers configured with `env`. */
async function runCase(label: string, env: Record<string, string>, region = REGION, count = GROUPS_PER_CASE) {
  const output = captureOutput();
  const callsBefore = emulator.calls.length;
  const pipeline = world.pipeline({
    region,
    concurrency: 1,
    batchSize: 10,
    visibilityTimeoutMs: 100,
    maxReceiveCount: MAX_RECEIVES,
    timeoutMs: 8_000,
    env: caseEnv(env),
  });
  const names = Array.from({ length: count }, (_, i) => `/key-safety/${label}/${i}`);
  let delivered = 0;
  feed = (e) => {
    delivered++;
    pipeline.send(e);
  };
  await pipeline.start();
  const { logs } = world.clients(region, { maxAttempts: 5 });
  for (const name of names)
    await retryAborted(() => logs.send(new CreateLogGroupCommand({ logGroupName: name })));
  while (delivered < count) await sleep(10);
  const drained = await pipeline.drain(60_000);
  await pipeline.stop();
  feed = undefined;
  output.restore();
  const calls = emulator.calls.slice(callsBefore);
  return {
    drained,
    names,
    calls,
    dlq: pipeline.dlq.length,
    decisions: output.decisions(),
    metrics: output.metrics(),
    groups: names.map((n) => emulator.state.logGroup(region, n)),
  };
}

describe('key safety: unusable keys are refused, never associated', () => {
  const refusals: string[] = [];
  afterAll(() => {
    figures(`key safety: ${refusals.length} unsafe key cases, 0 associations, ${refusals.join('; ')}`);
  });

  /** The function's environment for a user-supplied key with the default policy (and `init`'s spec or state). */
  const configuredKey = (init: Parameters<typeof emulator.state.createKeyDirect>[1]) => ({
    KMS_KEY_ARN: emulator.state.createKeyDirect(REGION, {
      policy: JSON.stringify(defaultKeyPolicy(ctx)),
      ...init,
    }).arn,
  });
  const cases: {
    label: string;
    /** Sets up the key; returns the function's environment. */
    setup: () => Record<string, string> | Promise<Record<string, string>>;
    error: 'UnsafeKeyError' | 'KeyPolicyError';
    reason: RegExp;
    region?: string;
  }[] = [
    {
      label: 'disabled',
      setup: () => configuredKey({ state: 'Disabled' }),
      error: 'UnsafeKeyError',
      reason: /state is Disabled/,
    },
    {
      label: 'pending-deletion',
      setup: () => configuredKey({ state: 'PendingDeletion' }),
      error: 'UnsafeKeyError',
      reason: /state is PendingDeletion/,
    },
    {
      label: 'asymmetric-encrypt',
      setup: () => configuredKey({ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' }),
      error: 'UnsafeKeyError',
      reason: /RSA_2048/,
    },
    {
      label: 'asymmetric-sign',
      setup: () => configuredKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }),
      error: 'UnsafeKeyError',
      reason: /ECC_NIST_P256.*SIGN_VERIFY/,
    },
    {
      label: 'other-region',
      setup: () => ({
        KMS_KEY_ARN: emulator.state.createKeyDirect('eu-west-1', {
          policy: JSON.stringify(defaultKeyPolicy({ ...ctx, region: 'eu-west-1' })),
        }).arn,
      }),
      error: 'UnsafeKeyError',
      reason: /does not exist|not in us-east-1/,
    },
    {
      label: 'deny-for-logs',
      setup: () => ({
        KMS_KEY_ARN: emulator.state.createKeyDirect(REGION, {
          policy: shutOutLogs(ctx, 'kms:Decrypt'),
        }).arn,
      }),
      error: 'KeyPolicyError',
      reason: /does not let logs\.us-east-1 use it/,
    },
    {
      label: 'no-logs-statement-verify-only',
      setup: () => ({
        KMS_KEY_ARN: emulator.state.createKeyDirect(REGION, {}).arn, // the AWS default policy: root only
      }),
      error: 'KeyPolicyError',
      reason: /AllowCloudWatchLogs.*ALLOW_KEY_POLICY_UPDATE/,
    },
    {
      label: 'deny-for-logs-update-allowed',
      setup: () => ({
        ALLOW_KEY_POLICY_UPDATE: 'true',
        KMS_KEY_ARN: emulator.state.createKeyDirect(REGION, {
          policy: shutOutLogs(ctx, 'kms:Decrypt'),
        }).arn,
      }),
      error: 'KeyPolicyError',
      reason: /Deny statement that shuts logs\.us-east-1 out/,
    },
    {
      label: 'guard-alias-key-deny',
      region: 'ap-southeast-2',
      setup: async () => {
        // Someone added a Deny for Logs to the guard's own key: the guard must not keep trying.
        const region = 'ap-southeast-2';
        const c = { ...ctx, region };
        await world.createGuardKey(
          {
            policy: shutOutLogs(c, 'kms:*'),
            tags: GUARD_TAGS,
          },
          region,
        );
        return {};
      },
      error: 'KeyPolicyError',
      reason: /Deny statement that shuts logs\.ap-southeast-2 out/,
    },
    ...(['Disabled', 'PendingDeletion'] as const).map((state, i) => ({
      label: `guard-alias-key-${state}`,
      region: ['ap-south-1', 'ap-northeast-2'][i] as string,
      setup: async () => {
        // The guard's own key (behind its alias) was disabled or scheduled for deletion by someone.
        const region = ['ap-south-1', 'ap-northeast-2'][i] as string;
        const key = await world.createGuardKey(
          { policy: JSON.stringify(defaultKeyPolicy({ ...ctx, region })), tags: GUARD_TAGS },
          region,
        );
        emulator.state.setKeyState(region, key.keyId, state);
        return {};
      },
      error: 'UnsafeKeyError' as const,
      reason: new RegExp(`state is ${state}`),
    })),
  ];

  it.each(cases)(
    '$label: no association, the record fails into the DLQ, the reason is logged, UnsafeKeyRefused counted',
    async (c) => {
      // Prepare
      const env = await c.setup();
      const region = c.region ?? REGION;

      // Act
      const run = await runCase(c.label, env, region);

      // Assess: ground truth first
      expect(run.drained).toBe(true);
      expect(run.groups.every((g) => g !== undefined && g.kmsKeyId === undefined)).toBe(true);
      expect(run.calls.filter((call) => call.operation === 'AssociateKmsKey')).toEqual([]);
      expect(
        run.calls.filter((call) => /^(CreateKey|PutKeyPolicy|CreateAlias)$/.test(call.operation)),
      ).toEqual([]);
      // A clear failure: every record failed every time, then went to the DLQ.
      expect(run.dlq).toBe(GROUPS_PER_CASE);
      const failed = run.decisions.filter((d) => d.outcome === 'failed');
      expect(failed).toHaveLength(GROUPS_PER_CASE * MAX_RECEIVES);
      expect(run.decisions.filter((d) => d.outcome !== 'failed')).toEqual([]);
      for (const d of failed) {
        expect(d.errorName).toBe(c.error);
        expect(d.unsafeKey).toBe(true);
        expect(d.reason).toMatch(c.reason);
      }
      // The alarm metric, once per refused record.
      expect(run.metrics.UnsafeKeyRefused).toBe(GROUPS_PER_CASE * MAX_RECEIVES);
      expect(run.metrics.Failed).toBe(GROUPS_PER_CASE * MAX_RECEIVES);
      expect(run.metrics.Encrypted ?? 0).toBe(0);
      refusals.push(`${c.label}: ${c.error}, UnsafeKeyRefused ${run.metrics.UnsafeKeyRefused}`);
    },
    60_000,
  );

  it('control: the same rig encrypts with a usable configured key (the refusals are not artefacts)', async () => {
    // Prepare
    const key = emulator.state.createKeyDirect(REGION, { policy: JSON.stringify(defaultKeyPolicy(ctx)) });

    // Act
    const run = await runCase('control', { KMS_KEY_ARN: key.arn });

    // Assess
    expect(run.groups.map((g) => g?.kmsKeyId)).toEqual(run.names.map(() => key.arn));
    expect(run.dlq).toBe(0);
    expect(run.metrics.UnsafeKeyRefused ?? 0).toBe(0);
    expect(run.metrics.Encrypted).toBe(GROUPS_PER_CASE);
  }, 60_000);
});

describe('key safety: the retire path never schedules deletion of the key behind the alias', () => {
  it('CreateAlias went through but its answer was lost, then DescribeKey of the alias failed: the new key is kept', async () => {
    // Prepare: in a fresh region, the first CreateAlias is applied but answered 503 (the SDK retries and
    // gets AlreadyExists), and the DescribeKey that should tell whose key the alias holds fails once with
    // an error the guard has never seen. The key's creator is the deployment's key check (the enforce
    // function creates no key).
    const region = 'eu-west-3';
    const scheduled: { keyId: string; aliasTarget: string | undefined }[] = [];
    let aliasAnswerLost = false;
    let describeFailed = false;
    intercept = (r) => {
      if (r.region !== region || r.service !== 'kms') return undefined;
      if (r.operation === 'CreateAlias' && !aliasAnswerLost) {
        aliasAnswerLost = true;
        return { kind: 'error', name: 'ServiceUnavailableException', status: 503, applied: true };
      }
      if (
        r.operation === 'DescribeKey' &&
        r.input.KeyId === GUARD_ALIAS &&
        aliasAnswerLost &&
        !describeFailed
      ) {
        describeFailed = true;
        return { kind: 'error', name: 'FrobnicationException', message: 'never seen before' };
      }
      if (r.operation === 'ScheduleKeyDeletion') {
        scheduled.push({
          keyId: String(r.input.KeyId),
          aliasTarget: emulator.state.key(region, GUARD_ALIAS)?.keyId,
        });
      }
      return undefined;
    };

    // Act: the deployment's key check (the same stack settings, so the same role, as the case's enforce
    // containers); should it fail, the next scheduled one (a fresh changes container). Then a group's first event.
    let deployed: string | undefined;
    try {
      for (let check = 0; check < 3 && !deployed; check++)
        deployed = await world.deployKey(caseEnv(), region).catch(() => undefined);
    } finally {
      intercept = undefined;
    }
    const run = await runCase('retire', {}, region, 1);

    // Assess
    const alias = emulator.state.key(region, GUARD_ALIAS);
    figures(
      `key safety (retire path): alias answer lost + DescribeKey failure: ${scheduled.length} deletion(s) scheduled, ` +
        `${scheduled.filter((s) => s.keyId === s.aliasTarget).length} of the alias key; alias key ${alias?.state}, ` +
        `group ${run.groups[0]?.kmsKeyId === alias?.arn ? 'encrypted' : 'not encrypted'}, DLQ ${run.dlq}`,
    );
    expect(aliasAnswerLost && describeFailed).toBe(true);
    expect(scheduled.filter((s) => s.keyId === s.aliasTarget)).toEqual([]);
    expect(alias?.state).toBe('Enabled');
    expect(deployed).toBe(alias?.arn);
    expect(run.groups[0]?.kmsKeyId).toBe(alias?.arn);
    expect(run.dlq).toBe(0);
  }, 60_000);
});
