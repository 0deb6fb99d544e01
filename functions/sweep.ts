import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseArn } from './core/arn.ts';
import { CLIENT_SETTINGS, type Clients, clientsFor } from './core/clients.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { assertKeyInAccount, type GuardConfig, loadConfig } from './core/config.ts';
import { ConfigError } from './core/errors.ts';
import { sweepKeyCheck, sweepWorkItem } from './core/event.ts';
import { acquireSweepLease, type LeaseOptions, releaseSweepLease } from './core/lease.ts';
import type { Log } from './core/log.ts';
import { injectLambdaContext } from './core/logger.ts';
import { publishMetrics } from './core/metrics.ts';
import { createObservability } from './core/observability.ts';
import { backoffDelay } from './core/retry.ts';
import {
  type Candidate,
  emptyCounts,
  isFatalSweepError,
  type SweepCounts,
  type SweepResult,
  type SweepState,
  sweep,
  sweepBuckets,
} from './core/sweep.ts';

/**
 * The scheduled sweep: lists the region's log groups and sends the unencrypted in-scope ones to the
 * enforce queue as work items (or, without ENFORCE_QUEUE_URL, encrypts them itself through the core).
 * When its time runs low it re-invokes itself asynchronously with `{ resume: { nextToken, runId, counts } }`.
 * Runs never overlap, without reserved concurrency: a run is one chain of invocations, and each invocation
 * first renews the run's lease in the function's own log group (core/lease.ts); a run that finds another
 * run holding the lease yields at once (no listing, no enqueueing) and the holder finishes the work.
 */

export interface SweepSettings {
  queueUrl: string | undefined;
  describeRate: number;
  tagsRate: number;
  associateRate: number;
  concurrency: number;
  prefix: string | undefined;
  /** Continuations allowed per run, a guard against a loop that never ends. */
  maxInvocations: number;
}

function readRate(env: Record<string, string | undefined>, name: string, fallback: number, max: number) {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new ConfigError(`${name} must be a number above 0 and at most ${max}, got "${raw}"`);
  }
  return value;
}

/** Reads the sweep's own settings (the rest is the guard's config). */
export function loadSweepSettings(env: Record<string, string | undefined> = process.env): SweepSettings {
  const queueUrl = env.ENFORCE_QUEUE_URL?.trim() || undefined;
  if (queueUrl !== undefined && !/^https?:\/\/\S+$/.test(queueUrl)) {
    throw new ConfigError(`ENFORCE_QUEUE_URL must be an SQS queue URL, got "${queueUrl}"`);
  }
  return {
    queueUrl,
    // At most the published quotas (core/sweep.ts LOGS_QUOTA_TPS: DescribeLogGroups 10, ListTagsForResource 5,
    // AssociateKmsKey 5; CloudWatch Logs quotas page). Listing defaults to the quota (the adaptive bucket yields
    // to other callers at the first throttle); the writes default below theirs to leave room for the guard.
    describeRate: readRate(env, 'SWEEP_DESCRIBE_RATE', 10, 10),
    tagsRate: readRate(env, 'SWEEP_TAGS_RATE', 4, 5),
    associateRate: readRate(env, 'SWEEP_ASSOCIATE_RATE', 4, 5),
    concurrency: readRate(env, 'SWEEP_CONCURRENCY', 8, 64),
    prefix: env.SWEEP_PREFIX?.trim() || undefined,
    maxInvocations: readRate(env, 'SWEEP_MAX_INVOCATIONS', 200, 10_000),
  };
}

/**
 * How long a run's lease lasts without renewal: longer than one invocation (15 min, the Lambda maximum) plus
 * the asynchronous continuation's start, so a live run never loses it and a dead one frees it within minutes.
 */
export const LEASE_TTL_MS = 20 * 60_000;

/** The continuation payload. */
export interface ResumeEvent {
  resume: {
    runId: string;
    nextToken?: string;
    counts?: SweepCounts;
    invocation?: number;
    startedAt?: number;
  };
}

export function isResumeEvent(event: unknown): event is ResumeEvent {
  const r = (event as { resume?: { runId?: unknown } } | null)?.resume;
  return typeof r === 'object' && r !== null && typeof r.runId === 'string';
}

export interface SweepInvocationDeps {
  config: GuardConfig;
  settings: SweepSettings;
  clients: Clients;
  sqs: Pick<SQSClient, 'send'>;
  lambda: Pick<LambdaClient, 'send'>;
  log: Log;
  region: string;
  account: string | undefined;
  functionArn: string | undefined;
  remainingMs: number;
  clock?: Clock;
  /** Called with this invocation's counts (not the run's), e.g. for metrics. */
  record?: (counts: SweepCounts) => void;
  /** One run at a time (core/lease.ts): the sweep function's own log group. Unset: no lease (tests, CLI). */
  lease?: { logs: LeaseOptions['logs']; logGroupName: string; ttlMs?: number };
  /** Counted when this invocation yields to a run that holds the lease. */
  onYield?: (holder: string) => void;
}

