/**
 * `doctor`: the command around the readiness checks of ../doctor/ (its flags, one line or JSON per finding,
 * the summary and the exit code), in one account or across accounts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { emptyCounts } from '../../core/sweep/report.ts';
import { errorHints, orgFlagsOf, reportPairs, runAcross, skippedLines } from '../across.ts';
import { acrossAccounts, type CliCommand, type Ctx, common, EXIT, examples } from '../context.ts';
import {
  type CentralizationRulesSource,
  parseRulesFile,
  staticRulesSource,
} from '../doctor/centralization.ts';
import type { Check, DoctorOptions } from '../doctor/check.ts';
import { doctorRegion } from '../doctor/runner.ts';
import { UsageError } from '../errors.ts';
import type { Printer } from '../io.ts';
import { isAcross, type OrgFlags } from '../org.ts';

/** The rules of `--centralization-rules FILE`, read and checked before any AWS call; undefined without it. */
function centralizationOf(opts: DoctorOptions): CentralizationRulesSource | undefined {
  const path = opts.centralizationRules;
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--centralization-rules ${path}: cannot read it (${(err as Error).message})`);
  }
  return staticRulesSource(parseRulesFile(text, path));
}

/** Runs every check in every region of this account; exit code 1 when one fails. */
async function runDoctor(ctx: Ctx, opts: DoctorOptions): Promise<number> {
  const checks: Check[] = [];
  const centralization = centralizationOf(opts);
  for (const region of ctx.regions) {
    // Each check's lines as soon as it is done: a slow answer is never minutes of silence.
    const found = await doctorRegion(
      {
        clients: ctx.clients(region),
        config: ctx.config,
        region,
        options: opts,
        now: ctx.io.clock?.now() ?? Date.now(),
        hints: errorHints(ctx),
        ...(centralization ? { centralization } : {}),
      },
      (some) => {
        if (!ctx.flags.json) for (const c of some) ctx.io.stdout.write(`${formatCheck(c, ctx.printer)}\n`);
      },
      ctx.io.signal,
    );
    checks.push(...found);
    if (ctx.io.signal?.aborted) {
      ctx.printer.info(`interrupted: ${checks.length} check(s) done, ${countsText(checks)}`);
      return EXIT.interrupted;
    }
  }
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
  ctx.printer.info(`${checks.length} check(s): ${countsText(checks)}`);
  const fails = checks.filter((c) => c.status === 'fail').length;
  return fails > 0 ? EXIT.findings : EXIT.ok;
}

/** "0 fail, 1 warn" (and ", 1 info" when there is information, which is neither). */
function countsText(checks: Check[]): string {
  const n = (status: Check['status']) => checks.filter((c) => c.status === status).length;
  return `${n('fail')} fail, ${n('warn')} warn${n('info') ? `, ${n('info')} info` : ''}`;
}

/** One finding as a line: status, region, check, detail, and the fix dimmed. */
function formatCheck(c: Check, printer: Printer): string {
  const s = printer.style;
  const label = { ok: s.green('ok  '), info: s.dim('info'), warn: s.yellow('warn'), fail: s.red('fail') }[
    c.status
  ];
  return `${label}  ${c.region}  ${c.check}: ${c.detail}${c.fix ? s.dim(` (fix: ${c.fix})`) : ''}`;
}

/** `doctor --org` / `--accounts`: the same checks in every account × region, each line naming its account. */
async function doctorAcross(ctx: Ctx, opts: DoctorOptions & OrgFlags): Promise<number> {
  const { io, printer } = ctx;
  const checks: (Check & { account: string })[] = [];
  const centralization = centralizationOf(opts);
  const result = await runAcross(ctx, {
    command: 'doctor',
    org: orgFlagsOf(opts as unknown as Record<string, unknown>),
    work: async (task) => {
      const found = await doctorRegion({
        clients: task.clients,
        config: task.config,
        region: task.region,
        options: opts,
        now: io.clock?.now() ?? Date.now(),
        hints: errorHints(ctx),
        ...(centralization ? { centralization } : {}),
      });
      checks.push(...found.map((c) => ({ account: task.account, ...c })));
      return { status: 'done', counts: emptyCounts() };
    },
  });
  if (!result) return EXIT.ok;
  checks.sort(
    (a, b) =>
      a.account.localeCompare(b.account) || ctx.regions.indexOf(a.region) - ctx.regions.indexOf(b.region),
  );
  const pairs = reportPairs(result, ctx.regions).map(({ skip: _s, counts: _c, ...p }) => p);
  if (ctx.flags.json)
    io.stdout.write(`${JSON.stringify({ scope: result.plan.scope, pairs, checks }, null, 2)}\n`);
  else for (const c of checks) io.stdout.write(`${c.account}  ${formatCheck(c, printer)}\n`);
  for (const line of skippedLines(result)) printer.warn(line);
  for (const o of result.outcomes.filter((x) => x.status === 'failed'))
    printer.error(`${o.account} ${o.region}: ${o.reason ?? 'failed'}`);
  const fails = checks.filter((c) => c.status === 'fail').length;
  const accounts = new Set(checks.map((c) => c.account)).size;
  printer.info(`${checks.length} check(s) in ${accounts} account(s): ${countsText(checks)}`);
  if (
    result.plan.skipped.some((s) => s.kind === 'denied') ||
    result.outcomes.some((o) => o.status === 'failed')
  )
    return EXIT.aws;
  return fails > 0 ? EXIT.findings : EXIT.ok;
}

/** `doctor`: the readiness checks of a region's deployment (the checks live in ../doctor/). */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  register(program, { act }) {
    examples(
      acrossAccounts(
        common(
          program
            .command('doctor')
            .description(
              "Check that a region is ready: credentials, CloudTrail trail, EventBridge rule; then, as far as those are found: the rule's queue and its DLQ, the guard key (rotation, policy, Insights query results, function role), recent failures. A check with nothing to look at prints no line.",
            ),
        ),
      )
        .option('--rule <name>', 'the EventBridge rule (default: found by the CreateLogGroup pattern)')
        .option('--rule-prefix <prefix>', 'name prefix to look for the rule under', 'logs-kms-guard')
        .option(
          '--function <name>',
          'the enforce function, for recent failures (default: found from the queue)',
        )
        .option(
          '--centralization-rules <file>',
          "the organization's CloudWatch Logs centralization rules (JSON of aws observabilityadmin get-centralization-rule-for-organization): fails on a rule that skips encrypted log groups",
        ),
      [
        'logs-kms-guard doctor --region eu-west-1',
        'logs-kms-guard doctor --all-regions --json',
        'logs-kms-guard doctor --org --regions eu-west-1,us-east-1',
      ],
    ).action(async function (this: Command) {
      await act<DoctorOptions & OrgFlags>((ctx, opts) =>
        isAcross(opts) ? doctorAcross(ctx, opts) : runDoctor(ctx, opts),
      )(this);
    });
  },
};
