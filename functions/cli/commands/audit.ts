/**
 * `audit`: the read-only report of every log group's key state across accounts and regions (table, CSV, JSON or
 * one HTML page), its totals and the groups at risk, and an exit code that says whether anything needs fixing.
 */
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { type Command, Option } from 'commander';
import type { GuardConfig } from '../../core/config.ts';
import { findGuardKey } from '../../core/key.ts';
import { hasQueryResultsStatement, parsePolicy } from '../../core/policy.ts';
import { sweepBuckets } from '../../core/sweep/quotas.ts';
import {
  type AuditTally,
  countAudited,
  emptyAuditTally,
  emptyCounts,
  type GroupReport,
  type RiskCounts,
  type SweepCounts,
} from '../../core/sweep/report.ts';
import { sweep } from '../../core/sweep/sweep.ts';
import {
  type AcrossResult,
  accountsOf,
  orgFlagsOf,
  type PairDone,
  type PairOutcome,
  type PairTask,
  pairTable,
  publicPairs,
  type ReportPair,
  reportPairs,
  runAcross,
  skippedLines,
  totalOf,
} from '../across.ts';
import { type CliClients, describeAwsError, oldestPendingCall } from '../aws.ts';
import { type Completeness, completenessOf, incompleteHeadline } from '../completeness.ts';
import { acrossAccounts, type CliCommand, type Ctx, common, EXIT, examples } from '../context.ts';
import { type FoughtGroup, fightsText, foughtLines, foughtSummary, readFights } from '../fights.ts';
import { type ReportRow, type RunReport, renderHtml } from '../html.ts';
import { checkKeyArnUpFront } from '../key-check.ts';
import { type PreviousKeyView, previousKeyLines, previousKeyRisks } from '../key-history.ts';
import { DEFAULT_ROLE_NAME, isAcross, type OrgFlags } from '../org.ts';
import { makeProgress, type Progress } from '../progress.ts';
import { queryResultsLines } from '../query-results.ts';
import { type AuditRow, auditRow, type Format, tableWidth, totalsText } from '../report.ts';
import { reportPath } from '../resume-out.ts';
import { RERUN_SAME_TOKEN, resumeText } from '../resume-token.ts';
import { RunTally } from '../run-tally.ts';
import { type Output, openOutput, type RowWriter, rowWriter } from '../sink.ts';
import { VERSION } from '../version.ts';

/** The flags of `audit`. */
interface AuditOptions extends OrgFlags {
  format: Format;
  out?: string;
  prefix?: string;
  unencrypted?: boolean;
  resumeToken?: string;
  /** Not a flag: the report of the interrupted run a resumed run left as it was (its own goes beside it). */
  resumedFrom?: string;
  skipOptOutCheck?: boolean;
  /** Read every group's key-dependency records (one ListTagsForResource each) for the previous-key view. */
  keyRecords?: boolean;
  force?: boolean;
}

/** What a report says of a run with --skip-opt-out-check. */
const OPT_OUT_SKIPPED =
  'skipped (--skip-opt-out-check): no tags were read; groups tagged to opt out are counted as unencrypted in scope';

/** How many gap rows the HTML report lists (and `atRisk` reads); the counts always cover every group. */
const GAP_ROWS_MAX = 50_000;

/** Unencrypted in scope, on an unusable key, at risk, or fought over: what `--unencrypted` and the HTML report list. */
function isGap(r: AuditRow): boolean {
  return (
    (r.keyState === 'no-key' && r.inScope) ||
    r.keyState === 'key-unusable' ||
    r.atRisk !== '' ||
    r.foughtBy !== ''
  );
}

/** What an audit gathers while it runs: its output, the gap rows for the HTML report, and its tallies. */
interface AuditState {
  output?: Output;
  writer?: RowWriter;
  gaps: ReportRow[];
  /** Gap rows past GAP_ROWS_MAX, left out of the HTML report. */
  gapsLeftOut: number;
  tally: AuditTally;
  /** Each pair's counts and listing: what the progress shows and the pairs' outcomes report. */
  counts: RunTally;
  progress: Progress;
  /** The groups infrastructure as code keeps taking the key from (functions/cli/fights.ts). */
  fought: FoughtGroup[];
  /** Each audited pair's view of the groups depending on an unusable previous key (cli/key-history.ts). */
  previousKeys: { where: string; view?: PreviousKeyView; error?: string }[];
}

