/**
 * Runs a command's work over every account × region pair of a run: in parallel under one bound, each pair
 * isolated (a refused role, a region not enabled or a failure is reported and never stops the others), with
 * one resume token for every pair still to do.
 */

import { partitionOf } from '../core/arn.ts';
import { Pool } from '../core/concurrency.ts';
import type { GuardConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { stoppedBySignal } from '../core/sweep/page-loop.ts';
import { addCounts, emptyCounts, type SweepCounts } from '../core/sweep/report.ts';
import { type CliClients, describeAwsError, type ErrorHints, whatToCheck } from './aws.ts';
import type { PairSummary } from './completeness.ts';
import type { Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { functionRoleFor } from './function-role.ts';
import { isRegionNotEnabled } from './opt-in.ts';
import {
  isAcross,
  type OrgFlags,
  parallelism,
  planTargets,
  type Skip,
  type TargetPlan,
  withExternalIdFromEnv,
} from './org.ts';
import { toTable } from './report.ts';
import { decodeAcross, encodeAcross, resumeCommand, type TokenPair } from './resume-token.ts';
import { hasSessionPolicy, sessionPolicy } from './session-policy.ts';

/** One account × region to work on. */
export interface PairTask {
  account: string;
  accountName?: string;
  region: string;
  clients: CliClients;
  /** The config for this account (its own function role ARN). */
  config: GuardConfig;
  /** Where a resumed pair starts (a DescribeLogGroups token). */
  nextToken?: string;
  /**
   * To call after each finished page (the sweep's `onPage`) with where the pair would resume, undefined once it is
   * listed to the end: what a second Ctrl-C, which cannot wait for the pair to end, prints as the resume command.
   */
  checkpoint?: (nextToken: string | undefined) => void;
}

/** What a pair's work reports. `interrupted` and `failed` pairs are in the resume token, from `nextToken`. */
export interface PairDone {
  status: 'done' | 'interrupted' | 'failed';
  counts: SweepCounts;
  nextToken?: string;
  error?: unknown;
  queryResults?: string;
  /** The account, when the work learnt it (a single-account run does not look it up beforehand). */
  account?: string;
}

/** How one account × region of the run ended (or why it never started). */
export interface PairOutcome {
  account: string;
  accountName?: string;
  region: string;
  /** The account as the resume token names it ('' in a single-account run). */
  key?: string;
  status: 'done' | 'skipped' | 'failed' | 'interrupted' | 'not-started';
  /** Why a pair was skipped, failed or not started. */
  reason?: string;
  /** `region-disabled`, `denied`, `suspended` for a skipped pair or account. */
  skip?: Skip['kind'];
  /** For a failed pair: what the user should check (the endpoint, the profile/credentials, IAM). */
  check?: string;
  counts: SweepCounts;
  nextToken?: string;
  error?: unknown;
  queryResults?: string;
}

/** A run across pairs: its plan, how each pair ended, and the resume token when some are still to do. */
export interface AcrossResult {
  plan: TargetPlan;
  /** One per pair attempted (skipped accounts appear once, with no region, in `plan.skipped`). */
  outcomes: PairOutcome[];
  /** Present when some pair is still to do. */
  resume?: { token: string; command: string };
}

/** The org flags of a command's options. */
export function orgFlagsOf(opts: Record<string, unknown>): OrgFlags {
  const pick = <K extends keyof OrgFlags>(k: K) => (opts[k] === undefined ? {} : { [k]: opts[k] });
  return {
    ...pick('org'),
    ...pick('ou'),
    ...pick('accounts'),
    ...pick('roleName'),
    ...pick('externalId'),
    ...pick('parallel'),
  } as OrgFlags;
}

/**
 * The config of one account × region: a --function-role of another account names the role of that name in this
 * one, and a role named as the template names it (`…-enforce-<region>`) that of this region.
 */
export function configFor(config: GuardConfig, account: string, region?: string): GuardConfig {
  const role = config.guardRoleArn;
  if (!role || !account) return config;
  const swapped = functionRoleFor(role, account, region);
  return swapped === role ? config : { ...config, ...(swapped ? { guardRoleArn: swapped } : {}) };
}

/**
 * Plans the accounts, then runs `work` on each account × region (or the pairs of `resumeToken`), at most
 * `--parallel` at once (default: 64 across accounts; one region at a time for a single account, in order).
 */
export async function runAcross(
  ctx: Ctx,
  options: {
    command: string;
    org: OrgFlags;
    resumeToken?: string;
    work: (task: PairTask) => Promise<PairDone>;
    /** Before the first pair starts (a confirmation); false: do nothing. */
    beforeStart?: (plan: TargetPlan, pairs: number) => Promise<boolean>;
  },
): Promise<AcrossResult | undefined> {
  const { io, config } = ctx;
  const region = ctx.regions[0] as string;
  const multi = isAcross(options.org);
  if (multi && config.keyArn)
    throw new UsageError(
      "--key-arn names one account's key; across accounts use the guard key (--key-alias), created in each account",
    );
  const plan = await planTargets({
    flags: withExternalIdFromEnv(options.org, io.env),
    clients: ctx.clients,
    region,
    command: options.command,
    ...(multi ? sessionPolicyOf(options.command, config, region) : {}),
  });
  let wanted: TokenPair[];
  if (options.resumeToken) {
    wanted = await decodeAcross(options.resumeToken, options.command, async () => plan.caller);
    if (!multi) wanted = wanted.map((p) => ({ ...p, a: '' }));
  } else {
    wanted = plan.targets.flatMap((t) => ctx.regions.map((r) => ({ a: t.account, r })));
  }
  const byAccount = new Map(plan.targets.map((t) => [t.account, t]));
  const skippedAccounts = new Map(plan.skipped.map((s) => [s.account, s]));
  if (options.beforeStart && !(await options.beforeStart(plan, wanted.length))) return undefined;
  const hints = errorHints(ctx);
  const size = options.org.parallel || multi ? parallelism(options.org.parallel) : 1;
  const pool = new Pool(size);
  const outcomes: PairOutcome[] = [];
  // Where each pair would resume now (its last finished page), for a second Ctrl-C that quits without waiting.
  const live = new Map(wanted.map((p) => [`${p.a}/${p.r}`, { ...p, done: false }]));
  const refused = () =>
    options.resumeToken
      ? wanted.filter((p) => skippedAccounts.get(p.a)?.kind === 'denied')
      : plan.skipped
          .filter((k) => k.kind === 'denied')
          .flatMap((k) => ctx.regions.map((r) => ({ a: k.account, r })));
  if (io.interrupt)
    io.interrupt.resumeCommand = () => {
      const todo = [
        ...[...live.values()]
          .filter((p) => !p.done && !skippedAccounts.has(p.a))
          .map(({ a, r, t }) => ({ a, r, ...(t ? { t } : {}) })),
        ...refused(),
      ];
      return todo.length ? resumeCommand(ctx.argv, encodeAcross(options.command, todo)) : undefined;
    };
  const settle = (pair: TokenPair, done: boolean, nextToken?: string) => {
    const entry = live.get(`${pair.a}/${pair.r}`);
    if (!entry) return;
    entry.done = done;
    if (nextToken) entry.t = nextToken;
    else delete entry.t;
  };
  const run: PairRun = { ctx, options, multi, hints, byAccount, skippedAccounts, outcomes, settle };
  await Promise.all(wanted.map((pair) => pool.run(() => runPair(run, pair)))).finally(() => {
    // The run is over: a second Ctrl-C from now on has nothing to resume.
    if (io.interrupt) delete io.interrupt.resumeCommand;
  });
  return finishAcross({
    ctx,
    command: options.command,
    resumeToken: options.resumeToken,
    plan,
    wanted,
    outcomes,
    refused,
  });
}

/** What one pair's run needs of the whole run: its options, the planned accounts and where outcomes go. */
interface PairRun {
  ctx: Ctx;
  options: { command: string; work: (task: PairTask) => Promise<PairDone> };
  multi: boolean;
  hints: ErrorHints;
  byAccount: Map<string, TargetPlan['targets'][number]>;
  skippedAccounts: Map<string, Skip>;
  outcomes: PairOutcome[];
  /** Records where the pair stands (finished, or its next page) for a second Ctrl-C's resume command. */
  settle: (pair: TokenPair, done: boolean, nextToken?: string) => void;
}

/** Runs the work on one account × region and records its outcome: done, failed, interrupted or skipped. */
async function runPair(run: PairRun, pair: TokenPair): Promise<void> {
  const { ctx, options, multi, hints, byAccount, skippedAccounts, outcomes, settle } = run;
  const { io, config } = ctx;
  const target = byAccount.get(pair.a);
  const base = {
    account: pair.a,
    ...(target?.name ? { accountName: target.name } : {}),
    region: pair.r,
    counts: emptyCounts(),
  };
  if (!target) {
    settle(pair, true);
    // Only a resumed run can name an account that is not reachable any more.
    if (!skippedAccounts.has(pair.a))
      outcomes.push({
        ...base,
        status: 'skipped',
        skip: 'denied',
        reason: 'not in the accounts of this run',
      });
    return;
  }
  if (io.signal?.aborted) {
    outcomes.push({ ...base, status: 'not-started', ...(pair.t ? { nextToken: pair.t } : {}) });
    return;
  }
  let done: PairDone;
  try {
    done = await options.work({
      account: pair.a,
      ...(target.name ? { accountName: target.name } : {}),
      region: pair.r,
      clients: target.clients(pair.r),
      config: configFor(config, pair.a, pair.r),
      ...(pair.t ? { nextToken: pair.t } : {}),
      checkpoint: (nextToken) => settle(pair, !nextToken, nextToken),
    });
  } catch (err) {
    done = {
      status: 'failed',
      counts: emptyCounts(),
      error: err,
      ...(pair.t ? { nextToken: pair.t } : {}),
    };
  }
  // A read aborted by Ctrl-C (the listing, a key or the guard key looked up) stopped the pair: not a failure.
  if (done.status === 'failed' && stoppedBySignal(done.error, { signal: io.signal })) {
    const { error: _aborted, ...rest } = done;
    done = { ...rest, status: 'interrupted', ...(pair.t && !rest.nextToken ? { nextToken: pair.t } : {}) };
  }
  // In an account reached through a role, a credentials failure is the role session's, not the caller's.
  const pairHints: ErrorHints = target.roleArn
    ? { ...hints, role: { arn: target.roleArn, account: pair.a, region: pair.r } }
    : hints;
  // A mistake in the configuration is the same in every pair: it stops the run (exit 2).
  const mistake = configMistake(done.error);
  if (mistake) throw mistake;
  // Only an opt-in Region can be not enabled: in a default one the same answer is a credentials failure.
  const disabled =
    done.status === 'failed' && isRegionNotEnabled(done.error, pair.r) && (multi || ctx.flags.allRegions);
  // Finished, or still to do from where the work stopped (the same as the token at the end has it).
  settle(pair, done.status === 'done' || Boolean(disabled), done.nextToken);
  if (disabled) {
    outcomes.push({
      ...base,
      status: 'skipped',
      skip: 'region-disabled',
      reason: `${pair.r} is not enabled for account ${pair.a}`,
    });
    return;
  }
  outcomes.push({
    ...base,
    ...(done.account && !pair.a ? { account: done.account } : {}),
    key: pair.a,
    status: done.status,
    counts: done.counts,
    ...(done.nextToken ? { nextToken: done.nextToken } : {}),
    ...(done.error !== undefined
      ? {
          error: done.error,
          reason: describeAwsError(done.error, pairHints),
          check: whatToCheck(done.error, pairHints),
        }
      : {}),
    ...(done.queryResults ? { queryResults: done.queryResults } : {}),
  });
}

/** Orders the outcomes as the pairs were asked for, and the resume token of what is still to do (if any). */
function finishAcross(input: {
  ctx: Ctx;
  command: string;
  resumeToken: string | undefined;
  plan: TargetPlan;
  wanted: TokenPair[];
  outcomes: PairOutcome[];
  refused: () => TokenPair[];
}): AcrossResult {
  const { ctx, plan, wanted, outcomes, refused } = input;
  const options = { command: input.command, resumeToken: input.resumeToken };
  const keyOf = (o: PairOutcome) => o.key ?? o.account;
  const order = new Map(wanted.map((p, i) => [`${p.a}/${p.r}`, i]));
  outcomes.sort(
    (x, y) => (order.get(`${keyOf(x)}/${x.region}`) ?? 0) - (order.get(`${keyOf(y)}/${y.region}`) ?? 0),
  );
  const todo = [
    ...outcomes
      .filter((o) => o.status === 'interrupted' || o.status === 'failed' || o.status === 'not-started')
      .map((o) => ({ a: keyOf(o), r: o.region, ...(o.nextToken ? { t: o.nextToken } : {}) })),
    // An account that refused the role is still to do once its role is fixed (a suspended one is not).
    ...refused(),
  ];
  const result: AcrossResult = { plan, outcomes };
  // A run that failed or was interrupted everywhere before listing anything has nothing to resume: the same
  // command runs it again (a resumed one too: the token it was given still holds what is left, so no new one).
  const progressed = outcomes.some(
    (o) => o.status === 'done' || o.counts.listed > 0 || (o.status === 'interrupted' && o.nextToken),
  );
  if (todo.length && progressed) {
    const token = encodeAcross(options.command, todo);
    result.resume = { token, command: resumeCommand(ctx.argv, token) };
  }
  return result;
}

/** What the run was pointed at (AWS_ENDPOINT_URL, the profile), for error messages that name what to check. */
export function errorHints(ctx: Ctx): ErrorHints {
  const endpoint = ctx.io.env.AWS_ENDPOINT_URL;
  const profile = ctx.flags.profile ?? ctx.io.env.AWS_PROFILE;
  return { ...(endpoint ? { endpoint } : {}), ...(profile ? { profile } : {}) };
}

/** `{ sessionPolicy }` of a command: every command that assumes roles has one (session-policy.ts). */
function sessionPolicyOf(command: string, config: GuardConfig, region: string): { sessionPolicy: string } {
  if (!hasSessionPolicy(command))
    throw new Error(`${command} has no session policy: define one in functions/cli/session-policy.ts`);
  return {
    sessionPolicy: sessionPolicy(command, {
      partition: partitionOf(region),
      keyAlias: config.keyAlias,
      skipTagKey: config.skipTagKey,
    }),
  };
}

/** The ConfigError or UsageError in an error's cause chain, if any. */
function configMistake(err: unknown): Error | undefined {
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof ConfigError || e instanceof UsageError) return e;
  }
  return undefined;
}

