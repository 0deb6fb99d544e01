import {
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
} from '@aws-sdk/client-kms';
import { Command, CommanderError, Option } from 'commander';
import { logGroupArn, parseArn, partitionOf } from '../core/arn.ts';
import { associateKey } from '../core/associate.ts';
import { type GuardConfig, loadConfig } from '../core/config.ts';
import { describeLogGroup } from '../core/enforce.ts';
import { ConfigError, DeadlineExceededError, GuardError } from '../core/errors.ts';
import { createKeyCache, ensureKey, ensureKeyPolicy, type KeyStepOptions, keyContext } from '../core/key.ts';
import { type PolicyContext, parsePolicy, QUERY_RESULTS_STATEMENT_SID } from '../core/policy.ts';
import { isLogGroupName } from '../core/scope.ts';
import {
  addCounts,
  disassociateKey,
  emptyCounts,
  findGuardKey,
  type GroupReport,
  type SweepCounts,
  type SweepMode,
  sameKey,
  sweep,
  sweepBuckets,
} from '../core/sweep.ts';
import {
  allRegions,
  type CliClients,
  type ClientFactory,
  defaultClientFactory,
  describeAwsError,
  isAwsFailure,
  isRegionDisabled,
  resolveAccount,
} from './aws.ts';
import { type DoctorOptions, runDoctor } from './doctor.ts';
import { type Io, makePrinter, type Printer } from './io.ts';
import {
  type AuditRow,
  auditRow,
  auditTable,
  decodeResume,
  encodeResume,
  type Format,
  makeProgress,
  resumeCommand,
  toCsv,
  totalsText,
  UsageError,
} from './report.ts';

/** Exit codes (docs/CLI.md). */
export const EXIT = { ok: 0, findings: 1, usage: 2, aws: 3, interrupted: 130 } as const;

