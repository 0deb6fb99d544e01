import type { Command } from 'commander';
import { emptyCounts } from '../../core/sweep/report.ts';
import { orgFlagsOf, reportPairs, runAcross, skippedLines } from '../across.ts';
import { acrossAccounts, type CliCommand, type Ctx, common, EXIT, examples } from '../context.ts';
import { type Check, type DoctorOptions, doctorRegion, formatCheck, runDoctor } from '../doctor.ts';
import { isAcross, type OrgFlags } from '../org.ts';

/** `doctor --org` / `--accounts`: the same checks in every account × region, each line naming its account. */
async function doctorAcross(ctx: Ctx, opts: DoctorOptions & OrgFlags): Promise<number> {
  const { io, printer } = ctx;
  const checks: (Check & { account: string })[] = [];
  const result = await runAcross(ctx, {
    command: 'doctor',
    org: orgFlagsOf(opts as unknown as Record<string, unknown>),
    work: async (task) => {
      const found = await doctorRegion(
        task.clients,
        task.config,
        task.region,
        opts,
        io.clock?.now() ?? Date.now(),
      );
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
  const warns = checks.filter((c) => c.status === 'warn').length;
  const accounts = new Set(checks.map((c) => c.account)).size;
  printer.info(`${checks.length} check(s) in ${accounts} account(s): ${fails} fail, ${warns} warn`);
  if (
    result.plan.skipped.some((s) => s.kind === 'denied') ||
    result.outcomes.some((o) => o.status === 'failed')
  )
    return EXIT.aws;
  return fails > 0 ? EXIT.findings : EXIT.ok;
}

/** `doctor`: the readiness checks of a region's deployment (the checks live in ../doctor.ts). */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  register(program, { act }) {
    examples(
      acrossAccounts(
        common(
          program
            .command('doctor')
            .description('Check that a region is ready: trail, rule, queue, DLQ, key, recent failures.'),
        ),
      )
        .option('--rule <name>', 'the EventBridge rule (default: found by the CreateLogGroup pattern)')
        .option('--rule-prefix <prefix>', 'name prefix to look for the rule under', 'logs-kms-guard')
        .option(
          '--function <name>',
          'the enforce function, for recent failures (default: found from the queue)',
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