/** A finished audit run, as the report and the closing lines read it. */
interface AuditRun {
  result: AcrossResult;
  pairs: ReportPair[];
  totals: SweepCounts;
  /** The pairs audited, wholly or until interrupted. */
  done: PairOutcome[];
  interrupted: boolean;
  /** Whether every account × region asked for was audited, and the errors of those that were not. */
  completeness: Completeness;
  multi: boolean;
  org: OrgFlags;
  format: Format;
  startedAt: string;
  finishedAt: string;
}

/** `audit`: every account × region swept read-only, the report written, the totals and findings printed. */
async function audit(ctx: Ctx, opts: AuditOptions): Promise<number> {
  const { io } = ctx;
  const format: Format = ctx.flags.json ? 'json' : opts.format;
  const org = orgFlagsOf(opts as unknown as Record<string, unknown>);
  const now = () => io.clock?.now() ?? Date.now();
  const startedAt = new Date(now()).toISOString();
  const multi = isAcross(org);
  // A resumed run never writes over the report of the run it resumes (it lists only what was left).
  const out = io.writeFile ? opts.out : reportPath(opts.out, Boolean(opts.resumeToken));
  const reportOpts = {
    ...opts,
    ...(out ? { out } : {}),
    ...(out !== opts.out ? { resumedFrom: opts.out } : {}),
  };
  const counts = new RunTally(multi);
  const progress = makeProgress(io, {
    enabled: !ctx.flags.quiet,
    words: {},
    read: () => counts.snapshot(),
    waiting: oldestPendingCall,
  });
  const state: AuditState = {
    gaps: [],
    gapsLeftOut: 0,
    tally: emptyAuditTally(),
    counts,
    progress,
    fought: [],
    previousKeys: [],
  };
  // A --key-arn of another account, or one that does not exist: refused up front, as enforce refuses it.
  if (!multi) await checkKeyArnUpFront(ctx, { usable: false });
  if (opts.skipOptOutCheck)
    ctx.printer.warn(
      'the opt-out check is skipped (--skip-opt-out-check): no tags are read, and groups tagged to opt out are reported as unencrypted in scope',
    );
  const result = await runAcross(ctx, {
    command: 'audit',
    org,
    ...(opts.resumeToken ? { resumeToken: opts.resumeToken } : {}),
    beforeStart: async (_plan, pairs) => {
      counts.expect(pairs);
      // Opened only once the accounts are known: a usage or Organizations error leaves no half-written file.
      if (out !== opts.out)
        ctx.printer.warn(
          `${opts.out} holds the report of the interrupted run: kept as it is; this run's report (the account-regions it left) goes to ${out}`,
        );
      state.output = openOutput(io, out, { overwrite: Boolean(opts.force || opts.resumeToken) });
      state.writer = rowWriter(format, state.output, ctx.regions, {
        // A file gets the width a pipe gets; the guard key is named by its alias unless --key-arn names the key.
        width: tableWidth(out ? {} : io.stdout, io.env),
        ...(ctx.config.keyArn ? {} : { guardAlias: ctx.config.keyAlias }),
        observedAt: startedAt,
      });
      if (io.interrupt) {
        const writer = state.writer;
        io.interrupt.readOnly = true;
        // A second Ctrl-C quits at once: the report so far still ends as a document that says so.
        io.interrupt.closeReport = () =>
          writer.abandon({
            interrupted: true,
            complete: false,
            totals: { ...counts.total(), complete: false },
          });
      }
      return true;
    },
    work: (task) => auditPair(ctx, opts, task, state),
  });
  progress.stop();
  if (io.interrupt) delete io.interrupt.closeReport;
  if (!result || !state.writer || !state.output) return EXIT.ok;
  const pairs = reportPairs(result, ctx.regions);
  const run: AuditRun = {
    result,
    pairs,
    completeness: completenessOf(pairs),
    totals: totalOf(result.outcomes),
    done: result.outcomes.filter((o) => o.status === 'done' || o.status === 'interrupted'),
    interrupted: result.outcomes.some((o) => o.status === 'interrupted' || o.status === 'not-started'),
    multi,
    org,
    format,
    startedAt,
    finishedAt: new Date(now()).toISOString(),
  };
  await writeAuditReport(ctx, reportOpts, state, run);
  printAuditSummary(ctx, reportOpts, state, run);
  return auditExitCode(ctx, run, state);
}

