/**
 * A resumable sweep run on Lambda: each invocation takes the run's lease (lease.ts), sweeps until its time is
 * nearly up, and when the listing is not done re-invokes its function asynchronously with a checkpoint
 * (`{ resume: { runId, nextToken, counts, … } }`), so a region of any size is swept in a chain of invocations.
 * With a queue the unencrypted in-scope groups become work items for the enforce function (enqueue); without
 * one the sweep encrypts them itself (enforce); in a dry run it only audits.
 */
import { randomUUID } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Clients } from '../clients.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { GuardConfig } from '../config.ts';
import { sweepWorkItem } from '../event.ts';
import { reportFinding } from '../finding.ts';
import type { Log } from '../log.ts';
import { isObject } from '../parse.ts';
import { backoffDelay } from '../retry.ts';
import type { Candidate, GroupAction } from './action.ts';
import { auditGroup } from './audit.ts';
import { enforceGroup } from './enforce.ts';
import { enqueueGroup } from './enqueue.ts';
import { sweepHealthFinding } from './health-finding.ts';
import { acquireSweepLease, type LeaseOptions, releaseSweepLease } from './lease.ts';
import type { SweepMode } from './mode.ts';
import type { SweepResult } from './options.ts';
import { isFatalSweepError, sweepPages } from './page-loop.ts';
import { sweepBuckets } from './quotas.ts';
import { addCounts, emptyCounts, type SweepCounts } from './report.ts';
import type { SweepSettings } from './settings.ts';

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

/** True for a continuation's payload (a run id at least), as opposed to the schedule's event. */
export function isResumeEvent(event: unknown): event is ResumeEvent {
  const resume = isObject(event) ? event.resume : undefined;
  return isObject(resume) && typeof resume.runId === 'string';
}

/** What one invocation needs around the sweep; the Lambda entry builds it, tests pass their own. */
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
  /** One run at a time (lease.ts): the sweep function's own log group. Unset: no lease (tests, CLI). */
  lease?: { logs: LeaseOptions['logs']; logGroupName: string; ttlMs?: number };
  /** Counted when this invocation yields to a run that holds the lease. */
  onYield?: (holder: string) => void;
  /** Counted when a run completes (its last invocation; the SweepNotCompleted alarm watches for it). */
  onComplete?: (runId: string) => void;
}

/** What one invocation did: the run's counts so far and whether it finished, continued or yielded. */
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

/** The modes a scheduled run works in, and their actions (a rollback is the CLI's alone: sweep.ts). */
type ScheduledMode = Exclude<SweepMode, 'rollback'>;
const SCHEDULED_ACTIONS: Record<ScheduledMode, GroupAction> = {
  audit: auditGroup,
  enforce: enforceGroup,
  enqueue: enqueueGroup,
};

/** One invocation of a run, as its steps share it. */
interface Invocation {
  runId: string;
  /** 1 for the run's first. */
  invocation: number;
  startedAt: number;
  /** The run's counts before this invocation. */
  runCounts: SweepCounts;
  nextToken: string | undefined;
  resumed: boolean;
  clock: Clock;
}

/** One invocation of a sweep run: sweep until the time is nearly up, then continue in a new invocation. */
export async function runSweepInvocation(
  event: unknown,
  deps: SweepInvocationDeps,
): Promise<SweepInvocationResult> {
  const clock = deps.clock ?? systemClock;
  const resume = isResumeEvent(event) ? event.resume : undefined;
  const run: Invocation = {
    runId: resume?.runId ?? randomUUID(),
    invocation: (resume?.invocation ?? 0) + 1,
    startedAt: resume?.startedAt ?? clock.now(),
    runCounts: { ...emptyCounts(), ...resume?.counts },
    nextToken: resume?.nextToken,
    resumed: resume !== undefined,
    clock,
  };
  const holder = await takeLease(deps, run);
  if (holder !== undefined) {
    return { runId: run.runId, yieldedTo: holder, done: true, continued: false, counts: emptyCounts() };
  }
  const mode: ScheduledMode = !deps.settings.queueUrl ? 'enforce' : deps.config.dryRun ? 'audit' : 'enqueue';
  const result = await sweepThisInvocation(deps, run, mode);
  const mine = result.state.counts;
  deps.record?.(mine);
  const runCounts = addCounts(run.runCounts, mine);
  if (result.stopped === 'error') keepCheckpointOrThrow(deps, run, result);
  if (!result.done) return continueRun(deps, run, runCounts, result);
  if (deps.lease) {
    // Best effort: a lease left behind lapses after LEASE_TTL_MS.
    await releaseSweepLease({
      logs: deps.lease.logs,
      logGroupName: deps.lease.logGroupName,
      runId: run.runId,
    }).catch((err: Error) =>
      deps.log.warn('could not release the sweep lease; it lapses by itself', {
        runId: run.runId,
        error: err.name,
      }),
    );
  }
  deps.log.info('sweep finished', {
    runId: run.runId,
    invocations: run.invocation,
    durationMs: clock.now() - run.startedAt,
    dryRun: deps.config.dryRun,
    mode,
    ...runCounts,
  });
  deps.onComplete?.(run.runId);
  reportHealth(deps, run);
  return { runId: run.runId, done: true, continued: false, counts: runCounts };
}

