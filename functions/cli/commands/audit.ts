import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { type Command, Option } from 'commander';
import type { GuardConfig } from '../../core/config.ts';
import { hasQueryResultsStatement, parsePolicy } from '../../core/policy.ts';
import { emptyCounts, findGuardKey, sweep, sweepBuckets } from '../../core/sweep.ts';
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
import type { CliClients } from '../aws.ts';
import { acrossAccounts, type CliCommand, type Ctx, common, EXIT, examples } from '../context.ts';
import { type ReportRow, type RunReport, renderHtml } from '../html.ts';
import { DEFAULT_ROLE_NAME, isAcross, type OrgFlags } from '../org.ts';
import { makeProgress } from '../progress.ts';
import { type AuditRow, auditRow, type Format, totalsText } from '../report.ts';
import { type Output, openOutput, type RowWriter, rowWriter } from '../sink.ts';
import { VERSION } from '../version.ts';

/** The flags of `audit`. */
interface AuditOptions extends OrgFlags {
  format: Format;
  out?: string;
  prefix?: string;
  unencrypted?: boolean;
  resumeToken?: string;
}

/** How many gap rows the HTML report lists (and `atRisk` reads); the counts always cover every group. */
const GAP_ROWS_MAX = 50_000;

/** Unencrypted in scope, on an unusable key, or at risk: what `--unencrypted` and the HTML report list. */
function isGap(r: AuditRow): boolean {
  return (r.keyState === 'no-key' && r.inScope) || r.keyState === 'key-unusable' || r.atRisk !== '';
}

async function audit(ctx: Ctx, opts: AuditOptions) {
  const { io, printer, config } = ctx;
  const format: Format = ctx.flags.json ? 'json' : opts.format;
  const org = orgFlagsOf(opts as unknown as Record<string, unknown>);
  const now = () => io.clock?.now() ?? Date.now();
  const startedAt = new Date(now()).toISOString();
  const gaps: ReportRow[] = [];
  let gapsLeftOut = 0;
  let unchecked = 0;
  const risks: RiskTally = { 'key-pending-deletion': 0, 'key-disabled': 0, 'key-policy-excludes-logs': 0 };
  const live = emptyCounts();
  const multi = isAcross(org);
  const progress = makeProgress(io, { enabled: !ctx.flags.quiet, verb: 'checked' });
  let output: Output | undefined;
  let writer: RowWriter | undefined;
  const result = await runAcross(ctx, {
    command: 'audit',
    org,
    ...(opts.resumeToken ? { resumeToken: opts.resumeToken } : {}),
    beforeStart: async () => {
      // Opened only once the accounts are known: a usage or Organizations error leaves no half-written file.
      output = openOutput(io, opts.out);
      writer = rowWriter(format, output, ctx.regions);
      return true;
    },
    work: async (task) => {
      printer.log.info(`auditing ${task.account || 'this account'} ${task.region}`);
      let account: string | undefined;
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
        onGroup: (r) => {
          live.listed++;
          const base = auditRow(r);
          const row: ReportRow = {
            ...base,
            // The account the run is in, where known: an endpoint that answers without group ARNs still names it.
            account: task.account || base.account,
            ...(task.accountName ? { accountName: task.accountName } : {}),
          };
          account ??= row.account;
          if (row.keyPolicy === 'unknown') unchecked++;
          tallyRisk(risks, row);
          const gap = isGap(row);
          if (gap) {
            if (gaps.length < GAP_ROWS_MAX) gaps.push(row);
            else gapsLeftOut++;
          }
          if (!opts.unencrypted || gap) writer?.add(row);
          progress.update(multi ? 'accounts' : task.region, { ...live, candidates: live.listed });
        },
      }).catch((err) => ({
        error: err as Error,
        stopped: 'error' as const,
        done: false,
        state: { counts: emptyCounts(), nextToken: task.nextToken },
      }));
      const counts = result.state.counts;
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
      return {
        status: result.stopped === 'signal' ? 'interrupted' : 'done',
        counts,
        queryResults,
        ...(result.stopped === 'signal' && nextToken ? { nextToken } : {}),
        ...known,
      };
    },
  });
  progress.stop();
  if (!result || !writer || !output) return EXIT.ok;
  const pairs = reportPairs(result, ctx.regions);
  const totals = totalOf(result.outcomes);
  const interrupted = result.outcomes.some((o) => o.status === 'interrupted' || o.status === 'not-started');
  const failed = pairs.filter((p) => p.status === 'failed' || p.skip === 'denied');
  const done = result.outcomes.filter((o) => o.status === 'done' || o.status === 'interrupted');
  const summary = {
    command: 'audit',
    scope: result.plan.scope,
    startedAt,
    finishedAt: new Date(now()).toISOString(),
    // A single-account run keeps the fields it always had; `pairs` has them per account too.
    regions: done.map((o) => o.region),
    skippedRegions: result.outcomes.filter((o) => o.skip === 'region-disabled').map((o) => o.region),
    interrupted,
    totals,
    queryResults: Object.fromEntries(
      done.map((o) => [multi ? `${o.account}/${o.region}` : o.region, o.queryResults ?? '']),
    ),
    accounts: accountsOf(pairs),
    pairs: publicPairs(pairs),
    ...(result.resume ? { resumeToken: result.resume.token, resumeCommand: result.resume.command } : {}),
  };
  if (format === 'html') {
    const report: RunReport = {
      tool: { name: 'logs-kms-guard', version: VERSION },
      command: 'audit',
      startedAt,
      finishedAt: summary.finishedAt,
      scope: {
        accounts: result.plan.scope,
        regions: ctx.regions,
        include: config.include.map((p) => p.source),
        exclude: config.exclude.map((p) => p.source),
        keyAlias: config.keyAlias,
        ...(config.keyArn ? { keyArn: config.keyArn } : {}),
        ...(multi ? { roleName: org.roleName ?? DEFAULT_ROLE_NAME } : {}),
        ...(opts.prefix ? { prefix: opts.prefix } : {}),
      },
      pairs: publicPairs(pairs),
      totals,
      rows: gaps,
      ...(gapsLeftOut ? { rowsTruncated: gapsLeftOut } : {}),
    };
    output.write(renderHtml(report));
  }
  writer.finish(summary);
  await output.close();
  if (opts.out) printer.info(`report written to ${opts.out}`);
  if (multi) printer.info(pairTable(pairs));
  for (const line of skippedLines(result)) printer.warn(line);
  if (!multi)
    for (const o of done) printer.info(`${o.region}: Insights query results ${o.queryResults ?? 'unknown'}`);
  printer.info(`${interrupted ? 'interrupted; partial totals: ' : ''}${totalsText(totals, 'audit', false)}`);
  if (totals.keyUnusable > 0) {
    printer.warn(
      `${totals.keyUnusable} log group(s) use a key that is not enabled: their data cannot be read or written`,
    );
  }
  if (unchecked > 0) {
    printer.warn(
      `${unchecked} log group(s) use a key whose policy could not be read (kms:GetKeyPolicy): not checked for CloudWatch Logs`,
    );
  }
  if (totals.atRisk > 0) printer.info(printer.style.red(atRiskText(risks)));
  if (result.resume) printer.info(`resume with:\n  ${result.resume.command}`);
  // Last, so that the cause is what a terminal shows at the bottom.
  for (const o of result.outcomes.filter((x) => x.status === 'failed')) {
    const where = multi ? `${o.account} ${o.region}: ` : '';
    printer.error(`${where}${o.reason ?? 'failed'}`);
  }
  if (interrupted) return EXIT.interrupted;
  if (totals.candidates > 0) {
    printer.info(
      printer.style.red(
        `${totals.candidates} log group(s) in scope are not encrypted with a customer-managed key`,
      ),
    );
  }
  if (failed.length) return EXIT.aws;
  return totals.candidates > 0 || totals.atRisk > 0 ? EXIT.findings : EXIT.ok;
}

