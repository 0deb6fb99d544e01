/**
 * What every command shares: the exit codes, the flags every command takes, and the `Ctx` a handler runs with
 * (the config with the flag overrides, the printer, the clients and the regions), built once from the flags.
 */
import type { Command } from 'commander';
import { type GuardConfig, loadConfig } from '../core/config.ts';
import { createKeyCache, type KeyStepOptions, keyContext } from '../core/key.ts';
import { describeRule, type NumberRule, parseNumber } from '../core/parse.ts';
import { allRegions, type CliClients, type ClientFactory, defaultClientFactory } from './aws.ts';
import { UsageError } from './errors.ts';
import { type Io, makePrinter, type Printer } from './io.ts';

/** Exit codes (docs/CLI.md). */
export const EXIT = { ok: 0, findings: 1, usage: 2, aws: 3, interrupted: 130 } as const;

/** The flags every command takes (see `common`). */
export interface CommonFlags {
  region?: string;
  regions?: string;
  allRegions?: boolean;
  profile?: string;
  keyAlias?: string;
  keyArn?: string;
  functionRole?: string;
  include?: string[];
  exclude?: string[];
  json?: boolean;
  quiet?: boolean;
  color: boolean;
  verbose?: boolean;
  dryRun?: boolean;
}

/** What a command handler runs with: the parsed flags, the config they yield, the regions, the clients. */
export interface Ctx {
  io: Io;
  argv: string[];
  flags: CommonFlags;
  printer: Printer;
  config: GuardConfig;
  regions: string[];
  clients: ClientFactory;
}

/** One CLI command: `register` adds it, with its options, help text and action, to the program. */
export interface CliCommand {
  name: string;
  register(program: Command, deps: CommandDeps): void;
}

/** What `register` gets from the program, so commands stay unaware of its io, argv and exit code. */
export interface CommandDeps {
  /** Wraps a handler as a commander action: builds its `Ctx` from the flags and records its exit code. */
  act<T>(fn: (ctx: Ctx, opts: T) => Promise<number>): (cmd: Command) => Promise<void>;
}

const collect = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** Adds the flags every command shares; `dryRun` only where the command can change something. */
export function common(cmd: Command, options: { dryRun?: boolean } = {}): Command {
  cmd
    .option(
      '--region <region>',
      "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)",
    )
    .option('--regions <list>', 'several regions, comma-separated (e.g. eu-west-1,us-east-1)')
    .option(
      '--all-regions',
      'every region of the partition (commercial unless --region says otherwise); regions not enabled are skipped',
    )
    .option(
      '--profile <name>',
      'AWS shared-config profile (default: the default credential chain, AWS_PROFILE)',
    )
    .option('--key-alias <alias>', 'alias of the guard key (env KMS_KEY_ALIAS, default alias/logs-kms-guard)')
    .option('--key-arn <arn>', "use this key instead of the guard's own (env KMS_KEY_ARN)")
    .option(
      '--function-role <arn>',
      "the enforce function's role, named in the policy of a guard key this run creates or repairs (env GUARD_ROLE_ARN)",
    )
    .option(
      '--include <patterns>',
      'only these log groups: prefixes or globs, comma-separated, repeatable (env INCLUDE_LOG_GROUPS)',
      collect,
    )
    .option(
      '--exclude <patterns>',
      'never these log groups: prefixes or globs, comma-separated, repeatable (env EXCLUDE_LOG_GROUPS)',
      collect,
    )
    .option('--json', 'machine-readable JSON on stdout; messages on stderr')
    .option('-q, --quiet', 'no progress or messages, only results and errors')
    .option('--no-color', 'no colour (also off when NO_COLOR is set or output is not a terminal)')
    .option('-v, --verbose', 'log every decision on stderr');
  if (options.dryRun) cmd.option('--dry-run', 'show what would change, change nothing (env DRY_RUN)');
  return cmd;
}