/** Sums the counts of every pair. */
export function totalOf(outcomes: PairOutcome[]): SweepCounts {
  return outcomes.reduce((sum, o) => addCounts(sum, o.counts), emptyCounts());
}

/** The pairs as JSON and the HTML report show them (without the exit-code detail `skip`). */
export function publicPairs(pairs: ReportPair[]): PairSummary[] {
  return pairs.map(({ skip: _skip, ...p }) => p);
}

/** The skipped accounts and pairs of a run, one line each, for stderr. */
export function skippedLines(result: AcrossResult): string[] {
  return [
    ...result.plan.skipped.map(
      (s) =>
        `${s.account}${s.name ? ` (${s.name})` : ''}: ${s.kind === 'denied' ? 'failed' : 'skipped'}: ${s.reason}${s.check ? `; check ${s.check}` : ''}`,
    ),
    ...result.outcomes
      .filter((o) => o.status === 'skipped')
      .map((o) => `${o.account} ${o.region}: skipped: ${o.reason ?? ''}`),
  ];
}

/** A pair as reports show it (JSON `pairs`, the HTML report), with why it was skipped. */
export interface ReportPair extends PairSummary {
  /** Why skipped, for exit codes: a refused role is a failure of the run, a suspended account is not. */
  skip?: Skip['kind'];
}