/** Groups at risk by reason, and the earliest date a key pending deletion makes data unreadable. */
interface RiskTally {
  'key-pending-deletion': number;
  'key-disabled': number;
  'key-policy-excludes-logs': number;
  earliest?: string;
}

/** Counts one row into the tally (every row: the gap list the HTML report gets is capped, the tally is not). */
function tallyRisk(t: RiskTally, r: AuditRow): void {
  if (r.atRisk === '') return;
  if (r.atRisk in t) t[r.atRisk as keyof Omit<RiskTally, 'earliest'>]++;
  if (r.unreadableFrom && (!t.earliest || r.unreadableFrom < t.earliest)) t.earliest = r.unreadableFrom;
}

/** The summary of the groups at risk: how many for each reason, the earliest date, what to do. */
function atRiskText(t: RiskTally): string {
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
              'List every log group with its key state; exit code 1 when log groups in scope are unencrypted or any is at risk (key pending deletion, disabled, or its policy shuts CloudWatch Logs out).',
            ),
        ),
      )
        .addOption(
          new Option('--format <format>', 'output format (html: one self-contained page)')
            .choices(['table', 'json', 'csv', 'html'])
            .default('table'),
        )
        .option('--out <file>', 'write the report to a file instead of stdout')
        .option('--prefix <prefix>', 'only log groups whose names start with this')
        .option(
          '--unencrypted',
          'list only the gaps: unencrypted groups in scope, groups on an unusable key, and groups at risk',
        )
        .option(
          '--resume-token <token>',
          'audit only the account-regions an interrupted run left (printed on Ctrl-C)',
        ),
      [
        'logs-kms-guard audit --region eu-west-1',
        'logs-kms-guard audit --all-regions --format csv --out groups.csv',
        'logs-kms-guard audit --org --regions eu-west-1,us-east-1 --format html --out report.html',
        'logs-kms-guard audit --regions eu-west-1,us-east-1 --json --unencrypted | jq .totals',
      ],
    ).action(async function (this: Command) {
      await act<AuditOptions>(audit)(this);
    });
  },
};
