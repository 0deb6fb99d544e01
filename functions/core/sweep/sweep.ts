/**
 * The sweep's page loop: lists a region's log groups page by page (the next page is fetched while this one is
 * worked on), classifies each group (report.ts), runs the mode's action on the ones it acts on (audit.ts,
 * enforce.ts, enqueue.ts, rollback.ts) a few at a time, and checkpoints after every finished page. Paced by
 * token buckets (quotas.ts), it stops between groups on a signal, at its deadline, or on an error every
 * remaining group would hit, and returns the DescribeLogGroups token to resume from.
 */
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from '../clients.ts';
import { type Clock, systemClock } from '../clock.ts';
import { mapLimit } from '../concurrency.ts';
import type { GuardConfig } from '../config.ts';
import { ConfigError, KeyPolicyError, UnsafeKeyError } from '../errors.ts';
import { findGuardKey } from '../key.ts';
import type { Log } from '../log.ts';
import { auditGroup, type Candidate } from './audit.ts';
import { enforceGroup } from './enforce.ts';
import { enqueueGroup, sendQueue } from './enqueue.ts';
import { createKeyRiskChecks, type KeyRiskChecks } from './key-risk.ts';
import { describePage, groupArnOf, type LogGroupPage } from './listing.ts';
import { type SweepBuckets, sweepBuckets } from './quotas.ts';
import {
  ACTION_COUNT,
  addCounts,
  type ClassifiedGroup,
  classifyGroup,
  doneCountsOf,
  emptyCounts,
  type GroupReport,
  type SweepCounts,
} from './report.ts';
import { rollbackGroup } from './rollback.ts';

/** What the sweep does with the groups it acts on (see the mode files beside this one). */
export type SweepMode = 'audit' | 'enforce' | 'enqueue' | 'rollback';

/** What one sweep() call works on, how fast, in which mode, and until when. */
export interface SweepOptions {
  mode: SweepMode;
  clients: Clients;
  config: GuardConfig;
  region: string;
  /** Used when a listed group carries no ARN to read its account from. */
  account?: string;
  log: Log;
  clock?: Clock;
  buckets?: SweepBuckets;
  /** Groups acted on at once (the buckets, not this, set the call rates). Default 8. */
  concurrency?: number;
  prefix?: string;
  pageSize?: number;
  resume?: SweepState;
  /** Stops between groups: the run returns the token to resume from. */
  signal?: AbortSignal;
  /** Epoch ms after which no new page or group is started. */
  stopAt?: number;
  /** Epoch ms that no group's retries may outlive (the Lambda's end). */
  hardDeadline?: number;
  /** How long one group may take (propagation retries included). Default 120 s. */
  groupTimeoutMs?: number;
  /** mode `enqueue`: receives each page's candidates. */
  enqueue?: (candidates: Candidate[]) => Promise<void>;
  onGroup?: (report: GroupReport) => void;
  /** Called after each finished page with the checkpoint. */
  onPage?: (state: SweepState) => void | Promise<void>;
  /** The guard's key ARN if known (null: known not to exist); looked up otherwise. */
  guardKeyArn?: string | null;
  /**
   * mode `audit`: DescribeKey every distinct key once, to report unusable keys, and GetKeyPolicy every distinct
   * Enabled key once, to report groups at risk (`GroupReport.atRisk`).
   */
  checkKeys?: boolean;
  /** Names already handled in this run; shared across calls to never touch a group twice. */
  seen?: Set<string>;
}

/** A checkpoint: the DescribeLogGroups token of the first page not finished, and what was counted so far. */
export interface SweepState {
  nextToken?: string;
  counts: SweepCounts;
}

/** How a sweep() call ended: the checkpoint, and why it stopped when the listing did not reach its end. */
export interface SweepResult {
  state: SweepState;
  /** True when the listing reached its end. */
  done: boolean;
  stopped?: 'signal' | 'deadline' | 'error';
  error?: Error;
  guardKeyArn: string | undefined;
}

/** One group a mode acts on: its report (the action is written into it) and the group as listed. */
export interface GroupWork {
  report: GroupReport;
  group: LogGroup;
}

/** What a mode's action on one group needs of its run and its page. */
export interface GroupContext {
  clients: Clients;
  config: GuardConfig;
  region: string;
  /** The run's account, for a group whose ARN names none. */
  account: string | undefined;
  log: Log;
  clock: Clock;
  buckets: SweepBuckets;
  /** The group's deadline from now: its own timeout, never past the run's hard deadline. */
  deadline(): number;
  /** Adds one to a count of the page (the audit step's candidates and tag opt-outs). */
  count(key: keyof SweepCounts): void;
  /** mode `enqueue`: the page's candidates, handed over once the page is done. */
  queue: Candidate[];
}