/** Every account × region of the run, in account then region order; a skipped account once per region. */
export function reportPairs(result: AcrossResult, regions: string[]): ReportPair[] {
  const pairs: ReportPair[] = result.outcomes.map((o) => ({
    account: o.account,
    ...(o.accountName ? { accountName: o.accountName } : {}),
    region: o.region,
    // A refused role is a failure of the run (the account was not audited); a suspended account is a skip.
    status: o.status === 'not-started' ? 'interrupted' : o.skip === 'denied' ? 'failed' : o.status,
    ...(o.reason ? { reason: o.reason } : o.status === 'not-started' ? { reason: 'not started' } : {}),
    ...(o.check ? { check: o.check } : {}),
    counts: o.counts,
    ...(o.queryResults ? { queryResults: o.queryResults } : {}),
    ...(o.skip ? { skip: o.skip } : {}),
  }));
  for (const s of result.plan.skipped) {
    for (const region of regions) {
      pairs.push({
        account: s.account,
        ...(s.name ? { accountName: s.name } : {}),
        region,
        status: s.kind === 'denied' ? 'failed' : 'skipped',
        reason: s.reason,
        ...(s.check ? { check: s.check } : {}),
        counts: emptyCounts(),
        skip: s.kind,
      });
    }
  }
  // One account's run learns its id from the first pair that called AWS; the pairs it never started (Ctrl-C, an
  // error) are the same account, not a second, nameless one.
  if (!result.plan.multi) {
    const known = pairs.find((p) => p.account)?.account;
    if (known) for (const p of pairs) p.account ||= known;
  }
  return pairs.sort(
    (a, b) => a.account.localeCompare(b.account) || regions.indexOf(a.region) - regions.indexOf(b.region),
  );
}

