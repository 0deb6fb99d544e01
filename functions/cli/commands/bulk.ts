import type { Command } from 'commander';
import {
  addCounts,
  emptyCounts,
  type GroupReport,
  type SweepCounts,
  type SweepMode,
  sweep,
  sweepBuckets,
} from '../../core/sweep.ts';
import { describeAwsError, isAwsFailure, isRegionDisabled, resolveAccount } from '../aws.ts';
import { type CommandDeps, type Ctx, common, EXIT, examples, positive } from '../context.ts';
import {
  decodeResume,
  encodeResume,
  makeProgress,
  resumeCommand,
  totalsText,
  UsageError,
} from '../report.ts';

/** The flags of `enforce` and `rollback`. */
export interface BulkOptions {
  yes?: boolean;
  prefix?: string;
  resumeToken?: string;
  rate?: string;
  concurrency?: string;
  groupTimeout?: string;
}

/** Runs `enforce` or `rollback` over every region: confirms, paces, reports, and prints a resume token when stopped. */
export async function bulk(ctx: Ctx, kind: 'enforce' | 'rollback', opts: BulkOptions): Promise<number> {
  const { io, printer, config } = ctx;
  const rate = positive(opts.rate, '--rate', 4, 5);
  const concurrency = positive(opts.concurrency, '--concurrency', 8, 64);
  const groupTimeoutMs = positive(opts.groupTimeout, '--group-timeout', 300, 3600) * 1000;
  let regions = ctx.regions;
  let startToken: string | undefined;
  if (opts.resumeToken) {
    const point = decodeResume(opts.resumeToken, kind);
    regions = [point.region, ...point.rest];
    startToken = point.nextToken;
  }
  const dryRun = config.dryRun;
  if (!dryRun && !opts.yes) {
    const what =
      kind === 'enforce'
        ? `associate ${config.keyArn ?? `the key behind ${config.keyAlias} (created if missing)`} with every unencrypted log group in scope`
        : `disassociate ${config.keyArn ?? `the key behind ${config.keyAlias}`} from every log group that uses it (the key itself is kept)`;
    if (!io.stdinIsTTY || !io.prompt) {
      throw new UsageError(
        `refusing to ${kind} without confirmation: stdin is not a terminal; pass --yes to proceed, or --dry-run to see what would change`,
      );
    }
    const answer = await io.prompt(`This will ${what} in ${regions.join(', ')}. Proceed? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      printer.info('nothing changed');
      return EXIT.ok;
    }
  }
  const verb =
    kind === 'enforce' ? (dryRun ? 'to encrypt' : 'encrypted') : dryRun ? 'to disassociate' : 'disassociated';
  const progress = makeProgress(io, { enabled: !ctx.flags.quiet && !ctx.flags.json, verb });
  let totals = emptyCounts();
  const failures: { region: string; name: string; reason: string }[] = [];
  const seen = new Set<string>();
  const perRegion: Record<string, SweepCounts> = {};
  const finish = (extra: Record<string, unknown>) => {
    progress.stop();
    if (ctx.flags.json) {
      io.stdout.write(
        `${JSON.stringify({ command: kind, dryRun, regions: perRegion, totals, failures, ...extra }, null, 2)}\n`,
      );
    }
    printer.info(`${dryRun ? 'dry run: ' : ''}${totalsText(totals, kind, dryRun)}`);
  };
  for (let i = 0; i < regions.length; i++) {
    const region = regions[i] as string;
    const clients = ctx.clients(region);
    let account: string | undefined;
    try {
      if (kind === 'enforce') account = await resolveAccount(clients, config);
    } catch (err) {
      if (ctx.flags.allRegions && isRegionDisabled(err)) {
        printer.warn(`${region}: not enabled for this account; skipped`);
        continue;
      }
      throw err;
    }
    printer.log.info(`${kind} in ${region}`);
    const live = emptyCounts();
    const mode: SweepMode = kind;
    const result = await sweep({
      mode,
      clients,
      config,
      region,
      ...(account ? { account } : {}),
      log: printer.log,
      ...(io.clock ? { clock: io.clock } : {}),
      // --rate paces the tag read before each association too (else it, not --rate, would set the pace);
      // sweepBuckets caps each at the published quota and slows down when throttled by other callers.
      buckets: sweepBuckets({ associate: rate, disassociate: rate, tags: rate }, io.clock),
      concurrency,
      groupTimeoutMs,
      seen,
      ...(opts.prefix ? { prefix: opts.prefix } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(i === 0 && startToken ? { resume: { nextToken: startToken, counts: emptyCounts() } } : {}),
      onGroup: (r: GroupReport) => {
        tally(live, r);
        if (r.action === 'failed') {
          failures.push({ region, name: r.name, reason: r.detail ?? '' });
          printer.warn(`${region} ${r.name}: ${r.detail ?? 'failed'}`);
        } else if (ctx.flags.verbose && r.action !== 'none')
          printer.log.info(`${region} ${r.name}: ${r.action}`);
        progress.update(region, live);
      },
    });
    perRegion[region] = result.state.counts;
    totals = addCounts(totals, result.state.counts);
    if (result.stopped) {
      const token = encodeResume({
        command: kind,
        region,
        ...(result.state.nextToken ? { nextToken: result.state.nextToken } : {}),
        rest: regions.slice(i + 1),
      });
      const again = resumeCommand(ctx.argv, token);
      finish({ interrupted: result.stopped !== 'error', resumeToken: token, resumeCommand: again });
      if (result.stopped === 'error') {
        printer.error(describeAwsError(result.error));
        printer.info(`after fixing that, resume with:\n  ${again}`);
        return isAwsFailure(result.error) ? EXIT.aws : EXIT.findings;
      }
      printer.info(
        `${printer.style.yellow('stopped')} cleanly between log groups; nothing is half-done. Resume with:\n  ${again}`,
      );
      return EXIT.interrupted;
    }
  }
  finish({});
  return totals.failed > 0 ? EXIT.findings : EXIT.ok;
}

/** Live counts from group reports, for progress. */
function tally(c: SweepCounts, r: GroupReport): void {
  c.listed++;
  const state = {
    'guard-key': 'guardKey',
    'other-key': 'otherKey',
    'no-key': 'noKey',
    'key-unusable': 'keyUnusable',
  } as const;
  c[state[r.keyState]]++;
  if (r.action === 'none' && !r.inScope) {
    if (r.reserved) c.reserved++;
    else c.outOfScope++;
  }
  const action = {
    encrypted: 'encrypted',
    'would-encrypt': 'wouldEncrypt',
    disassociated: 'disassociated',
    'would-disassociate': 'wouldDisassociate',
    failed: 'failed',
    'group-gone': 'gone',
  } as const;
  const key = action[r.action as keyof typeof action];
  if (key) {
    c[key]++;
    c.candidates++;
  }
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
    common(program.command(kind).description(description), { dryRun: true })
      .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
      .option('--prefix <prefix>', 'only log groups whose names start with this')
      .option('--resume-token <token>', 'continue an interrupted run where it stopped (printed on Ctrl-C)')
      .option(
        '--rate <tps>',
        `${kind === 'enforce' ? 'AssociateKmsKey' : 'DisassociateKmsKey'} calls per second at most (max 5, the account quota); slower while AWS throttles`,
        '4',
      )
      .option('--concurrency <n>', 'log groups in flight at once', '8')
      .option('--group-timeout <seconds>', 'how long one group may wait for KMS propagation', '300'),
    lines,
  ).action(async function (this: Command) {
    await act<BulkOptions>((ctx, opts) => bulk(ctx, kind, opts))(this);
  });
}
