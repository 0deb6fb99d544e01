import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { type Command, Option } from 'commander';
import type { GuardConfig } from '../../core/config.ts';
import { parsePolicy, QUERY_RESULTS_STATEMENT_SID } from '../../core/policy.ts';
import { addCounts, emptyCounts, findGuardKey, sweep, sweepBuckets } from '../../core/sweep.ts';
import { type CliClients, isRegionDisabled } from '../aws.ts';
import { type CliCommand, type Ctx, common, EXIT, examples } from '../context.ts';
import {
  type AuditRow,
  auditRow,
  auditTable,
  type Format,
  makeProgress,
  toCsv,
  totalsText,
} from '../report.ts';

async function audit(
  ctx: Ctx,
  opts: { format: Format; out?: string; prefix?: string; unencrypted?: boolean },
) {
  const { io, printer, config } = ctx;
  const format: Format = ctx.flags.json ? 'json' : opts.format;
  const rows: AuditRow[] = [];
  const queryResults: Record<string, string> = {};
  let totals = emptyCounts();
  const regions: string[] = [];
  const skipped: string[] = [];
  let interrupted = false;
  const progress = makeProgress(io, { enabled: !ctx.flags.quiet, verb: 'checked' });
  for (const region of ctx.regions) {
    printer.log.info(`auditing ${region}`);
    const live = emptyCounts();
    const result = await sweep({
      mode: 'audit',
      clients: ctx.clients(region),
      config,
      region,
      log: printer.log,
      ...(io.clock ? { clock: io.clock } : {}),
      checkKeys: true,
      ...(opts.prefix ? { prefix: opts.prefix } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      buckets: sweepBuckets({}, io.clock),
      onGroup: (r) => {
        live.listed++;
        rows.push(auditRow(r));
        progress.update(region, { ...live, candidates: live.listed });
      },
    }).catch((err) => ({
      error: err as Error,
      stopped: 'error' as const,
      done: false,
      state: { counts: emptyCounts() },
    }));
    if (result.stopped === 'error') {
      if (ctx.flags.allRegions && isRegionDisabled(result.error)) {
        skipped.push(region);
        continue;
      }
      progress.stop();
      throw result.error;
    }
    regions.push(region);
    queryResults[region] = await queryResultsState(ctx.clients(region), config);
    totals = addCounts(totals, result.state.counts);
    if (result.stopped === 'signal') {
      interrupted = true;
      break;
    }
  }
  progress.stop();
  const shown = opts.unencrypted
    ? rows.filter(
        (r) => (r.keyState === 'no-key' && r.inScope) || r.keyState === 'key-unusable' || r.atRisk !== '',
      )
    : rows;
  let text: string;
  if (format === 'json') {
    text = `${JSON.stringify({ regions, skippedRegions: skipped, interrupted, totals, queryResults, groups: shown }, null, 2)}\n`;
  } else if (format === 'csv') text = toCsv(shown);
  else text = auditTable(shown);
  if (opts.out) {
    const write =
      io.writeFile ?? (async (p: string, d: string) => (await import('node:fs/promises')).writeFile(p, d));
    await write(opts.out, text);
    printer.info(`report written to ${opts.out}`);
  } else io.stdout.write(text);
  if (skipped.length) printer.warn(`skipped regions not enabled for this account: ${skipped.join(', ')}`);
  for (const [region, state] of Object.entries(queryResults))
    printer.info(`${region}: Insights query results ${state}`);
  printer.info(`${interrupted ? 'interrupted; partial totals: ' : ''}${totalsText(totals, 'audit', false)}`);
  if (totals.keyUnusable > 0) {
    printer.warn(
      `${totals.keyUnusable} log group(s) use a key that is not enabled: their data cannot be read or written`,
    );
  }
  const unchecked = rows.filter((r) => r.keyPolicy === 'unknown').length;
  if (unchecked > 0) {
    printer.warn(
      `${unchecked} log group(s) use a key whose policy could not be read (kms:GetKeyPolicy): not checked for CloudWatch Logs`,
    );
  }
  if (totals.atRisk > 0) printer.info(printer.style.red(atRiskText(rows)));
  if (interrupted) return EXIT.interrupted;
  if (totals.candidates > 0) {
    printer.info(
      printer.style.red(
        `${totals.candidates} log group(s) in scope are not encrypted with a customer-managed key`,
      ),
    );
  }
  return totals.candidates > 0 || totals.atRisk > 0 ? EXIT.findings : EXIT.ok;
}

/** The summary of the groups at risk: how many for each reason, the earliest date, what to do. */
function atRiskText(rows: AuditRow[]): string {
  const risky = rows.filter((r) => r.atRisk !== '');
  const count = (reason: string) => risky.filter((r) => r.atRisk === reason).length;
  const pending = count('key-pending-deletion');
  const disabled = count('key-disabled');
  const policy = count('key-policy-excludes-logs');
  const earliest = risky
    .map((r) => r.unreadableFrom)
    .filter(Boolean)
    .sort()[0];
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
  return `${risky.length} log group(s) at risk of losing their data: ${parts.join(', ')}; ${fixes.join('; ')}`;
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
    return parsePolicy(out.Policy ?? '').Statement.some((s) => s.Sid === QUERY_RESULTS_STATEMENT_SID)
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
      common(
        program
          .command('audit')
          .description(
            'List every log group with its key state; exit code 1 when log groups in scope are unencrypted or any is at risk (key pending deletion, disabled, or its policy shuts CloudWatch Logs out).',
          ),
      )
        .addOption(
          new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
        )
        .option('--out <file>', 'write the report to a file instead of stdout')
        .option('--prefix <prefix>', 'only log groups whose names start with this')
        .option(
          '--unencrypted',
          'list only the gaps: unencrypted groups in scope, groups on an unusable key, and groups at risk',
        ),
      [
        'logs-kms-guard audit --region eu-west-1',
        'logs-kms-guard audit --all-regions --format csv --out groups.csv',
        'logs-kms-guard audit --regions eu-west-1,us-east-1 --json --unencrypted | jq .totals',
      ],
    ).action(async function (this: Command) {
      await act(audit)(this);
    });
  },
};