/** Audits one account × region: sweeps it read-only, each group a row, then reads its query-results state. */
async function auditPair(ctx: Ctx, opts: AuditOptions, task: PairTask, state: AuditState): Promise<PairDone> {
  const { io, printer } = ctx;
  printer.log.info(`auditing ${task.account || 'this account'} ${task.region}`);
  let account: string | undefined;
  const key = `${task.account}/${task.region}`;
  // The enforce function's fight records: which groups infrastructure as code keeps taking the key from.
  const fights = await readFights(task.clients);
  if (fights.error) {
    printer.warn(
      `${task.account ? `${task.account} ` : ''}${task.region}: the groups fought over by infrastructure as code could not be read (${fights.error})`,
    );
  }
  const result = await sweep({
    mode: 'audit',
    clients: task.clients,
    config: task.config,
    region: task.region,
    ...(task.account ? { account: task.account } : {}),
    log: printer.log,
    ...(io.clock ? { clock: io.clock } : {}),
    checkKeys: true,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(task.nextToken ? { resume: { nextToken: task.nextToken, counts: emptyCounts() } } : {}),
    buckets: sweepBuckets({}, io.clock),
    ...(opts.skipOptOutCheck ? { skipOptOutCheck: true } : {}),
    onPage: (page) => {
      state.counts.pageDone(key);
      return task.checkpoint?.(page.nextToken);
    },
    onListed: (page) => {
      state.counts.listed(key, page.groups, page.last);
      state.progress.poke();
    },
    onChecked: () => {
      state.counts.checked(key);
      state.progress.poke();
    },
    onGroup: (r) => {
      const records = fights.byGroup.get(r.name);
      if (records) r.foughtBy = fightsText(records);
      state.counts.add(key, r);
      state.tally = countAudited(state.tally, r);
      const row = pairRow(task, r);
      if (records) state.fought.push({ row, records });
      account ??= row.account;
      addRow(state, row, Boolean(opts.unencrypted));
      state.progress.poke();
    },
  })
    .catch((err) => ({
      error: err as Error,
      stopped: 'error' as const,
      done: false,
      state: { counts: emptyCounts(), nextToken: task.nextToken },
    }))
    .finally(() => state.counts.ended(key));
  // The groups it reported, as the progress counted them (a page left half-way counts what it reported).
  const counts = state.counts.countsOf(key, result.state.counts.pages);
  const nextToken = result.state.nextToken;
  const known = account ? { account } : {};
  if (result.stopped === 'error')
    return {
      status: 'failed',
      counts,
      error: result.error,
      ...(nextToken ? { nextToken } : {}),
      ...known,
    };
  const queryResults = await queryResultsState(task.clients, task.config);
  if (result.stopped !== 'signal' && !io.signal?.aborted)
    await auditPreviousKeys(ctx, opts, task, state, account);
  return {
    status: result.stopped === 'signal' ? 'interrupted' : 'done',
    counts,
    queryResults,
    ...(result.stopped === 'signal' && nextToken ? { nextToken } : {}),
    ...known,
  };
}

/** A group's report row, named by the pair's account where known (an endpoint may answer without ARNs). */
function pairRow(task: PairTask, r: GroupReport): ReportRow {
  const base = auditRow(r);
  return {
    ...base,
    account: task.account || base.account,
    ...(task.accountName ? { accountName: task.accountName } : {}),
  };
}

/** Keeps a gap row for the HTML report (up to GAP_ROWS_MAX) and writes the row, or only gaps with --unencrypted. */
function addRow(state: AuditState, row: ReportRow, onlyGaps: boolean): void {
  const gap = isGap(row);
  if (gap) {
    if (state.gaps.length < GAP_ROWS_MAX) state.gaps.push(row);
    else state.gapsLeftOut++;
  }
  if (!onlyGaps || gap) state.writer?.add(row);
}

