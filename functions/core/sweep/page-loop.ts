/**
 * The sweep's page loop: lists a region's log groups page by page (the next page is fetched while this one is
 * worked on), classifies each group (report.ts), runs the action it is given on the ones it acts on a few at a
 * time, and checkpoints after every finished page. Paced by token buckets (quotas.ts), it stops between
 * groups on a signal, at its deadline, or on an error every remaining group would hit, and returns the
 * DescribeLogGroups token to resume from. The action comes from the caller (sweep.ts for every mode, run.ts
 * for the scheduled ones), so the Lambda bundle carries only the modes it runs.
 */
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { type Clock, systemClock } from '../clock.ts';
import { mapLimit } from '../concurrency.ts';
import { ConfigError, KeyPolicyError, UnsafeKeyError } from '../errors.ts';
import { findGuardKey } from '../key.ts';
import type { GroupAction, GroupContext, GroupWork } from './action.ts';
import { sendQueue } from './enqueue.ts';
import type { KeyRiskChecks } from './key-risk.ts';
import { describePage, groupArnOf, type LogGroupPage } from './listing.ts';
import type { SweepOptions, SweepResult, SweepState } from './options.ts';
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

/** An error that is the run's own signal aborting a read in flight (the CLI's Ctrl-C), not a failure. */
export function stoppedBySignal(err: unknown, options: { signal?: AbortSignal | undefined }): boolean {
  if (!options.signal?.aborted) return false;
  const chain: unknown[] = [err, (err as { cause?: unknown })?.cause];
  return chain.some((e) => (e as { name?: string } | undefined)?.name === 'AbortError');
}

/** One sweep as its pages and groups see it: its options, with the run's own clock, buckets and key. */
interface Run extends SweepOptions {
  act: GroupAction;
  /** When keys are checked (the CLI's audit). */
  risks: KeyRiskChecks | undefined;
  clock: Clock;
  buckets: SweepBuckets;
  seen: Set<string>;
  guardKeyArn: string | undefined;
  stopReason(): 'signal' | 'deadline' | undefined;
  /** A group's deadline from now: its own timeout, capped at the run's hard deadline. */
  deadline(): number;
}

/** The run's setup: its clock and buckets, and the guard key's ARN (looked up unless given). */
async function startRun(options: SweepOptions, act: GroupAction, risks?: KeyRiskChecks): Promise<Run> {
  const clock = options.clock ?? systemClock;
  const guardKeyArn =
    options.guardKeyArn !== undefined
      ? (options.guardKeyArn ?? undefined)
      : (await findGuardKey(options.clients, options.config, clock))?.Arn;
  if (options.mode === 'rollback' && !guardKeyArn)
    options.log.info('the guard key does not exist: nothing to roll back');
  return {
    ...options,
    act,
    risks,
    clock,
    buckets: options.buckets ?? sweepBuckets({}, clock),
    seen: options.seen ?? new Set<string>(),
    guardKeyArn,
    stopReason: () => {
      if (options.signal?.aborted) return 'signal';
      if (options.stopAt !== undefined && clock.now() >= options.stopAt) return 'deadline';
      return undefined;
    },
    deadline: () => {
      const own = clock.now() + (options.groupTimeoutMs ?? 120_000);
      return options.hardDeadline === undefined ? own : Math.min(own, options.hardDeadline);
    },
  };
}

/**
 * Lists, classifies and runs `act` on the groups the mode acts on, page by page, until the end, the signal or
 * the deadline; `risks`, when given, checks each group's key (the audit's at-risk findings).
 */
