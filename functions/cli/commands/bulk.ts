/**
 * What `enforce` and `rollback` share: one paced sweep that changes log groups in every account × region, with
 * confirmation first (counted by a dry run, so the question names how many groups where), progress while it
 * runs, the groups a dry run would change, and a resume token when it stops.
 */
import { type Command, Option } from 'commander';
import type { Clock } from '../../core/clock.ts';
import { findGuardKey } from '../../core/key.ts';
import { keyCreator } from '../../core/key-create.ts';
import { isReservedLogGroupName, RESERVED_REASON } from '../../core/scope.ts';
import type { SweepMode } from '../../core/sweep/mode.ts';
import {
  LOGS_QUOTA_TPS,
  SHARED_QUOTA_PACING,
  type SweepBuckets,
  sweepBuckets,
} from '../../core/sweep/quotas.ts';
import { emptyCounts, type GroupReport } from '../../core/sweep/report.ts';
import { sweep } from '../../core/sweep/sweep.ts';
import { AdaptiveTokenBucket } from '../../core/token-bucket.ts';
import {
  type AcrossResult,
  accountsOf,
  orgFlagsOf,
  type PairTask,
  pairTable,
  publicPairs,
  reportPairs,
  runAcross,
  skippedLines,
  totalOf,
} from '../across.ts';
import { isAwsFailure, oldestPendingCall, resolveAccount } from '../aws.ts';
import { completenessOf, incompleteHeadline } from '../completeness.ts';
import {
  acrossAccounts,
  type CommandDeps,
  type Ctx,
  common,
  EXIT,
  examples,
  numberFlag,
} from '../context.ts';
import {
  type PlanKey,
  type PlannedGroup,
  type PlannedKey,
  plannedGroup,
  planTable,
  promptText,
  wouldCreateLine,
} from '../dry-plan.ts';
import { UsageError } from '../errors.ts';
import { withFunctionRole } from '../function-role.ts';
import { checkKeyArnUpFront } from '../key-check.ts';
import { keyLabel } from '../key-label.ts';
import { isAcross, type OrgFlags } from '../org.ts';
import { makeProgress, type Progress } from '../progress.ts';
import { totalsText } from '../report.ts';
import { RERUN_SAME_TOKEN, resumeText } from '../resume-token.ts';
import { RunTally } from '../run-tally.ts';

/** The flags of `enforce` and `rollback`. */
export interface BulkOptions extends OrgFlags {
  yes?: boolean;
  prefix?: string;
  resumeToken?: string;
  rate?: string;
  concurrency?: string;
  groupTimeout?: string;
  /** Refused: only `audit` may skip the opt-out tag (enforce would touch opted-out groups). */
  skipOptOutCheck?: boolean;
}

type BulkKind = 'enforce' | 'rollback';

/** The pace of a bulk run, from its flags (checked before anything is called). */
interface BulkPace {
  rate: number;
  concurrency: number;
  groupTimeoutMs: number;
}

/** A group that failed in a bulk run. */
interface BulkFailure {
  account?: string;
  region: string;
  name: string;
  reason: string;
}

/** What one bulk run gathered: how each pair ended, the failed groups, and (dry run) what it would change. */
interface BulkRun {
  result: AcrossResult;
  failures: BulkFailure[];
  /** Dry run: the groups it would change, in account, region, name order. */
  planned: PlannedGroup[];
  /** Dry run of enforce: the guard keys it would create, once per account-region. */
  creates: PlannedKey[];
}

