import {
  DescribeLogGroupsCommand,
  DisassociateKmsKeyCommand,
  ListTagsForResourceCommand,
  type LogGroup,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { logGroupArn, parseArn, partitionOf } from './arn.ts';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import { mapLimit } from './concurrency.ts';
import type { GuardConfig } from './config.ts';
import { type EnforceDeps, enforceLogGroup, type Outcome } from './enforce.ts';
import { ConfigError, KeyPolicyError, UnsafeKeyError } from './errors.ts';
import type { Log } from './log.ts';
import { admitsLogs, type PolicyDocument, parsePolicy } from './policy.ts';
import { retryTransient } from './retry.ts';
import { decideScope } from './scope.ts';
import { AdaptiveTokenBucket, pacedCall, type TokenBucket } from './token-bucket.ts';

/**
 * The sweep: lists a region's log groups page by page, classifies each, and acts on the ones that
 * matter (audit: nothing; enforce: the core's enforceLogGroup; enqueue: hand them to a queue;
 * rollback: disassociate the guard's key). Paced by token buckets, bounded in concurrency,
 * resumable from a DescribeLogGroups token, stoppable between groups.
 */

/**
 * AWS's published quotas (calls per second per account and region) of the calls the sweep paces, from
 * "CloudWatch Logs quotas" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html):
 * DescribeLogGroups 10 (adjustable), AssociateKmsKey 5 (not adjustable), ListTagsForResource 5 (not
 * adjustable). DisassociateKmsKey is not on that page: 5, as AssociateKmsKey (DESIGN.md). Every rate is
 * capped at these; the emulator's table (local/emulator/quota.ts) is the same.
 */
export const LOGS_QUOTA_TPS: Readonly<SweepRates> = { describe: 10, associate: 5, tags: 5, disassociate: 5 };

/** Calls per second the sweep allows itself at most: under the account quotas, to leave room for others. */
export interface SweepRates {
  describe: number;
  associate: number;
  tags: number;
  disassociate: number;
}

// Listing runs at the DescribeLogGroups quota: a million-group account is listed at the floor (issue 14), and the
// adaptive bucket halves its rate at the first throttle, so the enforce function's own calls get through.
export const DEFAULT_SWEEP_RATES: SweepRates = { describe: 10, associate: 4, tags: 4, disassociate: 4 };

export interface SweepBuckets {
  describe: TokenBucket;
  associate: TokenBucket;
  tags: TokenBucket;
  disassociate: TokenBucket;
}

/**
 * One set of buckets per account and region (quotas are per account and region). Each is adaptive: its rate
 * is the ceiling, capped at the published quota, and it slows down when AWS throttles it anyway (another
 * caller is drawing from the same quota) and speeds back up once it is quiet.
 */
export function sweepBuckets(rates: Partial<SweepRates> = {}, clock: Clock = systemClock): SweepBuckets {
  const r = { ...DEFAULT_SWEEP_RATES, ...rates };
  const bucket = (which: keyof SweepRates) => {
    const rate = Math.min(r[which], LOGS_QUOTA_TPS[which]);
    return new AdaptiveTokenBucket(rate, Math.max(1, Math.floor(rate)), clock);
  };
  return {
    describe: bucket('describe'),
    associate: bucket('associate'),
    tags: bucket('tags'),
    disassociate: bucket('disassociate'),
  };
}

/** Where a group's encryption stands. */
export type KeyState = 'guard-key' | 'other-key' | 'no-key' | 'key-unusable';

/**
 * Why an audited group's data is at risk: its key is scheduled for deletion (the data becomes unreadable for
 * good at the key's DeletionDate), disabled, or its key policy no longer admits CloudWatch Logs.
 */
export type KeyRisk = 'key-pending-deletion' | 'key-disabled' | 'key-policy-excludes-logs';

/** What the key policy says about CloudWatch Logs (`unknown`: the policy could not be read, e.g. AccessDenied). */
export type KeyPolicyVerdict = 'admits-logs' | 'excludes-logs' | 'unknown';

/** What the sweep did (or would do) with one group. */
export type SweepAction =
  | Outcome
  | 'queued'
  | 'disassociated'
  | 'would-disassociate'
  | 'skipped-duplicate'
  | 'none';

/** One log group as the sweep saw it. */
export interface GroupReport {
  name: string;
  region: string;
  arn: string;
  kmsKeyId?: string;
  keyState: KeyState;
  /** Key state from DescribeKey when audited (`Enabled`, `Disabled`, `PendingDeletion`, …, or `unknown`). */
  keyStatus?: string;
  /** Audited: the key's policy checked for CloudWatch Logs (only for an Enabled key). */
  keyPolicy?: KeyPolicyVerdict;
  /** Audited: why the group's data is at risk, whatever its scope; absent when it is not. */
  atRisk?: KeyRisk;
  /** Audited, key pending deletion: the key's DeletionDate (ISO 8601), from when the data is unreadable. */
  unreadableFrom?: string;
  inScope: boolean;
  scopeReason?: string;
  /** An AWS-reserved name (`aws/…`): CloudWatch Logs refuses any key for it; never acted on. */
  reserved?: boolean;
  action: SweepAction;
  detail?: string;
  createdAt?: number;
  storedBytes?: number;
}

export interface SweepCounts {
  pages: number;
  listed: number;
  guardKey: number;
  otherKey: number;
  keyUnusable: number;
  /** Audited groups whose key is pending deletion, disabled, or whose key policy shuts CloudWatch Logs out. */
  atRisk: number;
  noKey: number;
  outOfScope: number;
  /** AWS-reserved groups (`aws/…`): not encryptable, neither a gap nor a failure. */
  reserved: number;
  /** Unencrypted (or, with ALLOW_KEY_OVERRIDE, other-key) groups in scope: the ones to fix. */
  candidates: number;
  encrypted: number;
  wouldEncrypt: number;
  queued: number;
  disassociated: number;
  wouldDisassociate: number;
  gone: number;
  failed: number;
  skippedDuplicate: number;
}

export function emptyCounts(): SweepCounts {
  return {
    pages: 0,
    listed: 0,
    guardKey: 0,
    otherKey: 0,
    keyUnusable: 0,
    atRisk: 0,
    noKey: 0,
    outOfScope: 0,
    reserved: 0,
    candidates: 0,
    encrypted: 0,
    wouldEncrypt: 0,
    queued: 0,
    disassociated: 0,
    wouldDisassociate: 0,
    gone: 0,
    failed: 0,
    skippedDuplicate: 0,
  };
}

/** A checkpoint: the DescribeLogGroups token of the first page not finished, and what was counted so far. */
export interface SweepState {
  nextToken?: string;
  counts: SweepCounts;
}

/** An in-scope group the sweep wants fixed. */
export interface Candidate {
  name: string;
  region: string;
  account: string;
  arn: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
}

export type SweepMode = 'audit' | 'enforce' | 'enqueue' | 'rollback';

export interface SweepOptions {
  mode: SweepMode;
  clients: Clients;
  config: GuardConfig;
  region: string;
  /** Used when a listed group carries no ARN to read its account from. */
  account?: string;
  log: Log;
  clock?: Clock;
  buckets?: SweepBuckets;
  /** Groups acted on at once (the buckets, not this, set the call rates). Default 8. */
  concurrency?: number;
  prefix?: string;
  pageSize?: number;
  resume?: SweepState;
  /** Stops between groups: the run returns the token to resume from. */
  signal?: AbortSignal;
  /** Epoch ms after which no new page or group is started. */
  stopAt?: number;
  /** Epoch ms that no group's retries may outlive (the Lambda's end). */
  hardDeadline?: number;
  /** How long one group may take (propagation retries included). Default 120 s. */
  groupTimeoutMs?: number;
  /** mode `enqueue`: receives each page's candidates. */
  enqueue?: (candidates: Candidate[]) => Promise<void>;
  onGroup?: (report: GroupReport) => void;
  /** Called after each finished page with the checkpoint. */
  onPage?: (state: SweepState) => void | Promise<void>;
  /** The guard's key ARN if known (null: known not to exist); looked up otherwise. */
  guardKeyArn?: string | null;
  /**
   * mode `audit`: DescribeKey every distinct key once, to report unusable keys, and GetKeyPolicy every distinct
   * Enabled key once, to report groups at risk (`GroupReport.atRisk`).
   */
  checkKeys?: boolean;
  /** Names already handled in this run; shared across calls to never touch a group twice. */
  seen?: Set<string>;
}

/** What DescribeKey said about one key (audit). */
interface KeyFacts {
  /** KeyState, with the KeySpec appended when the key is not symmetric (`Enabled RSA_2048`). */
  status: string;
  state: string;
  /** ISO 8601, for a key pending deletion. */
  deletionDate?: string;
}

export interface SweepResult {
  state: SweepState;
  /** True when the listing reached its end. */
  done: boolean;
  stopped?: 'signal' | 'deadline' | 'error';
  error?: Error;
  guardKeyArn: string | undefined;
}

/** The guard's key (configured ARN, or alias) as it is now; undefined when it does not exist. Read-only. */
export async function findGuardKey(
  clients: Clients,
  config: GuardConfig,
  clock: Clock = systemClock,
): Promise<KeyMetadata | undefined> {
  try {
    const out = await retryTransient(
      () => clients.kms.send(new DescribeKeyCommand({ KeyId: config.keyArn ?? config.keyAlias })),
      { deadline: clock.now() + 30_000, clock },
    );
    return out.KeyMetadata;
  } catch (err) {
    if ((err as Error).name === 'NotFoundException') return undefined;
    throw err;
  }
}

/** Where a listed group's key stands relative to the guard's key; pure. */
export function keyStateOf(kmsKeyId: string | undefined, guardKeyArn: string | undefined): KeyState {
  if (!kmsKeyId) return 'no-key';
  if (guardKeyArn && sameKey(kmsKeyId, guardKeyArn)) return 'guard-key';
  return 'other-key';
}

/** True when two key references (ARN or id) name the same key. */
export function sameKey(a: string, b: string): boolean {
  const id = (k: string) => k.slice(k.lastIndexOf('/') + 1);
  return a === b || (id(a) === id(b) && !a.includes('alias/') && !b.includes('alias/'));
}

/** The log group ARN tags and policies use (no trailing `:*`). */
export function groupArnOf(group: LogGroup, region: string, account: string | undefined): string {
  if (group.logGroupArn) return group.logGroupArn;
  if (group.arn) return group.arn.replace(/:\*$/, '');
  return logGroupArn(partitionOf(region), region, account ?? '', group.logGroupName ?? '');
}

/** Errors that would fail every remaining group the same way: the run stops instead of grinding on. */
export function isFatalSweepError(err: unknown): boolean {
  if (err instanceof UnsafeKeyError || err instanceof KeyPolicyError || err instanceof ConfigError)
    return true;
  const chain: unknown[] = [err, (err as { cause?: unknown })?.cause];
  return chain.some((e) => {
    const x = e as { name?: string; message?: string } | undefined;
    if (!x) return false;
    if (/not authorized to perform/i.test(x.message ?? '')) return true;
    return x.name === 'CredentialsProviderError' || x.name === 'UnrecognizedClientException';
  });
}

/** One page of DescribeLogGroups, paced and retried. */
export async function describePage(
  clients: Clients,
  options: { bucket?: TokenBucket; prefix?: string; nextToken?: string; limit?: number; clock?: Clock },
) {
  const clock = options.clock ?? systemClock;
  return retryTransient(
    () =>
      pacedCall(options.bucket, () =>
        clients.logs.send(
          new DescribeLogGroupsCommand({
            limit: options.limit ?? 50,
            ...(options.prefix ? { logGroupNamePrefix: options.prefix } : {}),
            ...(options.nextToken ? { nextToken: options.nextToken } : {}),
          }),
        ),
      ),
    { deadline: clock.now() + 120_000, clock, maxAttempts: 10 },
  );
}

/** A group's tags, paced under the ListTagsForResource quota; undefined when the group is gone. */
export async function readTags(
  clients: Clients,
  arn: string,
  options: { bucket?: TokenBucket; clock?: Clock } = {},
): Promise<Record<string, string> | undefined> {
  const clock = options.clock ?? systemClock;
  try {
    const out = await retryTransient(
      () =>
        pacedCall(options.bucket, () =>
          clients.logs.send(new ListTagsForResourceCommand({ resourceArn: arn })),
        ),
      { deadline: clock.now() + 60_000, clock, maxAttempts: 10 },
    );
    return out.tags ?? {};
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** Removes the key from one group, paced under the DisassociateKmsKey quota; `gone` when it no longer exists. */
/** The opt-out tag's value a rollback sets: the group is out of scope until someone removes the tag. */
export const ROLLBACK_TAG_VALUE = 'rollback';

export async function disassociateKey(
  clients: Clients,
  name: string,
  options: {
    bucket?: TokenBucket;
    clock?: Clock;
    deadline?: number;
    /**
     * The group's ARN and the opt-out tag: set (`<tag>=rollback`) before the key is removed, so neither the
     * guard's DisassociateKmsKey handling nor the sweep encrypts the group again (rollback and guard never
     * fight; remove the tag to hand the group back to the guard).
     */
    optOut?: { arn: string; tagKey: string };
  } = {},
): Promise<'disassociated' | 'gone'> {
  const clock = options.clock ?? systemClock;
  try {
    const optOut = options.optOut;
    if (optOut) {
      await retryTransient(
        () =>
          clients.logs.send(
            new TagResourceCommand({
              resourceArn: optOut.arn,
              tags: { [optOut.tagKey]: ROLLBACK_TAG_VALUE },
            }),
          ),
        { deadline: options.deadline ?? clock.now() + 60_000, clock, maxAttempts: 10 },
      );
    }
    await retryTransient(
      () =>
        pacedCall(options.bucket, () =>
          clients.logs.send(new DisassociateKmsKeyCommand({ logGroupName: name })),
        ),
      { deadline: options.deadline ?? clock.now() + 60_000, clock, maxAttempts: 10 },
    );
    return 'disassociated';
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return 'gone';
    throw err;
  }
}

const ACTION_COUNT: Partial<Record<SweepAction, keyof SweepCounts>> = {
  encrypted: 'encrypted',
  'would-encrypt': 'wouldEncrypt',
  queued: 'queued',
  disassociated: 'disassociated',
  'would-disassociate': 'wouldDisassociate',
  'group-gone': 'gone',
  failed: 'failed',
  'skipped-duplicate': 'skippedDuplicate',
};

/** Counts that record what was done (kept even for a page left half-way) versus what was seen. */
const ACTION_KEYS = new Set<keyof SweepCounts>(Object.values(ACTION_COUNT));

/** Lists, classifies and acts, page by page, until the end, the signal or the deadline. */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const { clients, config, region, log, mode } = options;
  const clock = options.clock ?? systemClock;
  const buckets = options.buckets ?? sweepBuckets({}, clock);
  const concurrency = options.concurrency ?? 8;
  const seen = options.seen ?? new Set<string>();
  const counts: SweepCounts = { ...emptyCounts(), ...options.resume?.counts };
  const state: SweepState = {
    counts,
    ...(options.resume?.nextToken ? { nextToken: options.resume.nextToken } : {}),
  };

  let guardKeyArn: string | undefined;
  if (options.guardKeyArn !== undefined) guardKeyArn = options.guardKeyArn ?? undefined;
  else guardKeyArn = (await findGuardKey(clients, config, clock))?.Arn;
  if (mode === 'rollback' && !guardKeyArn) log.info('the guard key does not exist: nothing to roll back');

  const keyStatus = new Map<string, Promise<KeyFacts>>();
  const statusOf = (arn: string) => {
    let pending = keyStatus.get(arn);
    if (!pending) {
      pending = clients.kms
        .send(new DescribeKeyCommand({ KeyId: arn }))
        .then((out): KeyFacts => {
          const meta = out?.KeyMetadata;
          const state = meta?.KeyState ?? 'unknown';
          const spec = meta?.KeySpec ?? 'SYMMETRIC_DEFAULT';
          return {
            status: spec === 'SYMMETRIC_DEFAULT' ? state : `${state} ${spec}`,
            state,
            ...(meta?.DeletionDate ? { deletionDate: new Date(meta.DeletionDate).toISOString() } : {}),
          };
        })
        .catch((err: Error) => {
          const status = err.name === 'NotFoundException' ? 'NotFound' : 'unknown';
          return { status, state: status };
        });
      keyStatus.set(arn, pending);
    }
    return pending;
  };
  // One GetKeyPolicy per distinct key; a policy the caller may not read (or that fails) is `unknown`.
  const keyPolicies = new Map<string, Promise<PolicyDocument | undefined>>();
  const policyOf = (arn: string) => {
    let pending = keyPolicies.get(arn);
    if (!pending) {
      pending = clients.kms
        .send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: 'default' }))
        .then((out) => (out?.Policy ? parsePolicy(out.Policy) : undefined))
        .catch((err: Error) => {
          log.debug('audit: the key policy could not be read; not checked', {
            kmsKeyId: arn,
            error: `${err.name}: ${err.message}`,
          });
          return undefined;
        });
      keyPolicies.set(arn, pending);
    }
    return pending;
  };
  /** Where an audited group's key leaves its data (see KeyRisk). */
  const riskOf = async (kmsKeyId: string, groupArn: string) => {
    const facts = await statusOf(kmsKeyId);
    const out: { facts: KeyFacts; keyPolicy?: KeyPolicyVerdict; atRisk?: KeyRisk } = { facts };
    if (facts.state === 'PendingDeletion' || facts.state === 'PendingReplicaDeletion') {
      out.atRisk = 'key-pending-deletion';
    } else if (facts.state === 'Disabled') out.atRisk = 'key-disabled';
    else if (facts.status === 'Enabled') {
      const policy = await policyOf(kmsKeyId);
      const account = parseArn(groupArn)?.account || options.account || parseArn(kmsKeyId)?.account || '';
      out.keyPolicy = !policy
        ? 'unknown'
        : admitsLogs(policy, { partition: partitionOf(region), region, account })
          ? 'admits-logs'
          : 'excludes-logs';
      if (out.keyPolicy === 'excludes-logs') out.atRisk = 'key-policy-excludes-logs';
    }
    return out;
  };

  const stopReason = (): 'signal' | 'deadline' | undefined => {
    if (options.signal?.aborted) return 'signal';
    if (options.stopAt !== undefined && clock.now() >= options.stopAt) return 'deadline';
    return undefined;
  };

  const fetch = (token: string | undefined) =>
    describePage(clients, {
      bucket: buckets.describe,
      clock,
      limit: options.pageSize ?? 50,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(token ? { nextToken: token } : {}),
    });

  let fatal: Error | undefined;
  let pending = stopReason() ? undefined : fetch(state.nextToken);
  while (pending) {
    let page: Awaited<ReturnType<typeof fetch>>;
    try {
      page = await pending;
    } catch (err) {
      return { state, done: false, stopped: 'error', error: err as Error, guardKeyArn };
    }
    const pageToken = state.nextToken;
    const following = page.nextToken;
    // Fetch the next page while this one is worked on; dropped if the run stops before it is needed.
    let prefetched: typeof pending | undefined;
    if (following && !stopReason()) {
      prefetched = fetch(following);
      prefetched.catch(() => undefined);
    }

    const pageCounts = emptyCounts();
    pageCounts.pages = 1;
    const reports: GroupReport[] = [];
    const work: { report: GroupReport; group: LogGroup }[] = [];
    for (const group of page.logGroups ?? []) {
      const name = group.logGroupName;
      if (!name) continue;
      pageCounts.listed++;
      const arn = groupArnOf(group, region, options.account);
      const kmsKeyId = group.kmsKeyId || undefined;
      let keyState = keyStateOf(kmsKeyId, guardKeyArn);
      let status: string | undefined;
      let risk: Awaited<ReturnType<typeof riskOf>> | undefined;
      if (options.checkKeys && kmsKeyId) {
        risk = await riskOf(kmsKeyId, arn);
        status = risk.facts.status;
        if (status !== 'Enabled' && status !== 'unknown') keyState = 'key-unusable';
      }
      const scope = decideScope(config, name, undefined);
      const report: GroupReport = {
        name,
        region,
        arn,
        ...(kmsKeyId ? { kmsKeyId } : {}),
        keyState,
        ...(status ? { keyStatus: status } : {}),
        ...(risk?.keyPolicy ? { keyPolicy: risk.keyPolicy } : {}),
        ...(risk?.atRisk ? { atRisk: risk.atRisk } : {}),
        ...(risk?.atRisk === 'key-pending-deletion' && risk.facts.deletionDate
          ? { unreadableFrom: risk.facts.deletionDate }
          : {}),
        inScope: scope.inScope,
        ...(scope.inScope ? {} : { scopeReason: scope.reason }),
        ...(!scope.inScope && scope.reserved ? { reserved: true } : {}),
        action: 'none',
        ...(group.creationTime !== undefined ? { createdAt: group.creationTime } : {}),
        ...(group.storedBytes !== undefined ? { storedBytes: group.storedBytes } : {}),
      };
      const countKey = (
        {
          'guard-key': 'guardKey',
          'other-key': 'otherKey',
          'no-key': 'noKey',
          'key-unusable': 'keyUnusable',
        } as const
      )[keyState];
      pageCounts[countKey]++;
      if (report.atRisk) pageCounts.atRisk++;
      reports.push(report);
      if (mode === 'rollback') {
        if (keyState === 'guard-key') work.push({ report, group });
        continue;
      }
      const fixable = keyState === 'no-key' || (config.allowKeyOverride && keyState !== 'guard-key');
      if (!scope.inScope) {
        if (scope.reserved) pageCounts.reserved++;
        else pageCounts.outOfScope++;
        continue;
      }
      // Tags matter only where the group would otherwise be acted on (or, in an audit, reported as a gap).
      if (fixable) work.push({ report, group });
    }

    let interrupted = false;
    const candidates: Candidate[] = [];
    const emitted = new Set<GroupReport>();
    await mapLimit(work, concurrency, async (item) => {
      await act(item);
      // Reported as soon as it is done (progress); queued ones only once the page is sent.
      if (mode !== 'enqueue' && item.report.action !== 'none') {
        emitted.add(item.report);
        options.onGroup?.(item.report);
      }
    });
    async function act({ report, group }: { report: GroupReport; group: LogGroup }): Promise<void> {
      // Queueing finishes its page (a few paced tag reads) so nothing is sent twice on resume.
      if (fatal || (mode !== 'enqueue' && stopReason())) {
        interrupted = true;
        return;
      }
      if (seen.has(report.name)) {
        report.action = 'skipped-duplicate';
        return;
      }
      seen.add(report.name);
      const account = parseArn(report.arn)?.account || options.account || '';
      try {
        if (mode === 'rollback') {
          if (config.dryRun) {
            report.action = 'would-disassociate';
            return;
          }
          const deadline = groupDeadline(options, clock);
          const done = await disassociateKey(clients, report.name, {
            bucket: buckets.disassociate,
            clock,
            deadline,
            optOut: { arn: report.arn, tagKey: config.skipTagKey },
          });
          report.action = done === 'gone' ? 'group-gone' : 'disassociated';
          return;
        }
        const tags = await readTags(clients, report.arn, { bucket: buckets.tags, clock });
        if (tags === undefined) {
          report.action = 'group-gone';
          return;
        }
        const scope = decideScope(config, report.name, tags);
        if (!scope.inScope) {
          report.inScope = false;
          report.scopeReason = scope.reason;
          pageCounts.outOfScope++;
          return;
        }
        pageCounts.candidates++;
        const candidate: Candidate = {
          name: report.name,
          region,
          account,
          arn: report.arn,
          ...(report.kmsKeyId ? { kmsKeyId: report.kmsKeyId } : {}),
          tags,
        };
        if (mode === 'audit') return;
        if (mode === 'enqueue') {
          candidates.push(candidate);
          report.action = 'queued';
          return;
        }
        const deps: EnforceDeps = {
          clients,
          config,
          log,
          deadline: groupDeadline(options, clock),
          clock,
          associateBucket: buckets.associate,
        };
        const result = await enforceLogGroup(
          { name: report.name, region, account, tags, currentKmsKeyId: group.kmsKeyId || null },
          deps,
        );
        report.action = result.outcome;
        report.detail = result.reason;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        report.action = 'failed';
        report.detail = `${error.name}: ${error.message}`;
        log.error('sweep: group failed', { logGroupName: report.name, region, error: report.detail });
        if (isFatalSweepError(err)) fatal ??= error;
      }
    }

    if (mode === 'enqueue' && candidates.length > 0 && options.enqueue) {
      try {
        await options.enqueue(candidates);
      } catch (err) {
        // Not queued: the page is not finished, so the checkpoint stays before it.
        for (const r of reports) if (r.action === 'queued') r.action = 'none';
        return { state, done: false, stopped: 'error', error: err as Error, guardKeyArn };
      }
    }

    for (const report of reports) {
      const key = ACTION_COUNT[report.action];
      if (key) pageCounts[key]++;
      if (!emitted.has(report) && (!interrupted || report.action !== 'none')) options.onGroup?.(report);
    }
    if (interrupted || fatal) {
      // A page left half-way: keep what was done, not what was seen (it is listed again on resume).
      for (const key of ACTION_KEYS) counts[key] += pageCounts[key];
      if (fatal) return { state, done: false, stopped: 'error', error: fatal, guardKeyArn };
      return { state, done: false, stopped: stopReason() ?? 'signal', guardKeyArn };
    }
    for (const key of Object.keys(counts) as (keyof SweepCounts)[]) counts[key] += pageCounts[key];
    if (following) state.nextToken = following;
    else delete state.nextToken;
    log.debug('sweep: page done', { region, pageToken, ...counts });
    await options.onPage?.(state);
    if (!following) return { state, done: true, guardKeyArn };
    const reason = stopReason();
    if (reason) return { state, done: false, stopped: reason, guardKeyArn };
    pending = prefetched;
  }
  return { state, done: false, stopped: stopReason() ?? 'signal', guardKeyArn };
}

function groupDeadline(options: SweepOptions, clock: Clock): number {
  const own = clock.now() + (options.groupTimeoutMs ?? 120_000);
  return options.hardDeadline === undefined ? own : Math.min(own, options.hardDeadline);
}

/** Adds `b` into a copy of `a` (totals over regions or invocations). */
export function addCounts(a: SweepCounts, b: SweepCounts): SweepCounts {
  const out = { ...a };
  for (const key of Object.keys(out) as (keyof SweepCounts)[]) out[key] += b[key] ?? 0;
  return out;
}
