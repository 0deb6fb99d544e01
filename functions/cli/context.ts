/**
 * What every command shares: the exit codes, the flags every command takes, and the `Ctx` a handler runs with
 * (the config with the flag overrides, the printer, the clients and the regions), built once from the flags.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type GuardConfig, loadConfig } from '../core/config.ts';
import { createKeyCache, type KeyStepOptions, keyContext } from '../core/key.ts';
import { keyCreator } from '../core/key-create.ts';
import { describeRule, type NumberRule, parseNumber } from '../core/parse.ts';
import {
  allRegions,
  type CliClients,
  type ClientFactory,
  defaultClientFactory,
  KNOWN_REGIONS,
} from './aws.ts';
import { UsageError } from './errors.ts';
import { withFunctionRole } from './function-role.ts';
import { type Io, makePrinter, type Printer } from './io.ts';
import { keyRegionProblem, outPathProblem, profileProblem, regionProblem, sharedFiles } from './validate.ts';

/** Exit codes (docs/CLI.md). */
export const EXIT = { ok: 0, findings: 1, usage: 2, aws: 3, interrupted: 130 } as const;

/** The flags every command takes (see `common`). */
export interface CommonFlags {
  region?: string;
  regions?: string[];
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
  /** `audit --out`: checked up front, before any AWS call. */
  out?: string;
  /** `audit --force`: overwrite an existing `--out` file. */
  force?: boolean;
  /** `--resume-token`: a resumed audit writes next to an existing `--out` report, never over it. */
  resumeToken?: string;
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

/** `--region` once: a second one is refused rather than silently replacing the first (docs/CLI.md). */
const once = (value: string, previous: string | undefined) => {
  if (previous !== undefined)
    throw new UsageError(
      `--region given twice (${previous}, ${value}); for several regions use --regions ${previous},${value}`,
    );
  return value;
};

/** Adds the flags every command shares; `dryRun` only where the command can change something. */
export function common(cmd: Command, options: { dryRun?: boolean } = {}): Command {
  cmd
    .option(
      '--region <region>',
      "AWS region, once (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region)",
      once,
    )
    .option(
      '--regions <list>',
      'several regions, comma-separated, repeatable (e.g. eu-west-1,us-east-1)',
      collect,
    )
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
      "the enforce function's role, named in the policy of a guard key this run creates or repairs (env GUARD_ROLE_ARN; default logs-kms-guard-prod-enforce-<region> of each account)",
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
    .option(
      '--external-id <id>',
      'the external id the role trust policy asks for (sts:ExternalId); never printed; env LOGS_KMS_GUARD_EXTERNAL_ID keeps it out of shell history',
    )
    .option(
      '--parallel <n>',
      'account-region pairs worked on at once (default 64 across accounts, 1 for one account)',
    );
}

/** Appends an Examples section to the command's help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** The environment variables the flags stand for, with the flags' values (a flag wins over the environment). */
export function envFromFlags(flags: CommonFlags): Record<string, string> {
  return {
    ...(flags.keyAlias ? { KMS_KEY_ALIAS: flags.keyAlias } : {}),
    ...(flags.keyArn ? { KMS_KEY_ARN: flags.keyArn } : {}),
    ...(flags.functionRole ? { GUARD_ROLE_ARN: flags.functionRole } : {}),
    ...(flags.include ? { INCLUDE_LOG_GROUPS: flags.include.join(',') } : {}),
    ...(flags.exclude ? { EXCLUDE_LOG_GROUPS: flags.exclude.join(',') } : {}),
    ...(flags.dryRun ? { DRY_RUN: 'true' } : {}),
  };
}

/**
 * Turns the parsed flags into a `Ctx`: config with the flag overrides, printer, clients and regions. Everything
 * that can be checked without AWS is checked here, before the first call (validate.ts): exit 2, nothing changed.
 */
export async function context(io: Io, argv: string[], flags: CommonFlags): Promise<Ctx> {
  const printer = makePrinter(io, {
    quiet: Boolean(flags.quiet),
    verbose: Boolean(flags.verbose),
    color: flags.color !== false,
  });
  const config = loadConfig({ ...io.env, ...envFromFlags(flags) });
  if (flags.profile) checkProfile(flags.profile, '--profile', io.env);
  else if (io.env.AWS_PROFILE && readsProfile(io.env))
    checkProfile(io.env.AWS_PROFILE, 'AWS_PROFILE', io.env);
  if (flags.out) {
    const problem = outPathProblem(flags.out, { overwrite: Boolean(flags.force || flags.resumeToken) });
    if (problem) throw new UsageError(problem);
  }
  const clients =
    io.clients ??
    defaultClientFactory({
      ...(flags.profile ? { profile: flags.profile } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  const { regions, source } = await chooseRegions(io, flags);
  for (const r of regions) {
    const problem = regionProblem(r, source, KNOWN_REGIONS);
    if (problem) throw new UsageError(problem);
  }
  if (config.keyArn) {
    const problem = keyRegionProblem(config.keyArn, flags.keyArn ? '--key-arn' : 'KMS_KEY_ARN', regions);
    if (problem) throw new UsageError(problem);
  }
  return { io, argv, flags, printer, config, regions: [...new Set(regions)], clients };
}

/** The regions of the run and where they came from (the flag or variable a message names). */
async function chooseRegions(io: Io, flags: CommonFlags): Promise<{ regions: string[]; source: string }> {
  const chosen = [flags.region, flags.regions, flags.allRegions].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('use one of --region, --regions, --all-regions');
  const envRegion = io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined;
  const envSource = io.env.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION';
  if (flags.regions) {
    if (flags.regions.length === 0) throw new UsageError('--regions: no region given');
    return { regions: flags.regions, source: '--regions' };
  }
  if (flags.allRegions) return { regions: allRegions(envRegion), source: '--all-regions' };
  if (flags.region) return { regions: [flags.region], source: '--region' };
  if (envRegion) return { regions: [envRegion], source: envSource };
  const configured = await profileRegion(flags.profile);
  if (!configured) throw new UsageError('no AWS region: pass --region or set AWS_REGION');
  return { regions: [configured], source: `the region of profile ${flags.profile ?? 'default'}` };
}

/**
 * Whether the SDK's credential chain reads AWS_PROFILE: it does even when access keys are set (with
 * AWS_PROFILE set, @aws-sdk/credential-provider-node skips the environment's keys and uses the profile), so an
 * unknown profile there would fail every call. Only a web identity token file still answers without it.
 */
function readsProfile(env: Io['env']): boolean {
  return !env.AWS_WEB_IDENTITY_TOKEN_FILE;
}

/** Refuses a profile (--profile, or AWS_PROFILE) no shared config or credentials file defines, naming the files read. */
function checkProfile(profile: string, source: '--profile' | 'AWS_PROFILE', env: Io['env']): void {
  const files = sharedFiles(env);
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const problem = profileProblem(profile, source, [
    { path: files.config, kind: 'config', text: read(files.config) },
    { path: files.credentials, kind: 'credentials', text: read(files.credentials) },
  ]);
  if (problem)
    throw new UsageError(
      source === 'AWS_PROFILE' ? `${problem}; or unset AWS_PROFILE (set in the environment)` : problem,
    );
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

/**
 * The key steps' options for one region: a guard key created or repaired here names the function role of this
 * account and region (--function-role, else the template's predictable name: function-role.ts).
 */
export function keySteps(ctx: Ctx, clients: CliClients, region: string, account: string): KeyStepOptions {
  const config = withFunctionRole(ctx.config, account, region);
  return {
    clients,
    config,
    ctx: keyContext(config, region, account),
    log: ctx.printer.log,
    cache: createKeyCache(),
    creator: keyCreator,
  };
}

/** The single region of a one-group command; several would be ambiguous. */
export function singleRegion(ctx: Ctx): string {
  if (ctx.regions.length !== 1) throw new UsageError('this command works on one region: pass --region');
  return ctx.regions[0] as string;
}