/** Runs `enforce` or `rollback` over every account × region: confirms, paces, reports, and prints a resume token when stopped. */
export async function bulk(ctx: Ctx, kind: BulkKind, opts: BulkOptions): Promise<number> {
  if (opts.skipOptOutCheck)
    throw new UsageError(
      `--skip-opt-out-check is for audit only: ${kind} always reads the opt-out tag, so as never to touch a group tagged to opt out`,
    );
  if (opts.prefix && isReservedLogGroupName(opts.prefix))
    throw new UsageError(`--prefix ${opts.prefix}: ${RESERVED_REASON}`);
  const pace: BulkPace = {
    rate: numberFlag(opts.rate, '--rate', { above: 0, max: 5 }, 5),
    concurrency: numberFlag(opts.concurrency, '--concurrency', { above: 0, max: 64 }, 8),
    groupTimeoutMs: numberFlag(opts.groupTimeout, '--group-timeout', { above: 0, max: 3600 }, 300) * 1000,
  };
  // A --key-arn that does not exist or cannot be used: one error up front, not one per group (rollback takes
  // groups off a key whatever its state, so it checks nothing here).
  if (kind === 'enforce' && !isAcross(orgFlagsOf(opts as unknown as Record<string, unknown>)))
    await checkKeyArnUpFront(ctx, { usable: true });
  if (!ctx.config.dryRun && !opts.yes) {
    const answer = await confirmBulk(ctx, kind, opts, pace);
    if (answer !== true) return answer;
  }
  const run = await runBulk(ctx, kind, opts, pace);
  return reportBulk(ctx, kind, run, Boolean(opts.resumeToken));
}

/**
 * Sweeps every account × region of the run (a dry run when ctx.config.dryRun), gathering what reportBulk shows;
 * `list: false` keeps no planned group (the prompt's count needs only the counts).
 */
async function runBulk(
  ctx: Ctx,
  kind: BulkKind,
  opts: BulkOptions,
  pace: BulkPace,
  list = true,
): Promise<BulkRun> {
  const { io } = ctx;
  const org = orgFlagsOf(opts as unknown as Record<string, unknown>);
  const dryRun = ctx.config.dryRun;
  const verb =
    kind === 'enforce' ? (dryRun ? 'to encrypt' : 'encrypted') : dryRun ? 'to disassociate' : 'disassociated';
  // Each pair's counts: what the progress shows while the run goes and what each pair's outcome reports.
  const tally = new RunTally(isAcross(org));
  const progress = makeProgress(io, {
    enabled: !ctx.flags.quiet && !ctx.flags.json,
    words: { changed: verb },
    read: () => tally.snapshot(),
    waiting: oldestPendingCall,
  });
  const gathered = {
    failures: [] as BulkFailure[],
    planned: [] as PlannedGroup[],
    creates: [] as PlannedKey[],
  };
  const result = await runAcross(ctx, {
    command: kind,
    org,
    ...(opts.resumeToken ? { resumeToken: opts.resumeToken } : {}),
    beforeStart: async (_plan, pairs) => {
      tally.expect(pairs);
      return true;
    },
    work: (task) =>
      bulkPair(ctx, kind, opts, pace, { task, multi: isAcross(org), list, progress, tally, gathered }),
  });
  progress.stop();
  // runAcross returns undefined only when beforeStart declines, and this run has none.
  if (!result) throw new Error(`${kind}: the run did not start`);
  const order = (g: PlannedGroup) => `${g.account}\u0000${g.region}\u0000${g.logGroup}`;
  gathered.planned.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { result, ...gathered };
}

/** What bulkPair shares with its run: the pair, the progress, and where failures and the plan go. */
interface PairRun {
  task: PairTask;
  multi: boolean;
  /** Keep the groups a dry run would change (for its table or JSON). */
  list: boolean;
  progress: Progress;
  /** The run's one tally: what the progress shows and what each pair's outcome reports. */
  tally: RunTally;
  gathered: Omit<BulkRun, 'result'>;
}