interface CommonFlags {
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

interface Ctx {
  io: Io;
  argv: string[];
  flags: CommonFlags;
  printer: Printer;
  config: GuardConfig;
  regions: string[];
  clients: ClientFactory;
}

const collect = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

function common(cmd: Command, options: { dryRun?: boolean } = {}): Command {
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

function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

async function context(io: Io, argv: string[], flags: CommonFlags): Promise<Ctx> {
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
async function profileRegion(profile: string | undefined): Promise<string | undefined> {
  try {
    const { KMSClient } = await import('@aws-sdk/client-kms');
    const client = new KMSClient(profile ? { profile } : {});
    return await client.config.region();
  } catch {
    return undefined;
  }
}

// ---- audit ----

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

// ---- enforce / rollback ----

interface BulkOptions {
  yes?: boolean;
  prefix?: string;
  resumeToken?: string;
  rate?: string;
  concurrency?: string;
  groupTimeout?: string;
}

function positive(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new UsageError(`${name} must be a number above 0 and at most ${max}, got "${value}"`);
  return n;
}

async function bulk(ctx: Ctx, kind: 'enforce' | 'rollback', opts: BulkOptions): Promise<number> {
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

// ---- key setup, associate, disassociate ----

/** The policy context of a region; with --function-role, a guard key created or repaired here names that role. */
function policyContext(config: GuardConfig, region: string, account: string): PolicyContext {
  return keyContext(config, region, account);
}

function singleRegion(ctx: Ctx): string {
  if (ctx.regions.length !== 1) throw new UsageError('this command works on one region: pass --region');
  return ctx.regions[0] as string;
}

async function keySetup(ctx: Ctx): Promise<number> {
  const { printer, config } = ctx;
  const results: Record<string, unknown>[] = [];
  for (const region of ctx.regions) {
    const clients = ctx.clients(region);
    const account = await resolveAccount(clients, config);
    const before = await findGuardKey(clients, config);
    const options: KeyStepOptions = {
      clients,
      config,
      ctx: policyContext(config, region, account),
      log: printer.log,
      cache: createKeyCache(),
    };
    const key = await ensureKey(options);
    let action = !before
      ? key.planned
        ? 'would create'
        : 'created'
      : key.changedAt
        ? 'policy repaired'
        : 'verified';
    if (config.dryRun && before) action = 'checked (dry run)';
    let rotation: boolean | undefined;
    if (!key.planned) {
      rotation = (await clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn })))
        .KeyRotationEnabled;
      if (!rotation && key.own && !config.dryRun) {
        await clients.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
        rotation = true;
        action += ', rotation enabled';
      }
    }
    results.push({
      region,
      keyArn: key.planned ? null : key.arn,
      alias: config.keyArn ? null : config.keyAlias,
      action,
      rotation,
    });
    printer.info(
      `${region}: ${printer.style.green(action)} ${key.planned ? config.keyAlias : key.arn}${rotation === false ? printer.style.yellow(' (rotation off)') : ''}`,
    );
    if (!ctx.flags.json && ctx.flags.quiet && !key.planned) ctx.io.stdout.write(`${key.arn}\n`);
  }
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify({ keys: results }, null, 2)}\n`);
  return EXIT.ok;
}

async function associate(
  ctx: Ctx,
  opts: { logGroup: string; timeout?: string; force?: boolean },
): Promise<number> {
  const { printer, config, io } = ctx;
  const region = singleRegion(ctx);
  if (!isLogGroupName(opts.logGroup)) throw new UsageError(`"${opts.logGroup}" is not a log group name`);
  const timeoutMs = positive(opts.timeout, '--timeout', 300, 3600) * 1000;
  const clients = ctx.clients(region);
  const group = await describeLogGroup(clients, opts.logGroup);
  if (!group) {
    printer.error(`log group ${opts.logGroup} does not exist in ${region}`);
    return EXIT.findings;
  }
  const guard = await findGuardKey(clients, config);
  const report = (status: string, extra: Record<string, unknown> = {}) => {
    if (ctx.flags.json)
      io.stdout.write(`${JSON.stringify({ region, logGroup: opts.logGroup, status, ...extra })}\n`);
  };
  if (group.kmsKeyId && guard?.Arn && sameKey(group.kmsKeyId, guard.Arn)) {
    printer.info(`${opts.logGroup} already uses the guard key ${guard.Arn}`);
    report('already-associated', { keyArn: guard.Arn });
    return EXIT.ok;
  }
  if (group.kmsKeyId && !opts.force) {
    printer.error(
      `${opts.logGroup} already uses another key (${group.kmsKeyId}); pass --force to replace it`,
    );
    return EXIT.findings;
  }
  const account =
    parseArn(group.logGroupArn ?? group.arn ?? '')?.account || (await resolveAccount(clients, config));
  const options: KeyStepOptions = {
    clients,
    config,
    ctx: policyContext(config, region, account),
    log: printer.log,
    cache: createKeyCache(),
  };
  const key = await ensureKey(options);
  if (config.dryRun) {
    printer.info(`dry run: would associate ${opts.logGroup} with ${key.planned ? config.keyAlias : key.arn}`);
    report('would-associate', { keyArn: key.planned ? null : key.arn });
    return EXIT.ok;
  }
  const now = io.clock?.now() ?? Date.now();
  try {
    const result = await associateKey({
      logs: clients.logs,
      name: opts.logGroup,
      keyArn: key.arn,
      deadline: now + timeoutMs,
      log: printer.log,
      ...(io.clock ? { clock: io.clock } : {}),
      onPropagationStall: async () => {
        printer.info('CloudWatch Logs does not accept the key yet; re-checking its policy');
        await ensureKeyPolicy({ ...options, key });
      },
    });
    if (result.outcome === 'gone') {
      printer.error(`${opts.logGroup} was deleted meanwhile`);
      report('gone');
      return EXIT.findings;
    }
    printer.info(
      `${printer.style.green('associated')} ${opts.logGroup} with ${key.arn} (${result.attempts} attempt(s)); new data is encrypted within about five minutes`,
    );
    report('associated', { keyArn: key.arn, attempts: result.attempts });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof DeadlineExceededError) {
      printer.error(
        `CloudWatch Logs still refuses ${key.arn} after ${timeoutMs / 1000} s (a new key or policy can take minutes to propagate); run again or raise --timeout`,
      );
      return EXIT.findings;
    }
    throw err;
  }
}

async function disassociate(ctx: Ctx, opts: { logGroup: string; force?: boolean }): Promise<number> {
  const { printer, config, io } = ctx;
  const region = singleRegion(ctx);
  if (!isLogGroupName(opts.logGroup)) throw new UsageError(`"${opts.logGroup}" is not a log group name`);
  const clients = ctx.clients(region);
  const group = await describeLogGroup(clients, opts.logGroup);
  if (!group) {
    printer.error(`log group ${opts.logGroup} does not exist in ${region}`);
    return EXIT.findings;
  }
  const out = (status: string) => {
    if (ctx.flags.json)
      io.stdout.write(
        `${JSON.stringify({ region, logGroup: opts.logGroup, status, kmsKeyId: group.kmsKeyId ?? null })}\n`,
      );
  };
  if (!group.kmsKeyId) {
    printer.info(`${opts.logGroup} has no KMS key`);
    out('no-key');
    return EXIT.ok;
  }
  const guard = await findGuardKey(clients, config);
  if (!(guard?.Arn && sameKey(group.kmsKeyId, guard.Arn)) && !opts.force) {
    printer.error(
      `${opts.logGroup} uses ${group.kmsKeyId}, not the guard key; pass --force to disassociate it anyway`,
    );
    return EXIT.findings;
  }
  if (config.dryRun) {
    printer.info(`dry run: would disassociate ${group.kmsKeyId} from ${opts.logGroup}`);
    out('would-disassociate');
    return EXIT.ok;
  }
  const arn =
    group.logGroupArn ??
    logGroupArn(partitionOf(region), region, await resolveAccount(clients, config), opts.logGroup);
  const done = await disassociateKey(clients, opts.logGroup, {
    ...(io.clock ? { clock: io.clock } : {}),
    optOut: { arn, tagKey: config.skipTagKey },
  });
  printer.info(
    `${done === 'gone' ? 'gone meanwhile' : 'disassociated'}: ${opts.logGroup} (the key ${group.kmsKeyId} is kept; old data stays readable with it)`,
  );
  out(done);
  return EXIT.ok;
}

// ---- the program ----

/** Builds the commander program; `setCode` receives each command's exit code. */
export function buildProgram(io: Io, argv: string[], setCode: (code: number) => void): Command {
  const program = new Command('logs-kms-guard')
    .description('Keeps every CloudWatch Logs log group encrypted with a customer-managed KMS key.')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  examples(program, [
    'logs-kms-guard audit --region eu-west-1',
    'logs-kms-guard enforce --all-regions --dry-run',
    'logs-kms-guard doctor --region eu-west-1',
  ]);
  const act0 =
    <T>(fn: (ctx: Ctx, opts: T) => Promise<number>) =>
    async (cmd: Command) => {
      const opts = cmd.opts() as CommonFlags & T;
      setCode(await fn(await context(io, argv, opts), opts));
    };

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
    await act0(audit)(this);
  });

  const bulkCommand = (kind: 'enforce' | 'rollback', description: string, lines: string[]) =>
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
      await act0<BulkOptions>((ctx, opts) => bulk(ctx, kind, opts))(this);
    });
  bulkCommand(
    'enforce',
    'Encrypt every unencrypted log group in scope with the guard key (the backfill), paced under the quotas.',
    [
      'logs-kms-guard enforce --region eu-west-1 --dry-run',
      'logs-kms-guard enforce --region eu-west-1 --yes',
      'logs-kms-guard enforce --regions eu-west-1,eu-central-1 --exclude /aws/lambda/legacy- --yes',
    ],
  );
  bulkCommand(
    'rollback',
    'Disassociate the guard key from every log group that uses it (the escape hatch); the key itself is kept.',
    [
      'logs-kms-guard rollback --region eu-west-1 --dry-run',
      'logs-kms-guard rollback --region eu-west-1 --yes',
    ],
  );

  examples(
    common(
      program
        .command('doctor')
        .description('Check that a region is ready: trail, rule, queue, DLQ, key, recent failures.'),
    )
      .option('--rule <name>', 'the EventBridge rule (default: found by the CreateLogGroup pattern)')
      .option('--rule-prefix <prefix>', 'name prefix to look for the rule under', 'logs-kms-guard')
      .option(
        '--function <name>',
        'the enforce function, for recent failures (default: found from the queue)',
      ),
    ['logs-kms-guard doctor --region eu-west-1', 'logs-kms-guard doctor --all-regions --json'],
  ).action(async function (this: Command) {
    await act0<DoctorOptions>((ctx, opts) => runDoctor(ctx, opts))(this);
  });

  const key = program.command('key').description('Manage the guard key.');
  examples(
    common(
      key
        .command('setup')
        .description(
          'Create the guard key (symmetric, rotation on, policy for CloudWatch Logs) or repair it.',
        ),
      {
        dryRun: true,
      },
    ),
    ['logs-kms-guard key setup --region eu-west-1', 'logs-kms-guard key setup --all-regions --dry-run'],
  ).action(async function (this: Command) {
    await act0(keySetup)(this);
  });

  examples(
    common(
      program
        .command('associate')
        .description('Encrypt one log group with the guard key, waiting out KMS propagation.'),
      {
        dryRun: true,
      },
    )
      .requiredOption('--log-group <name>', 'the log group')
      .option('--timeout <seconds>', 'how long to retry while the key propagates', '300')
      .option('--force', 'replace another key the group already uses'),
    ['logs-kms-guard associate --region eu-west-1 --log-group /aws/lambda/orders'],
  ).action(async function (this: Command) {
    await act0(associate)(this);
  });

  examples(
    common(
      program
        .command('disassociate')
        .description('Remove the guard key from one log group (the key is kept).'),
      {
        dryRun: true,
      },
    )
      .requiredOption('--log-group <name>', 'the log group')
      .option('--force', 'also when the group uses a key other than the guard key'),
    ['logs-kms-guard disassociate --region eu-west-1 --log-group /aws/lambda/orders'],
  ).action(async function (this: Command) {
    await act0(disassociate)(this);
  });
  return program;
}

/** Runs the CLI in-process; resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, argv, (c) => {
    code = c;
  });
  const err = (text: string) => io.stderr.write(`error: ${text}\n`);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(e.message);
      return EXIT.usage;
    }
    if (e instanceof GuardError && !isAwsFailure(e)) {
      err(e.message);
      return EXIT.findings;
    }
    err(describeAwsError(e));
    return isAwsFailure(e) ? EXIT.aws : EXIT.findings;
  }
}