const MODE_ACTIONS: Record<SweepMode, (work: GroupWork, ctx: GroupContext) => Promise<unknown>> = {
  audit: auditGroup,
  enforce: enforceGroup,
  enqueue: enqueueGroup,
  rollback: rollbackGroup,
};

/** Errors that would fail every remaining group the same way: the run stops instead of grinding on. */
export function isFatalSweepError(err: unknown): boolean {
  if (err instanceof UnsafeKeyError || err instanceof KeyPolicyError || err instanceof ConfigError)
    return true;
  const chain: unknown[] = [err, (err as { cause?: unknown })?.cause];
  return chain.some((e) => {
    const x = e as { name?: string; message?: string } | undefined;
    if (!x) return false;
    if (/not authorized to perform/i.test(x.message ?? '')) return true;
    return x.name === 'CredentialsProviderError' || x.name === 'UnrecognizedClientException';
  });
}

/** One sweep() call as its pages see it. */
interface Run {
  options: SweepOptions;
  clock: Clock;
  buckets: SweepBuckets;
  seen: Set<string>;
  guardKeyArn: string | undefined;
  /** When keys are checked (audit). */
  risks: KeyRiskChecks | undefined;
  stopReason(): 'signal' | 'deadline' | undefined;
}

/** The run's setup: its clock and buckets, the guard key's ARN (looked up unless given), the key checks. */
async function startRun(options: SweepOptions): Promise<Run> {
  const { clients, region, log } = options;
  const clock = options.clock ?? systemClock;
  const guardKeyArn =
    options.guardKeyArn !== undefined
      ? (options.guardKeyArn ?? undefined)
      : (await findGuardKey(clients, options.config, clock))?.Arn;
  if (options.mode === 'rollback' && !guardKeyArn)
    log.info('the guard key does not exist: nothing to roll back');
  return {
    options,
    clock,
    buckets: options.buckets ?? sweepBuckets({}, clock),
    seen: options.seen ?? new Set<string>(),
    guardKeyArn,
    risks: options.checkKeys
      ? createKeyRiskChecks({ clients, region, account: options.account, log })
      : undefined,
    stopReason: () => {
      if (options.signal?.aborted) return 'signal';
      if (options.stopAt !== undefined && clock.now() >= options.stopAt) return 'deadline';
      return undefined;
    },
  };
}

/** Lists, classifies and acts, page by page, until the end, the signal or the deadline. */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const { clients, region, log } = options;
  const counts: SweepCounts = { ...emptyCounts(), ...options.resume?.counts };
  const state: SweepState = {
    counts,
    ...(options.resume?.nextToken ? { nextToken: options.resume.nextToken } : {}),
  };
  const run = await startRun(options);
  const { clock, buckets, guardKeyArn } = run;
  const fetchPage = (token: string | undefined) =>
    describePage(clients, {
      bucket: buckets.describe,
      clock,
      limit: options.pageSize ?? 50,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(token ? { nextToken: token } : {}),
    });

  // Every way a run ends before the listing does: what it reached, and why it stopped there.
  const halt = (stopped: 'signal' | 'deadline' | 'error', error?: Error): SweepResult => ({
    state,
    done: false,
    stopped,
    ...(stopped === 'error' ? { error } : {}),
    guardKeyArn,
  });

  let pending = run.stopReason() ? undefined : fetchPage(state.nextToken);
  while (pending) {
    let page: LogGroupPage;
    try {
      page = await pending;
    } catch (err) {
      return halt('error', err as Error);
    }
    const pageToken = state.nextToken;
    const following = page.nextToken;
    // Fetch the next page while this one is worked on; dropped if the run stops before it is needed.
    let prefetched: typeof pending | undefined;
    if (following && !run.stopReason()) {
      prefetched = fetchPage(following);
      prefetched.catch(() => undefined);
    }
    const worked = await workPage(page.logGroups ?? [], run);
    if (worked.error) return halt('error', worked.error);
    if (worked.interrupted || worked.fatal) {
      // A page left half-way: keep what was done, not what was seen (it is listed again on resume).
      Object.assign(counts, addCounts(counts, doneCountsOf(worked.counts)));
      return worked.fatal ? halt('error', worked.fatal) : halt(run.stopReason() ?? 'signal');
    }
    Object.assign(counts, addCounts(counts, worked.counts));
    if (following) state.nextToken = following;
    else delete state.nextToken;
    log.debug('sweep: page done', { region, pageToken, ...counts });
    await options.onPage?.(state);
    if (!following) return { state, done: true, guardKeyArn };
    const reason = run.stopReason();
    if (reason) return halt(reason);
    pending = prefetched;
  }
  return halt(run.stopReason() ?? 'signal');
}