/** Adds the flags of a run across accounts (`audit`, `enforce`, `rollback`, `doctor`). */
export function acrossAccounts(cmd: Command): Command {
  return cmd
    .option(
      '--org',
      'every ACTIVE account of the organization (Organizations ListAccounts, from its management or delegated administrator account)',
    )
    .option(
      '--ou <ids>',
      'only the accounts under these organizational units (and their child OUs), comma-separated; implies --org',
      collect,
    )
    .option('--accounts <ids>', 'these accounts, comma-separated 12-digit ids', collect)
    .option(
      '--role-name <name>',
      "the role assumed in each account other than the caller's (default OrganizationAccountAccessRole; Control Tower: AWSControlTowerExecution)",
    )
    .option('--external-id <id>', 'the external id the role trust policy asks for (sts:ExternalId)')
    .option(
      '--parallel <n>',
      'account-region pairs worked on at once (default 64 across accounts, 1 for one account)',
    );
}

/** Appends an Examples section to the command's help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** Turns the parsed flags into a `Ctx`: config with the flag overrides, printer, clients and regions. */
export async function context(io: Io, argv: string[], flags: CommonFlags): Promise<Ctx> {
  const printer = makePrinter(io, {
    quiet: Boolean(flags.quiet),
    verbose: Boolean(flags.verbose),
    color: flags.color !== false,
  });
  const env = { ...io.env };
  if (flags.keyAlias) env.KMS_KEY_ALIAS = flags.keyAlias;
  if (flags.keyArn) env.KMS_KEY_ARN = flags.keyArn;
  if (flags.functionRole) env.GUARD_ROLE_ARN = flags.functionRole;
  if (flags.include) env.INCLUDE_LOG_GROUPS = flags.include.join(',');
  if (flags.exclude) env.EXCLUDE_LOG_GROUPS = flags.exclude.join(',');
  if (flags.dryRun) env.DRY_RUN = 'true';
  const config = loadConfig(env);
  const clients =
    io.clients ?? defaultClientFactory({ ...(flags.profile ? { profile: flags.profile } : {}) });
  const chosen = [flags.region, flags.regions, flags.allRegions].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('use one of --region, --regions, --all-regions');
  let regions: string[];
  const envRegion = io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined;
  if (flags.regions) regions = collect(flags.regions, []);
  else if (flags.allRegions) regions = allRegions(envRegion);
  else if (flags.region) regions = [flags.region];
  else if (envRegion) regions = [envRegion];
  else {
    const configured = await profileRegion(flags.profile);
    if (!configured) throw new UsageError('no AWS region: pass --region or set AWS_REGION');
    regions = [configured];
  }
  for (const r of regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(r)) throw new UsageError(`"${r}" is not an AWS region name`);
  }
  return { io, argv, flags, printer, config, regions: [...new Set(regions)], clients };
}

/** The region of the profile's config (what the SDK itself would pick), if any. */
export async function profileRegion(profile: string | undefined): Promise<string | undefined> {
  try {
    const { KMSClient } = await import('@aws-sdk/client-kms');
    const client = new KMSClient(profile ? { profile } : {});
    return await client.config.region();
  } catch {
    return undefined;
  }
}

/**
 * A numeric flag within `rule` (core parseNumber), `fallback` when it is absent; a bad value is a UsageError
 * naming the flag. A blank value is refused too: `--rate ""` is a mistake, not a request for the default.
 */
export function numberFlag(
  value: string | undefined,
  name: string,
  rule: NumberRule,
  fallback: number,
): number {
  let n: number | undefined;
  try {
    n = parseNumber(value, name, rule);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  if (n !== undefined) return n;
  if (value === undefined) return fallback;
  throw new UsageError(`${name} must be ${describeRule(rule)}, got "${value}"`);
}

/** The key steps' options for one region: a guard key created or repaired here names --function-role, if given. */
export function keySteps(ctx: Ctx, clients: CliClients, region: string, account: string): KeyStepOptions {
  return {
    clients,
    config: ctx.config,
    ctx: keyContext(ctx.config, region, account),
    log: ctx.printer.log,
    cache: createKeyCache(),
  };
}

/** The single region of a one-group command; several would be ambiguous. */
export function singleRegion(ctx: Ctx): string {
  if (ctx.regions.length !== 1) throw new UsageError('this command works on one region: pass --region');
  return ctx.regions[0] as string;
}
