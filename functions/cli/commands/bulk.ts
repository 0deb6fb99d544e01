/**
 * What `enforce` and `rollback` share: one paced sweep that changes log groups in every account × region, with
 * confirmation first, progress while it runs, and a resume token when it stops.
 */
import type { Command } from 'commander';
import type { Clock } from '../../core/clock.ts';
import type { SweepMode } from '../../core/sweep/mode.ts';
import {
  LOGS_QUOTA_TPS,
  SHARED_QUOTA_PACING,
  type SweepBuckets,
  sweepBuckets,
} from '../../core/sweep/quotas.ts';
import { countReport, emptyCounts, type GroupReport } from '../../core/sweep/report.ts';
import { sweep } from '../../core/sweep/sweep.ts';
import { AdaptiveTokenBucket } from '../../core/token-bucket.ts';
import {
  accountsOf,
  orgFlagsOf,
  pairTable,
  publicPairs,
  reportPairs,
  runAcross,
  skippedLines,
  totalOf,
} from '../across.ts';
import { isAwsFailure, resolveAccount } from '../aws.ts';
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
import { UsageError } from '../errors.ts';
import { isAcross, type OrgFlags, type TargetPlan } from '../org.ts';
import { makeProgress } from '../progress.ts';
import { totalsText } from '../report.ts';

/** The flags of `enforce` and `rollback`. */
export interface BulkOptions extends OrgFlags {
  yes?: boolean;
  prefix?: string;
  resumeToken?: string;
  rate?: string;
  concurrency?: string;
  groupTimeout?: string;
}

/** Runs `enforce` or `rollback` over every account × region: confirms, paces, reports, and prints a resume token when stopped. */
export async function bulk(ctx: Ctx, kind: 'enforce' | 'rollback', opts: BulkOptions): Promise<number> {
  const { io, printer, config } = ctx;
  const rate = numberFlag(opts.rate, '--rate', { above: 0, max: 5 }, 5);
  const concurrency = numberFlag(opts.concurrency, '--concurrency', { above: 0, max: 64 }, 8);
  const groupTimeoutMs =
    numberFlag(opts.groupTimeout, '--group-timeout', { above: 0, max: 3600 }, 300) * 1000;
  const org = orgFlagsOf(opts as unknown as Record<string, unknown>);
  const multi = isAcross(org);
  const dryRun = config.dryRun;
  const verb =
    kind === 'enforce' ? (dryRun ? 'to encrypt' : 'encrypted') : dryRun ? 'to disassociate' : 'disassociated';
  const progress = makeProgress(io, { enabled: !ctx.flags.quiet && !ctx.flags.json, verb });
  const failures: { account?: string; region: string; name: string; reason: string }[] = [];
  // The live counts progress shows while a pair runs (the sweep's own counts arrive when the pair ends). Progress
  // reads none of what countReport counts beyond them (skipped duplicates; queued and at risk never occur here).
  let live = emptyCounts();
  const result = await runAcross(ctx, {
    command: kind,
    org,
    ...(opts.resumeToken ? { resumeToken: opts.resumeToken } : {}),
    beforeStart: (plan, pairs) => confirmBulk(ctx, kind, opts, plan, pairs),
    work: async (task) => {
      const account =
        kind === 'enforce' ? task.account || (await resolveAccount(task.clients, task.config)) : task.account;
      printer.log.info(`${kind} in ${account || 'this account'} ${task.region}`);
      const where = multi ? `${task.account} ${task.region}` : task.region;
      const result = await sweep({
        mode: kind as SweepMode,
        clients: task.clients,
        config: task.config,
        region: task.region,
        ...(account ? { account } : {}),
        log: printer.log,
        ...(io.clock ? { clock: io.clock } : {}),
        // --rate paces the tag read before each association too (else it, not --rate, would set the pace).
        buckets: bulkBuckets(rate, io.clock),
        concurrency,
        groupTimeoutMs,
        seen: new Set<string>(),
        ...(opts.prefix ? { prefix: opts.prefix } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(task.nextToken ? { resume: { nextToken: task.nextToken, counts: emptyCounts() } } : {}),
        onPage: (page) => task.checkpoint?.(page.nextToken),
        onGroup: (r: GroupReport) => {
          live = countReport(live, r);
          if (r.action === 'failed') {
            failures.push({
              ...(multi ? { account: task.account } : {}),
              region: task.region,
              name: r.name,
              reason: r.detail ?? '',
            });
            printer.warn(`${where} ${r.name}: ${r.detail ?? 'failed'}`);
          } else if (ctx.flags.verbose && r.action !== 'none')
            printer.log.info(`${where} ${r.name}: ${r.action}`);
          progress.update(multi ? 'accounts' : task.region, live);
        },
      });
      const nextToken = result.state.nextToken;
      return {
        status: result.stopped === 'error' ? 'failed' : result.stopped ? 'interrupted' : 'done',
        counts: result.state.counts,
        ...(result.stopped && nextToken ? { nextToken } : {}),
        ...(result.stopped === 'error' ? { error: result.error } : {}),
        ...(account ? { account } : {}),
      };
    },
  });
  progress.stop();
  if (!result) return EXIT.ok;
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
  }
  if (multi) printer.info(pairTable(pairs, kind));
  for (const line of skippedLines(result)) printer.warn(line);
  const headline = incompleteHeadline(completeness, dryRun ? 'checked' : 'done');
  if (headline) printer.warn(printer.style.red(headline));
  printer.info(`${dryRun ? 'dry run: ' : ''}${totalsText(totals, kind, dryRun)}`);
  for (const o of failed)
    printer.error(`${multi ? `${o.account} ${o.region}: ` : ''}${o.reason ?? 'failed'}`);
  if (result.resume) {
    const again = result.resume.command;
    if (stopped.length)
      printer.info(
        `${printer.style.yellow('stopped')} cleanly between log groups; nothing is half-done. Resume with:\n  ${again}`,
      );
    else printer.info(`after fixing that, resume with:\n  ${again}`);
  }
  if (stopped.length) return EXIT.interrupted;
  if (failed.length || denied.length)
    return failed.some((o) => isAwsFailure(o.error)) || denied.length ? EXIT.aws : EXIT.findings;
  return totals.failed > 0 ? EXIT.findings : EXIT.ok;
}