/** One account × region of a bulk run: the guard key looked up, the sweep, each group reported as it ends. */
async function bulkPair(ctx: Ctx, kind: BulkKind, opts: BulkOptions, pace: BulkPace, run: PairRun) {
  const { io, printer } = ctx;
  const { task, multi, gathered } = run;
  const pairKey = `${task.account}/${task.region}`;
  const dryRun = task.config.dryRun;
  // A dry run names the account of every group it would change (a rollback needs it for nothing else).
  const account =
    kind === 'enforce' || dryRun
      ? task.account || (await resolveAccount(task.clients, task.config))
      : task.account;
  printer.log.info(`${kind} in ${account || 'this account'} ${task.region}`);
  const where = multi ? `${task.account} ${task.region}` : task.region;
  // The guard key enforce creates or repairs here names this account-region's function role (function-role.ts),
  // deployed or not yet: the stack deployed later finds its key ready.
  const config = kind === 'enforce' ? withFunctionRole(task.config, account, task.region) : task.config;
  const guard = await findGuardKey(task.clients, config, io.clock);
  const key: PlanKey = {
    ...(guard?.Arn ? { arn: guard.Arn } : {}),
    ...(task.config.keyArn ? {} : { alias: task.config.keyAlias }),
  };
  let planned = 0;
  const result = await sweep({
    mode: kind as SweepMode,
    clients: task.clients,
    config,
    region: task.region,
    ...(account ? { account } : {}),
    log: printer.log,
    ...(io.clock ? { clock: io.clock } : {}),
    // --rate paces the tag read before each association too (else it, not --rate, would set the pace).
    buckets: bulkBuckets(pace.rate, io.clock),
    concurrency: pace.concurrency,
    groupTimeoutMs: pace.groupTimeoutMs,
    seen: new Set<string>(),
    guardKeyArn: guard?.Arn ?? null,
    keyCreator,
    // The audit's key checks: groups on a disabled or deleted key are counted as audit counts them.
    checkKeys: true,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(task.nextToken ? { resume: { nextToken: task.nextToken, counts: emptyCounts() } } : {}),
    onPage: (page) => task.checkpoint?.(page.nextToken),
    onListed: (page) => {
      run.tally.listed(pairKey, page.groups, page.last);
      run.progress.poke();
    },
    onGroup: (r: GroupReport) => {
      run.tally.add(pairKey, r);
      const change = dryRun ? plannedGroup(r, account, key) : undefined;
      if (change) {
        if (run.list) gathered.planned.push(change);
        planned++;
      }
      if (r.action === 'failed') {
        gathered.failures.push({
          ...(multi ? { account: task.account } : {}),
          region: task.region,
          name: r.name,
          reason: r.detail ?? '',
        });
        printer.warn(`${where} ${r.name}: ${r.detail ?? 'failed'}`);
      } else if (ctx.flags.verbose && r.action !== 'none')
        printer.log.info(`${where} ${r.name}: ${r.action}`);
      run.progress.poke();
    },
  }).finally(() => run.tally.ended(pairKey));
  // Enforce creates the guard key when its first group needs it: a dry run says so once for the pair.
  if (dryRun && kind === 'enforce' && !guard && !task.config.keyArn && planned > 0)
    gathered.creates.push({ account, region: task.region, keyAlias: task.config.keyAlias });
  const nextToken = result.state.nextToken;
  return {
    status:
      result.stopped === 'error'
        ? ('failed' as const)
        : result.stopped
          ? ('interrupted' as const)
          : ('done' as const),
    // The groups it reported, as the progress counted them (a page left half-way counts what it reported).
    counts: run.tally.countsOf(pairKey, result.state.counts.pages),
    ...(result.stopped && nextToken ? { nextToken } : {}),
    ...(result.stopped === 'error' ? { error: result.error } : {}),
    ...(account ? { account } : {}),
  };
}