export async function sweepPages(
  options: SweepOptions,
  act: GroupAction,
  risks?: KeyRiskChecks,
): Promise<SweepResult> {
  const { clients, region, log } = options;
  const counts: SweepCounts = { ...emptyCounts(), ...options.resume?.counts };
  const state: SweepState = {
    counts,
    ...(options.resume?.nextToken ? { nextToken: options.resume.nextToken } : {}),
  };
  const run = await startRun(options, act, risks);
  const { clock, buckets, guardKeyArn } = run;
  const fetchPage = (token: string | undefined) =>
    describePage(clients, {
      bucket: buckets.describe,
      clock,
      limit: options.pageSize ?? 50,
      prefix: options.prefix,
      nextToken: token,
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
      // The listing aborted by the run's own signal (Ctrl-C) stopped; it did not fail.
      return stoppedBySignal(err, run) ? halt('signal') : halt('error', err as Error);
    }
    const pageToken = state.nextToken;
    const following = page.nextToken;
    options.onListed?.({ groups: page.logGroups?.length ?? 0, last: !following });
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
      return worked.fatal && !stoppedBySignal(worked.fatal, run)
        ? halt('error', worked.fatal)
        : halt(run.stopReason() ?? 'signal');
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
  const counts = emptyCounts();
  counts.pages = 1;
  const listed = await classifyPage(groups, run);
  for (const { counts: keys } of listed) for (const key of keys) counts[key]++;
  const reports = listed.map((c) => c.report);
  let interrupted = false;
  let fatal: Error | undefined;
  const emitted = new Set<GroupReport>();
  const ctx: GroupContext = {
    ...run,
    count: (key) => {
      counts[key]++;
    },
    queue: [],
  };
  const work: GroupWork[] = listed.filter((c) => c.act);
  /** Reports whose group still needed work when the run stopped half-way through the page. */
  const undone = new Set<GroupReport>(work.map((w) => w.report));
  await mapLimit(work, run.concurrency ?? 8, async (item) => {
    // Queueing finishes its page (a few paced tag reads) so nothing is sent twice on resume.
    if (fatal || (run.mode !== 'enqueue' && run.stopReason())) {
      interrupted = true;
      return;
    }
    const error = await actOn(item, ctx, run);
    undone.delete(item.report);
    if (error) fatal ??= error;
    // Reported as soon as it is done (progress); queued ones only once the page is sent.
    if (run.mode !== 'enqueue' && item.report.action !== 'none') {
      emitted.add(item.report);
      run.onGroup?.(item.report);
    } else run.onChecked?.();
  });
  if (run.mode === 'enqueue') {
    const error = await sendQueue(ctx.queue, reports, run.enqueue);
    if (error) return { counts, interrupted, error };
  }
  for (const report of reports) {
    const key = ACTION_COUNT[report.action];
    if (key) counts[key]++;
    if (
      !emitted.has(report) &&
      (!interrupted || report.action !== 'none' || auditedBeforeStop(run, report, undone))
    )
      run.onGroup?.(report);
  }
  return { counts, interrupted, ...(fatal ? { fatal } : {}) };
}

/**
 * An audit stopped half-way through a page still reports the groups it finished (no work needed, or its tag read
 * done): it changes nothing, so its report and summary keep what it saw. Other modes report only what they
 * changed there (the page is listed again on resume).
 */
function auditedBeforeStop(run: Run, report: GroupReport, undone: Set<GroupReport>): boolean {
  return run.mode === 'audit' && !undone.has(report);
}

/** The page's named groups classified, each with the audit's key finding when keys are checked. */
async function classifyPage(
  groups: LogGroup[],
  run: Run,
): Promise<(ClassifiedGroup & { group: LogGroup })[]> {
  const out: (ClassifiedGroup & { group: LogGroup })[] = [];
  for (const group of groups) {
    const name = group.logGroupName;
    if (!name) continue;
    const kmsKeyId = group.kmsKeyId || undefined;
    const risk =
      run.risks && kmsKeyId
        ? await run.risks.riskOf(kmsKeyId, groupArnOf(group, run.region, run.account))
        : undefined;
    out.push({ ...classifyGroup({ ...group, logGroupName: name }, { ...run, risk }), group });
  }
  return out;
}

/** Runs the action on a group once per run; a failure is the group's (reported), fatal ones returned. */
async function actOn(work: GroupWork, ctx: GroupContext, run: Run): Promise<Error | undefined> {
  const { report } = work;
  if (run.seen.has(report.name)) {
    report.action = 'skipped-duplicate';
    return undefined;
  }
  run.seen.add(report.name);
  try {
    await run.act(work, ctx);
    return undefined;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    // A read aborted by Ctrl-C: the group is left as listed (done again on resume), and the page stops.
    if (stoppedBySignal(err, run)) return error;
    report.action = 'failed';
    report.detail = `${error.name}: ${error.message}`;
    run.log.error('sweep: group failed', {
      logGroupName: report.name,
      region: run.region,
      error: report.detail,
    });
    return isFatalSweepError(err) ? error : undefined;
  }
}