/** Asks before changing anything (not for --dry-run or --yes); refuses without a terminal to ask on. */
async function confirmBulk(
  ctx: Ctx,
  kind: 'enforce' | 'rollback',
  opts: BulkOptions,
  plan: TargetPlan,
  pairs: number,
): Promise<boolean> {
  const { io, printer, config } = ctx;
  if (config.dryRun || opts.yes) return true;
  const what =
    kind === 'enforce'
      ? `associate ${config.keyArn ?? `the key behind ${config.keyAlias} (created if missing)`} with every unencrypted log group in scope`
      : `disassociate ${config.keyArn ?? `the key behind ${config.keyAlias}`} from every log group that uses it (the key itself is kept)`;
  if (!io.stdinIsTTY || !io.prompt) {
    throw new UsageError(
      `refusing to ${kind} without confirmation: stdin is not a terminal; pass --yes to proceed, or --dry-run to see what would change`,
    );
  }
  const where = plan.multi
    ? `${plan.targets.length} account(s) × ${ctx.regions.join(', ')} (${pairs} account-region pair(s))`
    : opts.resumeToken
      ? `the ${pairs} region(s) left by the interrupted run`
      : ctx.regions.join(', ');
  const answer = await io.prompt(`This will ${what} in ${where}. Proceed? [y/N] `);
  if (/^y(es)?$/i.test(answer.trim())) return true;
  printer.info('nothing changed');
  return false;
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
      .option('--group-timeout <seconds>', 'how long one group may wait for KMS propagation', '300'),
    lines,
  ).action(async function (this: Command) {
    await act<BulkOptions>((ctx, opts) => bulk(ctx, kind, opts))(this);
  });
}