export interface SweepInvocationResult {
  runId: string;
  /** Set when another run held the lease: this one did nothing. */
  yieldedTo?: string;
  done: boolean;
  continued: boolean;
  counts: SweepCounts;
  nextToken?: string;
}

/** Sends work items in batches of ten, retrying entries SQS did not take. */
export async function enqueueCandidates(
  sqs: Pick<SQSClient, 'send'>,
  queueUrl: string,
  runId: string,
  candidates: Candidate[],
  clock: Clock = systemClock,
): Promise<void> {
  for (let i = 0; i < candidates.length; i += 10) {
    let entries = candidates.slice(i, i + 10).map((c, j) => ({
      Id: String(j),
      MessageBody: JSON.stringify(
        sweepWorkItem({ name: c.name, region: c.region, account: c.account, runId }),
      ),
    }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length === 0) break;
      if (attempt >= 5) {
        const first = out.Failed?.[0];
        throw new Error(
          `SQS refused ${entries.length} work item(s) after ${attempt} attempts: ${first?.Code ?? 'unknown'} ${first?.Message ?? ''}`,
        );
      }
      await clock.sleep(backoffDelay(attempt, { baseMs: 200, maxMs: 2_000 }));
    }
  }
}

/** One invocation of a sweep run: sweep until the time is nearly up, then continue in a new invocation. */
export async function runSweepInvocation(
  event: unknown,
  deps: SweepInvocationDeps,
): Promise<SweepInvocationResult> {
  const { config, settings, log, clients } = deps;
  const clock = deps.clock ?? systemClock;
  const resume = isResumeEvent(event) ? event.resume : undefined;
  const runId = resume?.runId ?? randomUUID();
  const invocation = (resume?.invocation ?? 0) + 1;
  const startedAt = resume?.startedAt ?? clock.now();
  const runCounts: SweepCounts = { ...emptyCounts(), ...resume?.counts };

  if (deps.lease) {
    const lease = await acquireSweepLease({
      logs: deps.lease.logs,
      logGroupName: deps.lease.logGroupName,
      runId,
      invocation,
      now: () => clock.now(),
      ttlMs: deps.lease.ttlMs ?? LEASE_TTL_MS,
    });
    if (!lease.held) {
      log.info('another sweep run holds the lease: this one yields', {
        runId,
        invocation,
        holder: lease.holder,
      });
      deps.onYield?.(lease.holder);
      return { runId, yieldedTo: lease.holder, done: true, continued: false, counts: emptyCounts() };
    }
  }

  // Once per run: ask the enforce function to verify the guard key (a lost CloudTrail event must not leave a
  // narrowed policy, rotation off, or a key at risk unseen until someone looks).
  if (invocation === 1 && settings.queueUrl && !config.dryRun && deps.account) {
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: settings.queueUrl,
        MessageBody: JSON.stringify(sweepKeyCheck({ region: deps.region, account: deps.account, runId })),
      }),
    );
  }

  const now = clock.now();
  const hardDeadline = now + deps.remainingMs - config.deadlineMarginMs - 5_000;
  const reserve = settings.queueUrl ? 10_000 : 60_000;
  const stopAt = Math.max(hardDeadline - reserve, now + (hardDeadline - now) / 2);

  const direct = !settings.queueUrl;
  const mode = direct ? 'enforce' : config.dryRun ? 'audit' : 'enqueue';
  log.info(resume ? 'sweep continues' : 'sweep starts', {
    runId,
    invocation,
    mode,
    dryRun: config.dryRun,
    ...(resume?.nextToken ? { nextToken: resume.nextToken } : {}),
  });

  const queueUrl = settings.queueUrl;
  const result: SweepResult = await sweep({
    mode,
    clients,
    config,
    region: deps.region,
    ...(deps.account ? { account: deps.account } : {}),
    log,
    clock,
    buckets: sweepBuckets(
      { describe: settings.describeRate, tags: settings.tagsRate, associate: settings.associateRate },
      clock,
    ),
    concurrency: settings.concurrency,
    ...(settings.prefix ? { prefix: settings.prefix } : {}),
    resume: { ...(resume?.nextToken ? { nextToken: resume.nextToken } : {}), counts: emptyCounts() },
    stopAt,
    hardDeadline,
    groupTimeoutMs: 60_000,
    ...(queueUrl
      ? { enqueue: (c: Candidate[]) => enqueueCandidates(deps.sqs, queueUrl, runId, c, clock) }
      : {}),
  });

  const mine = result.state.counts;
  deps.record?.(mine);
  for (const key of Object.keys(runCounts) as (keyof SweepCounts)[]) runCounts[key] += mine[key];

  if (result.stopped === 'error') {
    const error = result.error ?? new Error('sweep failed');
    // After finished pages, the checkpoint is worth keeping: a retry from the start token would list those
    // pages again (up to one invocation's, ~8,800 at 10 TPS) and queue their groups a second time. Without
    // progress, or on an error every group would hit, Lambda's retry (or the next schedule) takes over.
    const handOn =
      mine.pages > 0 &&
      !isFatalSweepError(error) &&
      deps.functionArn !== undefined &&
      invocation < settings.maxInvocations;
    log.error(
      handOn
        ? 'sweep failed; continuing from its checkpoint in a new invocation'
        : 'sweep failed; Lambda retries this invocation from its start token',
      { runId, invocation, error: `${error.name}: ${error.message}`, ...mine },
    );
    if (!handOn) throw error;
  }

  if (!result.done) {
    const nextToken = result.state.nextToken;
    if (invocation >= settings.maxInvocations) {
      throw new Error(
        `sweep run ${runId} reached SWEEP_MAX_INVOCATIONS (${settings.maxInvocations}); stopping`,
      );
    }
    if (!deps.functionArn) throw new Error('cannot continue the sweep: the function ARN is unknown');
    const payload: ResumeEvent = {
      resume: { runId, ...(nextToken ? { nextToken } : {}), counts: runCounts, invocation, startedAt },
    };
    await deps.lambda.send(
      new InvokeCommand({
        FunctionName: deps.functionArn,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    log.info('sweep checkpoint: continuing in a new invocation', { runId, invocation, nextToken, ...mine });
    return { runId, done: false, continued: true, counts: runCounts, ...(nextToken ? { nextToken } : {}) };
  }

  if (deps.lease) {
    // Best effort: a lease left behind lapses after LEASE_TTL_MS.
    await releaseSweepLease({ logs: deps.lease.logs, logGroupName: deps.lease.logGroupName, runId }).catch(
      (err: Error) =>
        log.warn('could not release the sweep lease; it lapses by itself', { runId, error: err.name }),
    );
  }
  log.info('sweep finished', {
    runId,
    invocations: invocation,
    durationMs: clock.now() - startedAt,
    dryRun: config.dryRun,
    mode,
    ...runCounts,
  });
  return { runId, done: true, continued: false, counts: runCounts };
}

// ---- Lambda wiring (module scope: validated once per container) ----

const config = loadConfig();
const settings = loadSweepSettings();
const { logger, metrics, log } = createObservability();
let sqs: SQSClient | undefined;
let lambda: LambdaClient | undefined;

const METRICS: [keyof SweepCounts, string][] = [
  ['listed', 'SweepListed'],
  ['candidates', 'SweepUnencryptedInScope'],
  ['queued', 'SweepQueued'],
  ['encrypted', 'SweepEncrypted'],
  ['wouldEncrypt', 'SweepWouldEncrypt'],
  ['outOfScope', 'SweepOutOfScope'],
  ['failed', 'SweepFailed'],
];

async function lambdaHandler(event: unknown, context: Context): Promise<SweepInvocationResult> {
  const arn = context?.invokedFunctionArn ? parseArn(context.invokedFunctionArn) : undefined;
  const region = arn?.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '';
  if (!region) throw new ConfigError('cannot tell the region: AWS_REGION is not set');
  assertKeyInAccount(config, arn?.account || undefined);
  sqs ??= new SQSClient({ region, ...CLIENT_SETTINGS });
  lambda ??= new LambdaClient({ region, ...CLIENT_SETTINGS });
  return runSweepInvocation(event, {
    config,
    settings,
    clients: clientsFor(region),
    sqs,
    lambda,
    log,
    region,
    account: arn?.account || undefined,
    functionArn: context?.invokedFunctionArn,
    ...(context?.functionName
      ? { lease: { logs: clientsFor(region).logs, logGroupName: `/aws/lambda/${context.functionName}` } }
      : {}),
    onYield: () => metrics.add('SweepYielded'),
    remainingMs:
      typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 600_000,
    record: (counts) => {
      for (const [key, name] of METRICS) metrics.add(name, counts[key]);
    },
  });
}

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(publishMetrics(metrics));

export type { SweepState };