/** One line per account: done, partial (some region skipped or failed), skipped or failed. */
export function accountsOf(
  pairs: ReportPair[],
): { account: string; name?: string; status: string; reason?: string }[] {
  const by = new Map<string, ReportPair[]>();
  for (const p of pairs) by.set(p.account, [...(by.get(p.account) ?? []), p]);
  return [...by.entries()].map(([account, list]) => {
    const first = list[0] as ReportPair;
    const statuses = new Set(list.map((p) => p.status));
    const status =
      statuses.size === 1 ? first.status : statuses.has('done') ? 'partial' : [...statuses].join('+');
    const reasons = [...new Set(list.map((p) => p.reason).filter(Boolean))];
    return {
      account,
      ...(first.accountName ? { name: first.accountName } : {}),
      status,
      ...(reasons.length ? { reason: reasons.join('; ') } : {}),
    };
  });
}

/** The per account × region summary printed on stderr after a run across accounts. */
export function pairTable(pairs: ReportPair[], kind: 'audit' | 'enforce' | 'rollback' = 'audit'): string {
  const changed = (c: SweepCounts) =>
    kind === 'audit'
      ? c.candidates
      : kind === 'enforce'
        ? c.encrypted + c.wouldEncrypt
        : c.disassociated + c.wouldDisassociate;
  return toTable(
    [
      'ACCOUNT',
      'NAME',
      'REGION',
      'STATUS',
      'LISTED',
      'GUARD KEY',
      'OTHER KEY',
      kind === 'audit' ? 'UNENCRYPTED' : kind === 'enforce' ? 'ENCRYPTED' : 'DISASSOCIATED',
      'AT RISK',
      'FAILED',
      'NOTE',
    ],
    pairs.map((p) => [
      p.account,
      p.accountName ?? '',
      p.region,
      p.status,
      String(p.counts.listed),
      String(p.counts.guardKey),
      String(p.counts.otherKey),
      String(changed(p.counts)),
      String(p.counts.atRisk ?? 0),
      String(p.counts.failed),
      // The whole reason is on its own warning line below the table; here, enough to tell which.
      (p.reason ?? '').length > 72 ? `${(p.reason ?? '').slice(0, 71)}…` : (p.reason ?? ''),
    ]),
  ).trimEnd();
}