/** Renews the run's lease; the holder's run id when another run holds it (this one yields), else undefined. */
async function takeLease(deps: SweepInvocationDeps, run: Invocation): Promise<string | undefined> {
  if (!deps.lease) return undefined;
  const { runId, invocation } = run;
  const lease = await acquireSweepLease({
    logs: deps.lease.logs,
    logGroupName: deps.lease.logGroupName,
    runId,
    invocation,
    now: () => run.clock.now(),
    ttlMs: deps.lease.ttlMs ?? LEASE_TTL_MS,
    maxInvocations: deps.settings.maxInvocations,
  });
  if (lease.held) return undefined;
  deps.log.info('another sweep run holds the lease: this one yields', {
    runId,
    invocation,
    holder: lease.holder,
  });
  deps.onYield?.(lease.holder);
  reportHealth(deps, run, lease.holder);
  return lease.holder;
}

/** Writes the sweep's guard-unhealthy finding line: ACTIVE when it yields, RESOLVED when a run completes. */
function reportHealth(deps: SweepInvocationDeps, run: Invocation, yieldedTo?: string): void {
  if (!deps.account || !deps.functionArn) return;
  const where = {
    account: deps.account,
    region: deps.region,
    functionArn: deps.functionArn,
    now: new Date(run.clock.now()).toISOString(),
  };
  reportFinding(deps.log, sweepHealthFinding(where, yieldedTo));
}

/** Sweeps from the checkpoint until shortly before the invocation's end (room kept to hand on or report). */
function sweepThisInvocation(
  deps: SweepInvocationDeps,
  run: Invocation,
  mode: ScheduledMode,
): Promise<SweepResult> {
  const { config, settings } = deps;
  const clock = run.clock;
  const now = clock.now();
  const hardDeadline = now + deps.remainingMs - config.deadlineMarginMs - 5_000;
  const reserve = settings.queueUrl ? 10_000 : 60_000;
  const stopAt = Math.max(hardDeadline - reserve, now + (hardDeadline - now) / 2);
  deps.log.info(run.resumed ? 'sweep continues' : 'sweep starts', {
    runId: run.runId,
    invocation: run.invocation,
    mode,
    dryRun: config.dryRun,
    ...(run.nextToken ? { nextToken: run.nextToken } : {}),
  });
  const queueUrl = settings.queueUrl;
  return sweepPages(
    {
      mode,
      clients: deps.clients,
      config,
      region: deps.region,
      account: deps.account,
      log: deps.log,
      clock,
      buckets: sweepBuckets(
        { describe: settings.describeRate, tags: settings.tagsRate, associate: settings.associateRate },
        clock,
      ),
      concurrency: settings.concurrency,
      prefix: settings.prefix,
      resume: { nextToken: run.nextToken, counts: emptyCounts() },
      stopAt,
      hardDeadline,
      groupTimeoutMs: 60_000,
      ...(queueUrl
        ? { enqueue: (c: Candidate[]) => enqueueCandidates(deps.sqs, queueUrl, run.runId, c, clock) }
        : {}),
    },
    SCHEDULED_ACTIONS[mode],
  );
}

/**
 * A failed sweep: after finished pages, the checkpoint is worth keeping (the run continues from it); without
 * progress, or on an error every group would hit, the error is thrown and Lambda's retry (or the next
 * schedule) takes over from the start token.
 */
function keepCheckpointOrThrow(deps: SweepInvocationDeps, run: Invocation, result: SweepResult): void {
  const error = result.error ?? new Error('sweep failed');
  const mine = result.state.counts;
  // A retry from the start token would list those pages again (up to one invocation's, ~8,800 at 10 TPS) and
  // queue their groups a second time.
  const handOn =
    mine.pages > 0 &&
    !isFatalSweepError(error) &&
    deps.functionArn !== undefined &&
    run.invocation < deps.settings.maxInvocations;
  deps.log.error(
    handOn
      ? 'sweep failed; continuing from its checkpoint in a new invocation'
      : 'sweep failed; Lambda retries this invocation from its start token',
    { runId: run.runId, invocation: run.invocation, error: `${error.name}: ${error.message}`, ...mine },
  );
  if (!handOn) throw error;
}

/** Hands the run on: re-invokes the function asynchronously with the checkpoint and the run's counts. */
async function continueRun(
  deps: SweepInvocationDeps,
  run: Invocation,
  runCounts: SweepCounts,
  result: SweepResult,
): Promise<SweepInvocationResult> {
  const { runId, invocation, startedAt } = run;
  const nextToken = result.state.nextToken;
  if (invocation >= deps.settings.maxInvocations) {
    throw new Error(
      `sweep run ${runId} reached SWEEP_MAX_INVOCATIONS (${deps.settings.maxInvocations}); stopping`,
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
  deps.log.info('sweep checkpoint: continuing in a new invocation', {
    runId,
    invocation,
    nextToken,
    ...result.state.counts,
  });
  return { runId, done: false, continued: true, counts: runCounts, ...(nextToken ? { nextToken } : {}) };
}