/** Writes the report's summary (JSON fields, CSV nothing more, the whole HTML page) and closes the output. */
async function writeAuditReport(
  ctx: Ctx,
  opts: AuditOptions,
  state: AuditState,
  run: AuditRun,
): Promise<void> {
  const { config } = ctx;
  const { result, pairs, totals, done, multi, org } = run;
  const disabled = result.outcomes.filter((o) => o.skip === 'region-disabled');
  const resumed = opts.resumeToken ? resumedText(opts.resumedFrom) : undefined;
  const summary = {
    command: 'audit',
    scope: result.plan.scope,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    // A single-account run keeps the fields it always had; `pairs` has them per account too.
    // The regions audited (in some account), each once; `pairs` says which account-region was.
    regions: [...new Set(done.map((o) => o.region))],
    // The regions not enabled in some account, each once; `skippedPairs` names the accounts.
    skippedRegions: [...new Set(disabled.map((o) => o.region))],
    skippedPairs: disabled.map((o) => ({ account: o.account, region: o.region, reason: o.reason ?? '' })),
    interrupted: run.interrupted,
    // `skipped` (--skip-opt-out-check): no tags were read; groups tagged to opt out count as unencrypted in scope.
    optOutCheck: opts.skipOptOutCheck ? 'skipped' : 'performed',
    // False when some account × region was not audited (failed, refused role, interrupted): see `errors`.
    complete: run.completeness.complete,
    errors: run.completeness.errors,
    // The counts of what was listed; `totals.complete` false: they leave out the pairs in `errors`.
    totals: { ...totals, complete: run.completeness.complete },
    queryResults: Object.fromEntries(
      done.map((o) => [multi ? `${o.account}/${o.region}` : o.region, o.queryResults ?? '']),
    ),
    accounts: accountsOf(pairs),
    pairs: publicPairs(pairs),
    // The groups infrastructure as code keeps taking the key from, each with the fix for its tool.
    foughtOver: state.fought.map(foughtSummary),
    ...(result.resume ? { resumeToken: result.resume.token, resumeCommand: result.resume.command } : {}),
    // A resumed run's report is a part: it says so in itself, not only on stderr.
    ...(resumed ? { resumed } : {}),
  };
  if (run.format === 'html') {
    const report: RunReport = {
      tool: { name: 'logs-kms-guard', version: VERSION },
      command: 'audit',
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      scope: {
        accounts: result.plan.scope,
        regions: ctx.regions,
        include: config.include.map((p) => p.source),
        exclude: config.exclude.map((p) => p.source),
        keyAlias: config.keyAlias,
        ...(config.keyArn ? { keyArn: config.keyArn } : {}),
        ...(multi ? { roleName: org.roleName ?? DEFAULT_ROLE_NAME } : {}),
        ...(opts.prefix ? { prefix: opts.prefix } : {}),
        ...(opts.skipOptOutCheck ? { optOutCheck: OPT_OUT_SKIPPED } : {}),
        ...(resumed ? { resumed } : {}),
      },
      pairs: publicPairs(pairs),
      totals,
      rows: state.gaps,
      ...(state.gapsLeftOut ? { rowsTruncated: state.gapsLeftOut } : {}),
    };
    state.output?.write(renderHtml(report));
  }
  state.writer?.finish(summary, run.completeness);
  if (opts.skipOptOutCheck && (run.format === 'csv' || run.format === 'table'))
    state.output?.write(`${run.format === 'csv' ? '# ' : ''}opt-out check: ${OPT_OUT_SKIPPED}\n`);
  if (resumed && (run.format === 'csv' || run.format === 'table'))
    state.output?.write(`${run.format === 'csv' ? '# ' : ''}resumed: ${resumed}\n`);
  await state.output?.close();
}

/** What a resumed run's report says of itself: the run it continues (its report, when one was written). */
function resumedText(out: string | undefined): string {
  const first = out ? `; the interrupted run's report is ${out}` : '';
  return `this run continues an interrupted audit (--resume-token) and covers only the account-regions it left, from the page each stopped in${first}`;
}

/** The lines on stderr after the report: where it went, the pairs, the totals, what is at risk, how to resume. */
function printAuditSummary(ctx: Ctx, opts: AuditOptions, state: AuditState, run: AuditRun): void {
  const { printer } = ctx;
  const { result, totals, multi } = run;
  if (opts.out) printer.info(`report written to ${opts.out}`);
  if (multi) printer.info(pairTable(run.pairs));
  if (multi) {
    const line = accountsLine(run.pairs, run.completeness);
    if (run.completeness.complete) printer.info(line);
    else printer.warn(line);
  }
  for (const line of skippedLines(result)) printer.warn(line);
  // Information, once per state (optional: EncryptQueryResults=true), never a finding.
  for (const line of queryResultsLines(run.done, multi)) printer.info(line);
  const headline = incompleteHeadline(run.completeness);
  if (headline) printer.warn(printer.style.red(headline));
  printer.info(
    `${run.interrupted ? 'interrupted; partial totals: ' : headline ? 'partial totals: ' : ''}${totalsText(totals, 'audit', false)}`,
  );
  if (totals.keyUnusable > 0) {
    printer.warn(
      `${totals.keyUnusable} log group(s) use a key that is not enabled: their data cannot be read or written`,
    );
  }
  if (state.tally.unchecked > 0) {
    printer.warn(
      `${state.tally.unchecked} log group(s) use a key whose policy could not be read (kms:GetKeyPolicy): not checked for CloudWatch Logs`,
    );
  }
  if (totals.atRisk > 0) printer.info(printer.style.red(atRiskText(state.tally.risks)));
  for (const line of foughtLines(state.fought)) printer.warn(line);
  printPreviousKeys(ctx, state, multi);
  if (result.resume) printer.info(resumeText('resume with', result.resume.command));
  else if (opts.resumeToken && !run.completeness.complete) printer.info(RERUN_SAME_TOKEN);
  // Last, so that the cause is what a terminal shows at the bottom.
  for (const o of result.outcomes.filter((x) => x.status === 'failed')) {
    const where = multi ? `${o.account} ${o.region}: ` : '';
    printer.error(`${where}${o.reason ?? 'failed'}`);
  }
}