/** How one page went: its counts, and whether it was left half-way (stopped, a fatal error, not queued). */
interface PageOutcome {
  counts: SweepCounts;
  interrupted: boolean;
  /** An error fatal to the run (isFatalSweepError) that a group hit. */
  fatal?: Error;
  /** mode `enqueue`: the page's candidates could not be handed over. */
  error?: Error;
}

/** Classifies a page's groups, acts on the ones the mode acts on, and reports every group. */
async function workPage(groups: LogGroup[], run: Run): Promise<PageOutcome> {
  const { options } = run;
  const counts = emptyCounts();
  counts.pages = 1;
  const listed = await classifyPage(groups, run);
  for (const { counts: keys } of listed) for (const key of keys) counts[key]++;
  const reports = listed.map((c) => c.report);
  let interrupted = false;
  let fatal: Error | undefined;
  const emitted = new Set<GroupReport>();
  const ctx: GroupContext = {
    ...options,
    account: options.account,
    clock: run.clock,
    buckets: run.buckets,
    deadline: () => groupDeadline(options, run.clock),
    count: (key) => {
      counts[key]++;
    },
    queue: [],
  };
  const work: GroupWork[] = listed.filter((c) => c.act);
  await mapLimit(work, options.concurrency ?? 8, async (item) => {
    // Queueing finishes its page (a few paced tag reads) so nothing is sent twice on resume.
    if (fatal || (options.mode !== 'enqueue' && run.stopReason())) {
      interrupted = true;
      return;
    }
    const error = await actOn(item, ctx, run);
    if (error) fatal ??= error;
    // Reported as soon as it is done (progress); queued ones only once the page is sent.
    if (options.mode !== 'enqueue' && item.report.action !== 'none') {
      emitted.add(item.report);
      options.onGroup?.(item.report);
    }
  });
  if (options.mode === 'enqueue') {
    const error = await sendQueue(ctx.queue, reports, options.enqueue);
    if (error) return { counts, interrupted, error };
  }
  for (const report of reports) {
    const key = ACTION_COUNT[report.action];
    if (key) counts[key]++;
    if (!emitted.has(report) && (!interrupted || report.action !== 'none')) options.onGroup?.(report);
  }
  return { counts, interrupted, ...(fatal ? { fatal } : {}) };
}

/** The page's named groups classified, each with the audit's key finding when keys are checked. */
async function classifyPage(
  groups: LogGroup[],
  run: Run,
): Promise<(ClassifiedGroup & { group: LogGroup })[]> {
  const { mode, config, region, account } = run.options;
  const out: (ClassifiedGroup & { group: LogGroup })[] = [];
  for (const group of groups) {
    const name = group.logGroupName;
    if (!name) continue;
    const kmsKeyId = group.kmsKeyId || undefined;
    const risk =
      run.risks && kmsKeyId
        ? await run.risks.riskOf(kmsKeyId, groupArnOf(group, region, account))
        : undefined;
    const classified = classifyGroup(
      { ...group, logGroupName: name },
      { mode, config, region, account, guardKeyArn: run.guardKeyArn, risk },
    );
    out.push({ ...classified, group });
  }
  return out;
}

/** Runs the mode's action on a group once per run; a failure is the group's (reported), fatal ones returned. */
async function actOn(work: GroupWork, ctx: GroupContext, run: Run): Promise<Error | undefined> {
  const { report } = work;
  if (run.seen.has(report.name)) {
    report.action = 'skipped-duplicate';
    return undefined;
  }
  run.seen.add(report.name);
  try {
    await MODE_ACTIONS[run.options.mode](work, ctx);
    return undefined;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    report.action = 'failed';
    report.detail = `${error.name}: ${error.message}`;
    ctx.log.error('sweep: group failed', {
      logGroupName: report.name,
      region: ctx.region,
      error: report.detail,
    });
    return isFatalSweepError(err) ? error : undefined;
  }
}

/** A group's deadline from now: its own timeout, capped at the run's hard deadline. */
function groupDeadline(options: SweepOptions, clock: Clock): number {
  const own = clock.now() + (options.groupTimeoutMs ?? 120_000);
  return options.hardDeadline === undefined ? own : Math.min(own, options.hardDeadline);
}