/** Prints (and with --json writes) what the run did or, in a dry run, would do; the exit code. */
function reportBulk(ctx: Ctx, kind: BulkKind, run: BulkRun, resumed: boolean): number {
  const { io, printer, config } = ctx;
  const { result, failures } = run;
  const dryRun = config.dryRun;
  const multi = result.plan.multi;
  const pairs = reportPairs(result, ctx.regions);
  const totals = totalOf(result.outcomes);
  const perRegion = Object.fromEntries(
    result.outcomes
      .filter((o) => o.status !== 'skipped')
      .map((o) => [multi ? `${o.account}/${o.region}` : o.region, o.counts]),
  );
  const stopped = result.outcomes.filter((o) => o.status === 'interrupted' || o.status === 'not-started');
  const failed = result.outcomes.filter((o) => o.status === 'failed');
  const denied = pairs.filter((p) => p.skip === 'denied');
  const completeness = completenessOf(pairs);
  if (ctx.flags.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          command: kind,
          dryRun,
          scope: result.plan.scope,
          regions: perRegion,
          // False when some account × region was not done (failed, refused role, interrupted): see `errors`.
          complete: completeness.complete,
          errors: completeness.errors,
          totals: { ...totals, complete: completeness.complete },
          // Dry run: the groups it would change (each with its planned action) and the keys it would create.
          ...(dryRun ? { groups: run.planned, wouldCreate: run.creates } : {}),
          failures,
          accounts: accountsOf(pairs),
          pairs: publicPairs(pairs),
          ...(result.resume
            ? {
                interrupted: stopped.length > 0,
                resumeToken: result.resume.token,
                resumeCommand: result.resume.command,
              }
            : {}),
        },
        null,
        2,
      )}\n`,
    );
  } else if (dryRun) {
    if (run.planned.length) printer.out(planTable(run.planned));
    else printer.info(`dry run: no log group would be ${kind === 'enforce' ? 'encrypted' : 'disassociated'}`);
  }
  if (multi) printer.info(pairTable(pairs, kind));
  for (const line of skippedLines(result)) printer.warn(line);
  for (const create of run.creates) printer.info(`dry run: ${wouldCreateLine(create)}`);
  const headline = incompleteHeadline(completeness, dryRun ? 'checked' : 'done');
  if (headline) printer.warn(printer.style.red(headline));
  // The same label as audit's: totals of a run that did not finish cover only what was listed.
  const partial = stopped.length ? 'interrupted; partial totals: ' : headline ? 'partial totals: ' : '';
  printer.info(`${dryRun ? 'dry run: ' : ''}${partial}${totalsText(totals, kind, dryRun)}`);
  for (const o of failed)
    printer.error(`${multi ? `${o.account} ${o.region}: ` : ''}${o.reason ?? 'failed'}`);
  if (result.resume) {
    const again = result.resume.command;
    if (stopped.length)
      printer.info(
        `${printer.style.yellow('stopped')} cleanly between log groups; nothing is half-done. ${resumeText('Resume with', again)}`,
      );
    else printer.info(resumeText('after fixing that, resume with', again));
  } else if (resumed && !completeness.complete) printer.info(RERUN_SAME_TOKEN);
  if (stopped.length) return EXIT.interrupted;
  if (failed.length || denied.length)
    return failed.some((o) => isAwsFailure(o.error)) || denied.length ? EXIT.aws : EXIT.findings;
  return totals.failed > 0 ? EXIT.findings : EXIT.ok;
}

/**
 * Asks before changing anything (not for --dry-run or --yes), refusing first without a terminal to ask on. The
 * question names the account(s), region(s) and how many groups: a dry run of the same command counts them
 * just before (its progress shows; Ctrl-C there changes nothing). True to go on, else the exit code.
 */
async function confirmBulk(
  ctx: Ctx,
  kind: BulkKind,
  opts: BulkOptions,
  pace: BulkPace,
): Promise<true | number> {
  const { io, printer, config } = ctx;
  if (!io.stdinIsTTY || !io.prompt) {
    throw new UsageError(
      `refusing to ${kind} without confirmation: stdin is not a terminal; pass --yes to proceed, or --dry-run to see what would change`,
    );
  }
  printer.info(
    `counting the log groups ${kind} would change (a dry run first: nothing changes before you answer)`,
  );
  const dry: Ctx = { ...ctx, config: { ...config, dryRun: true } };
  const { result, creates } = await runBulk(dry, kind, opts, pace, false);
  if (
    io.signal?.aborted ||
    result.outcomes.some((o) => o.status === 'interrupted' || o.status === 'not-started')
  ) {
    printer.info('stopped while counting: nothing changed');
    return EXIT.interrupted;
  }
  const key = config.keyArn ? keyLabel(config.keyArn) : `the guard key ${config.keyAlias}`;
  const what =
    kind === 'enforce' ? `associate ${key} with` : `disassociate ${key} (the key itself is kept) from`;
  const label = (account: string) => account || 'this account';
  const question = promptText({
    what,
    counts: result.outcomes
      .filter((o) => o.status === 'done')
      .map((o) => ({
        account: o.account,
        region: o.region,
        groups: kind === 'enforce' ? o.counts.wouldEncrypt : o.counts.wouldDisassociate,
      })),
    uncounted: [
      ...result.outcomes
        .filter((o) => o.status === 'failed')
        .map((o) => `${label(o.account)} ${o.region}: ${o.reason ?? 'failed'}`),
      ...result.plan.skipped.filter((k) => k.kind === 'denied').map((k) => `${k.account}: ${k.reason}`),
    ],
    creates,
  });
  const answer = await io.prompt(question);
  if (/^y(es)?$/i.test(answer.trim())) return true;
  printer.info('nothing changed');
  return EXIT.ok;
}

/**
 * The buckets of one account-region of a bulk run. --rate paces AssociateKmsKey (DisassociateKmsKey) and the tag
 * read before each; sweepBuckets caps each at the published quota and slows down when throttled by other callers.
 * Those three hold two calls at most, not a second's worth: at a rate equal to the quota, a bucket as deep as
 * AWS's (one second, five calls) spends its burst together with AWS's and then runs in lockstep with it, so that
 * any two calls arriving closer together than they were sent (network jitter) are throttled, and each throttle
 * halves the rate for a while (`enforce --org` at the real quotas: 16 % throttled, 1.4× the floor). Two make up
 * for a timer that fired late and leave AWS's bucket three calls in hand.
 */
export function bulkBuckets(rate: number, clock?: Clock): SweepBuckets {
  const buckets = sweepBuckets({ associate: rate, disassociate: rate, tags: rate }, clock);
  const even = (which: 'associate' | 'disassociate' | 'tags') => {
    const r = Math.min(rate, LOGS_QUOTA_TPS[which]);
    const pacing = which === 'tags' ? {} : SHARED_QUOTA_PACING;
    return new AdaptiveTokenBucket(r, Math.min(2, Math.max(1, Math.floor(r))), clock, pacing);
  };
  return { ...buckets, associate: even('associate'), disassociate: even('disassociate'), tags: even('tags') };
}

/** Registers `enforce` or `rollback`: the two take the same options and differ only in what they change. */
export function registerBulk(
  program: Command,
  { act }: CommandDeps,
  kind: 'enforce' | 'rollback',
  description: string,
  lines: string[],
): void {
  examples(
    acrossAccounts(common(program.command(kind).description(description), { dryRun: true }))
      .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
      .option('--prefix <prefix>', 'only log groups whose names start with this')
      .option('--resume-token <token>', 'continue an interrupted run where it stopped (printed on Ctrl-C)')
      .option(
        '--rate <tps>',
        `${kind === 'enforce' ? 'AssociateKmsKey' : 'DisassociateKmsKey'} calls per second per account and region at most (max 5, the quota); slower while AWS throttles`,
        '5',
      )
      .option('--concurrency <n>', 'log groups in flight at once', '8')
      .option('--group-timeout <seconds>', 'how long one group may wait for KMS propagation', '300')
      // Hidden: named only to refuse it in the user's terms (audit's flag; enforce must read the opt-out tag).
      .addOption(new Option('--skip-opt-out-check').hideHelp()),
    lines,
  ).action(async function (this: Command) {
    await act<BulkOptions>((ctx, opts) => bulk(ctx, kind, opts))(this);
  });
}