/** "accounts: 4 of 6 fully audited; 2 not (…)": which accounts the run did not finish, said plainly. */
function accountsLine(pairs: ReportPair[], completeness: Completeness): string {
  const accounts = accountsOf(pairs);
  const done = accounts.filter((a) => a.status === 'done').length;
  const bad = new Set(completeness.errors.map((e) => e.account));
  const skipped = accounts.filter((a) => a.status !== 'done' && !bad.has(a.account)).length;
  return `accounts: ${done} of ${accounts.length} fully audited${bad.size ? `; ${bad.size} not finished (failed or interrupted): INCOMPLETE` : ''}${skipped ? `; ${skipped} with skipped regions or suspended (nothing to audit there)` : ''}`;
}

/** The exit code: 130 interrupted, 3 a pair failed or was denied, 1 findings (unencrypted, at risk, fought over, or a previous key at risk), else 0. */
function auditExitCode(ctx: Ctx, run: AuditRun, state: AuditState): number {
  const { printer } = ctx;
  const { totals } = run;
  if (run.interrupted) return EXIT.interrupted;
  if (totals.candidates > 0) {
    printer.info(
      printer.style.red(
        `${totals.candidates} log group(s) in scope are not encrypted with a customer-managed key`,
      ),
    );
  }
  const failed = run.pairs.filter((p) => p.status === 'failed' || p.skip === 'denied');
  if (failed.length) return EXIT.aws;
  const previousAtRisk = state.previousKeys.some((p) => (p.view?.risks.length ?? 0) > 0);
  return totals.candidates > 0 || totals.atRisk > 0 || state.fought.length > 0 || previousAtRisk
    ? EXIT.findings
    : EXIT.ok;
}

/**
 * The at-risk view of previous keys for one audited pair: groups whose data from before their key changed needs
 * a key now disabled or pending deletion (the guard's records, and CloudTrail's last 90 days, best effort).
 */
async function auditPreviousKeys(
  ctx: Ctx,
  opts: AuditOptions,
  task: PairTask,
  state: AuditState,
  account: string | undefined,
): Promise<void> {
  const where = task.account ? `${task.account} ${task.region}: ` : '';
  try {
    const view = await previousKeyRisks({
      clients: task.clients,
      region: task.region,
      account: task.account || account,
      prefix: opts.prefix,
      readTags: Boolean(opts.keyRecords) && !opts.skipOptOutCheck,
      clock: ctx.io.clock,
      signal: ctx.io.signal,
    });
    state.previousKeys.push({ where, view });
  } catch (err) {
    state.previousKeys.push({ where, error: describeAwsError(err) });
  }
}

/** The previous-key lines of every pair, after the at-risk summary. */
function printPreviousKeys(ctx: Ctx, state: AuditState, multi: boolean): void {
  const { printer } = ctx;
  const risks = state.previousKeys.reduce((n, p) => n + (p.view?.risks.length ?? 0), 0);
  if (risks > 0) {
    printer.info(
      printer.style.red(
        `${risks} log group(s) depend on a previous key that is disabled or pending deletion (their data from before the key changed, until retention removes it); enable the key (or cancel its deletion):`,
      ),
    );
  }
  for (const p of state.previousKeys) {
    const where = multi ? p.where : '';
    if (p.error) printer.warn(`${where}previous keys not checked: ${p.error}`);
    if (!p.view) continue;
    const lines = previousKeyLines(p.view, where);
    for (const line of lines.risks) printer.info(`  ${line}`);
    for (const line of lines.notes) printer.warn(line);
  }
}

