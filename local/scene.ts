/**
 * The local scene: a stack deployed as CloudFormation deploys it, as far as the guard key is concerned (its
 * GuardKeyReady: a key check answered by the real changes bundle, which creates the key; the enforce function
 * creates none), then log groups created the way real workloads create them, through the real SDK, against
 * the emulator; the emulator's CloudTrail events flow through the local queue into the real bundles (each to
 * the function the template routes it to). Ground truth comes from the emulator's state, not from what the
 * guard says it did.
 */

import { CreateLogGroupCommand, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { defaultKeyPolicy } from '../functions/core/policy.ts';
import { associateRate, REGION, retryAborted, startWorld } from './world.ts';

export type Expectation = 'encrypted' | 'excluded' | 'skip-tag' | 'own-key' | 'deleted';

export interface SceneGroup {
  name: string;
  expect: Expectation;
  tags?: Record<string, string>;
  ownKey?: boolean;
}

export interface SceneOptions {
  groups?: number;
  region?: string;
  account?: string;
  /** Emulator time scale: quotas × scale, delays ÷ scale. */
  timeScale?: number;
  propagationDelayMs?: number;
  eventDelayMs?: number;
  duplicateRate?: number;
  faultRate?: number;
  seed?: number;
  /** Enforce containers (the event source mapping's maximumConcurrency). */
  concurrency?: number;
  /** Give up after this long (real ms). */
  timeoutMs?: number;
  /** Extra environment for the enforce function. */
  env?: Record<string, string>;
  onProgress?: (p: { created: number; encrypted: number; expected: number; dlq: number }) => void;
}

export interface GroupResult extends SceneGroup {
  createdAt: number;
  encryptedAt?: number;
  keyArn?: string;
  /** What the emulator shows at the end. */
  actual: 'encrypted-guard-key' | 'own-key' | 'unencrypted' | 'gone' | 'other-key';
  ok: boolean;
}

export interface SceneResult {
  groups: GroupResult[];
  dlq: number;
  liveGuardKeys: number;
  invocations: number;
  apiCalls: number;
  throttled: number;
  elapsedMs: number;
  ok: boolean;
}

/** The scene's EXCLUDE_LOG_GROUPS: the groups it expects the guard to leave alone. */
export const EXCLUDE_PATTERNS = '/sandbox/,/aws/lambda/tmp-*';

const SERVICES = [
  'orders',
  'payments',
  'checkout',
  'inventory',
  'catalog',
  'search',
  'billing',
  'auth',
  'email',
  'reports',
];

/** The log groups of the scene: mostly what Lambda, ECS, CloudFormation and friends create, plus the special cases. */
function sceneGroups(count: number): SceneGroup[] {
  const special: SceneGroup[] = [
    { name: '/sandbox/scratch-pad', expect: 'excluded' },
    { name: '/aws/lambda/tmp-load-test', expect: 'excluded' },
    { name: '/aws/lambda/legacy-cron', expect: 'skip-tag', tags: { 'logs-kms-guard:skip': 'true' } },
    { name: '/platform/audit', expect: 'own-key', ownKey: true },
    { name: '/aws/lambda/short-lived-preview', expect: 'deleted' },
  ];
  const groups: SceneGroup[] = [];
  for (let i = 0; groups.length < Math.max(0, count - special.length); i++) {
    const svc = `${SERVICES[i % SERVICES.length]}${i >= SERVICES.length ? `-${Math.floor(i / SERVICES.length)}` : ''}`;
    const shapes = [
      `/aws/lambda/${svc}-api`,
      `/ecs/${svc}-service`,
      `${svc}-prod-ApiAccessLogs-${(1e11 + i * 7919).toString(36).toUpperCase()}`,
      `/aws/codebuild/${svc}-build`,
      `API-Gateway-Execution-Logs_${(1e9 + i * 104729).toString(36)}/prod`,
    ];
    groups.push({ name: shapes[i % shapes.length] as string, expect: 'encrypted', tags: { team: svc } });
  }
  // Special cases spread through the scene rather than all at the end.
  for (const [i, s] of special.entries()) groups.splice(Math.floor(((i + 1) * groups.length) / 6), 0, s);
  return groups.slice(0, Math.max(count, special.length));
}

/** Plays the scene and returns what the emulator shows for every group. */
export async function runScene(options: SceneOptions = {}): Promise<SceneResult> {
  const region = options.region ?? REGION;
  const timeScale = options.timeScale ?? 1;
  const concurrency = options.concurrency ?? 2;
  const started = Date.now();
  // IAM as AWS enforces it: the scene's own set-up is the world's admin; the enforce bundle runs as the
  // EnforceRole of the packaged template (local/roles.ts).
  const world = await startWorld({
    emulator: {
      timeScale,
      propagationDelayMs: options.propagationDelayMs ?? 3_000,
      throttle: true,
      faultRate: options.faultRate ?? 0,
      seed: options.seed ?? 1,
      events: { delayMs: options.eventDelayMs ?? 500, duplicateRate: options.duplicateRate ?? 0 },
      ...(options.account ? { account: options.account } : {}),
    },
    region,
    iam: true,
    sdk: { maxAttempts: 8 },
  });
  const { emulator, account, logs } = world;
  // The stack's settings, the same for every function of it.
  const env = {
    EXCLUDE_LOG_GROUPS: EXCLUDE_PATTERNS,
    // The account's AssociateKmsKey quota, shared by the containers, on the emulator's clock.
    ASSOCIATE_RATE: associateRate(timeScale, concurrency),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    ...options.env,
  };
  const pipeline = world.pipeline({
    // The mapping's batch size, timeout and receive count are the pipeline's defaults; a failed record is
    // retried after 30 s of the emulator's time.
    concurrency,
    visibilityTimeoutMs: Math.max(500, 30_000 / timeScale),
    env,
  });
  // What the template's rules send to the queue.
  const unsubscribe = world.onDelivered((event) => pipeline.send(event));
  // The deployment: its GuardKeyReady has the changes function create the guard key (the rules already on, so
  // the key's own events reach the queue, as in AWS), before any workload creates a group.
  await world.deployKey(env, region);
  await pipeline.start();

  const plan = sceneGroups(options.groups ?? 25);
  const results: GroupResult[] = [];
  let ownKeyArn: string | undefined;
  if (plan.some((g) => g.ownKey)) {
    const key = emulator.state.createKeyDirect(region, {
      policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account })),
      tags: { team: 'security' },
    });
    ownKeyArn = key.arn;
  }

  const expected = plan.filter((g) => g.expect === 'encrypted').length;
  const progress = () => {
    const encrypted = results.filter(
      (r) => r.expect === 'encrypted' && emulator.state.logGroup(region, r.name)?.kmsKeyId,
    ).length;
    options.onProgress?.({ created: results.length, encrypted, expected, dlq: pipeline.dlq.length });
    return encrypted;
  };
  const ticker = setInterval(progress, 250);

  // Workloads create groups at their own pace; the SDK's retries absorb CreateLogGroup throttling, and they
  // retry OperationAbortedException (which the SDK does not), as the emulator injects it with --fault-rate.
  for (const group of plan) {
    await retryAborted(() =>
      logs.send(
        new CreateLogGroupCommand({
          logGroupName: group.name,
          ...(group.tags ? { tags: group.tags } : {}),
          ...(group.ownKey && ownKeyArn ? { kmsKeyId: ownKeyArn } : {}),
        }),
      ),
    );
    results.push({ ...group, createdAt: Date.now(), actual: 'unencrypted', ok: false });
    if (group.expect === 'deleted') {
      await retryAborted(() => logs.send(new DeleteLogGroupCommand({ logGroupName: group.name })));
    }
  }

  // Wait until every group that should be encrypted is, and the queue is empty.
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  for (;;) {
    for (const r of results) {
      const g = emulator.state.logGroup(region, r.name);
      if (r.encryptedAt === undefined && g?.kmsKeyId && r.expect === 'encrypted') {
        r.encryptedAt = g.associatedAt ?? Date.now();
      }
    }
    const done = progress() === expected && pipeline.idle;
    if (done || Date.now() - started > timeoutMs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  clearInterval(ticker);
  unsubscribe();
  await pipeline.stop();

  const guardKeys = emulator.state.keys(region).filter((k) => k.tags.ManagedBy === 'logs-kms-guard');
  const guardKeyArns = new Set(guardKeys.map((k) => k.arn));
  for (const r of results) {
    const g = emulator.state.logGroup(region, r.name);
    r.keyArn = g?.kmsKeyId;
    r.actual = !g
      ? 'gone'
      : !g.kmsKeyId
        ? 'unencrypted'
        : guardKeyArns.has(g.kmsKeyId)
          ? 'encrypted-guard-key'
          : g.kmsKeyId === ownKeyArn
            ? 'own-key'
            : 'other-key';
    r.ok =
      (r.expect === 'encrypted' && r.actual === 'encrypted-guard-key') ||
      ((r.expect === 'excluded' || r.expect === 'skip-tag') && r.actual === 'unencrypted') ||
      (r.expect === 'own-key' && r.actual === 'own-key') ||
      (r.expect === 'deleted' && r.actual === 'gone');
  }
  const calls = emulator.calls;
  const result: SceneResult = {
    groups: results,
    dlq: pipeline.dlq.length,
    liveGuardKeys: guardKeys.filter((k) => k.state === 'Enabled').length,
    invocations: pipeline.invocations,
    apiCalls: calls.length,
    throttled: calls.filter((c) => c.error === 'ThrottlingException').length,
    elapsedMs: Date.now() - started,
    ok: false,
  };
  result.ok = results.every((r) => r.ok) && result.dlq === 0 && result.liveGuardKeys === 1;
  await world.stop();
  return result;
}