/** The summary of the groups at risk: how many for each reason, the earliest date, what to do. */
function atRiskText(t: RiskCounts): string {
  const pending = t['key-pending-deletion'];
  const disabled = t['key-disabled'];
  const policy = t['key-policy-excludes-logs'];
  const earliest = t.earliest;
  const parts = [
    ...(pending
      ? [`${pending} on a key pending deletion${earliest ? ` (unreadable from ${earliest})` : ''}`]
      : []),
    ...(disabled ? [`${disabled} on a disabled key`] : []),
    ...(policy ? [`${policy} on a key whose policy does not admit CloudWatch Logs`] : []),
  ];
  const fixes = [
    ...(pending ? ['cancel the deletion (aws kms cancel-key-deletion, then enable-key)'] : []),
    ...(disabled ? ['enable the key (aws kms enable-key)'] : []),
    ...(policy
      ? ['restore the CloudWatch Logs statement (logs-kms-guard key setup, for the guard key)']
      : []),
  ];
  return `${pending + disabled + policy} log group(s) at risk of losing their data: ${parts.join(', ')}; ${fixes.join('; ')}`;
}

/**
 * Whether the account's Insights query results are encrypted with the guard key. AWS offers no call to read
 * that association back; the guard key's policy statement for them is what the deployment leaves
 * (EncryptQueryResults=true writes it and associates the results).
 */
async function queryResultsState(clients: CliClients, config: GuardConfig): Promise<string> {
  try {
    const key = await findGuardKey(clients, config);
    if (!key?.Arn) return 'not encrypted with the guard key (no guard key)';
    const out = await clients.kms.send(new GetKeyPolicyCommand({ KeyId: key.Arn, PolicyName: 'default' }));
    return hasQueryResultsStatement(parsePolicy(out.Policy ?? ''))
      ? `encrypted with ${key.Arn} (associated at deployment: the key admits CloudWatch Logs for them)`
      : 'not encrypted with the guard key (optional: EncryptQueryResults=true)';
  } catch (err) {
    return `unknown (${(err as Error).name})`;
  }
}

/** `audit`: the read-only report of every log group's key state. */
export const auditCommand: CliCommand = {
  name: 'audit',
  register(program, { act }) {
    examples(
      acrossAccounts(
        common(
          program
            .command('audit')
            .description(
              'List every log group with its key state; exit code 1 when log groups in scope are unencrypted, any is at risk (key pending deletion, disabled, or its policy shuts CloudWatch Logs out), or infrastructure as code keeps taking the key from one.',
            ),
        ),
      )
        .addOption(
          new Option(
            '--format <format>',
            'output format (html: one self-contained page; asff, ocsf: a JSON array of one finding per log group, AWS Security Finding Format or OCSF Compliance Finding)',
          )
            .choices(['table', 'json', 'csv', 'html', 'asff', 'ocsf'])
            .default('table'),
        )
        .option(
          '--out <file>',
          'write the report to a new file (mode 0600; never through a symbolic link) instead of stdout',
        )
        .option('--force', 'overwrite the --out file if it exists')
        .option(
          '--key-records',
          "also read every group's key-dependency records for the previous-key view (one ListTagsForResource per group)",
        )
        .option('--prefix <prefix>', 'only log groups whose names start with this')
        .option(
          '--unencrypted',
          'list only the gaps: unencrypted groups in scope, groups on an unusable key, groups at risk, and groups infrastructure as code keeps taking the key from',
        )
        .option(
          '--resume-token <token>',
          'audit only the account-regions an interrupted run left (printed on Ctrl-C)',
        )
        .option(
          '--skip-opt-out-check',
          'do not read the tags of unencrypted groups (ListTagsForResource, about 4 groups/s per account-region): much faster, but you accept that groups carrying the opt-out tag are reported as unencrypted in scope; the report says the check was skipped',
        ),
      [
        'logs-kms-guard audit --region eu-west-1',
        'logs-kms-guard audit --all-regions --format csv --out groups.csv',
        'logs-kms-guard audit --org --regions eu-west-1,us-east-1 --format html --out report.html',
        'logs-kms-guard audit --regions eu-west-1,us-east-1 --json --unencrypted | jq .totals',
        'logs-kms-guard audit --region eu-west-1 --format asff --out findings.asff.json',
      ],
    ).action(async function (this: Command) {
      await act<AuditOptions>(audit)(this);
    });
  },
};
