/**
 * Bringing one log group under the guard's key, the core of every path (a new group's event, the sweep, the
 * CLI): decide its scope, read its current key, ensure the key and its policy (key.ts), read its tags as they
 * are now (the opt-out tag may have been set since the event or the sweep's listing), and associate
 * (associate.ts). Each path reports the outcome; each outcome maps to a metric.
 */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { logGroupArn, partitionOf } from './arn.ts';
import { type AssociateResult, associateKey } from './associate.ts';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import type { GuardConfig } from './config.ts';
import { AssociationError, GuardError, KeyPolicyError, UnsafeKeyError } from './errors.ts';
import {
  ensureKey,
  ensureKeyPolicy,
  invalidateKey,
  type KeyCreator,
  type KeyRef,
  type KeyStepOptions,
  keyContext,
} from './key.ts';
import { markOwnerKey, writeKeyRecord } from './key-record-store.ts';
import type { Log } from './log.ts';
import { refusedForLogClass } from './log-class.ts';
import { type BackoffOptions, retryTransient } from './retry.ts';
import { decideScope } from './scope.ts';
import { readTags } from './sweep/listing.ts';
import type { TokenBucket } from './token-bucket.ts';

/** What happened to one log group; each maps to a metric. */
export type Outcome =
  | 'encrypted'
  | 'already-encrypted'
  | 'out-of-scope'
  | 'not-encryptable'
  | 'ignored-failed-call'
  | 'rejected-input'
  | 'group-gone'
  | 'would-encrypt'
  | 'failed'
  // after creation (drift.ts)
  | 're-encrypted'
  /** Re-encrypted after an infrastructure-as-code tool removed the key (fight.ts): IacReEncrypted, not ReEncrypted. */
  | 'fight-re-encrypted'
  | 'key-policy-repaired'
  | 'rotation-restored'
  | 'key-at-risk'
  | 'key-restored'
  /** The scheduled key check created the missing guard key (changes function). */
  | 'key-created'
  | 'alias-changed'
  | 'change-ignored';

export interface EnforceResult {
  outcome: Outcome;
  logGroupName: string;
  reason: string;
  keyArn?: string;
  attempts?: number;
}

/** One log group to bring under the guard's key. */
export interface EnforceTarget {
  name: string;
  region: string;
  account: string;
  /** Tags known from the create call or the sweep's listing. */
  tags?: Record<string, string>;
  /**
   * True when `tags` were read from the group moments ago in this same flow (the sweep's audit step, a
   * re-encryption's check): no second read. Otherwise the group's tags are read right before associating.
   */
  tagsCurrent?: boolean;
  /** The key the creator asked for (from the event). */
  requestedKmsKeyId?: string;
  /** Set by callers that already listed the group (the sweep): its key now, `null` for none. */
  currentKmsKeyId?: string | null;
}

export interface EnforceDeps {
  clients: Clients;
  config: GuardConfig;
  log: Log;
  /** Epoch ms by which this group must be finished or handed back to the queue. */
  deadline: number;
  clock?: Clock;
  associateBucket?: TokenBucket;
  /** Paces the tag read before an association under the ListTagsForResource quota (5 TPS, shared). */
  tagsBucket?: TokenBucket;
  backoff?: BackoffOptions;
  /** Counts an alarmed metric (see KeyStepOptions.alert). */
  alert?: KeyStepOptions['alert'];
  /** See KeyStepOptions.ownLogGroup. */
  ownLogGroup?: string;
  /** Creates the guard key when it is missing (KeyStepOptions.creator); the enforce function passes none. */
  keyCreator?: KeyCreator;
}

/** How long after creating or repairing a key refusals are taken for propagation ("seconds to minutes"). */
const FRESH_KEY_MS = 5 * 60_000;

/** True for a key created or changed in the last FRESH_KEY_MS: Logs refusing it is propagation. */
function isFresh(key: KeyRef, clock: Clock): boolean {
  const since = key.changedAt ?? key.createdAt;
  return since !== undefined && clock.now() - since < FRESH_KEY_MS;
}

/** Describes one group by exact name; undefined when it does not exist. */
export async function describeLogGroup(clients: Clients, name: string) {
  // Names sort lexicographically and a name sorts before every longer name it prefixes, so the
  // exact group, if it exists, is the first result of its own prefix.
  const out = await clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, limit: 1 }));
  // AWS always answers with a list (empty when nothing matches); anything else must not read as "gone".
  if (!Array.isArray(out.logGroups)) {
    throw new GuardError('DescribeLogGroups answered without a logGroups list', { retryable: true });
  }
  const group = out.logGroups[0];
  return group?.logGroupName === name ? group : undefined;
}

/** The ARN tags are read by (no trailing `:*`). */
function groupArnFor(target: EnforceTarget): string {
  return logGroupArn(partitionOf(target.region), target.region, target.account, target.name);
}

/** Forgets the cached key and verifies it again; throws only when the key is now refused as unsafe. */
async function recheckKey(keyOptions: KeyStepOptions): Promise<void> {
  invalidateKey(keyOptions);
  try {
    await ensureKey(keyOptions);
  } catch (err) {
    if (err instanceof UnsafeKeyError || err instanceof KeyPolicyError) throw err;
  }
}

/** The whole job for one group: scope, current key, ensure key and policy, associate. */
export async function enforceLogGroup(target: EnforceTarget, deps: EnforceDeps): Promise<EnforceResult> {
  const { config, clients, log } = deps;
  const clock = deps.clock ?? systemClock;
  const { name } = target;
  const done = (outcome: Outcome, reason: string, extra: Partial<EnforceResult> = {}): EnforceResult => ({
    outcome,
    logGroupName: name,
    reason,
    ...extra,
  });

  const scope = decideScope(config, name, target.tags);
  if (!scope.inScope) return done(scope.reserved ? 'not-encryptable' : 'out-of-scope', scope.reason);
  if (target.requestedKmsKeyId && !config.allowKeyOverride) {
    await markOwnerKey({
      clients,
      arn: groupArnFor(target),
      previousKey: target.requestedKmsKeyId,
      log,
      clock,
      deadline: deps.deadline,
    });
    return done('already-encrypted', 'created with its own KMS key: the owner chose it', {
      keyArn: target.requestedKmsKeyId,
    });
  }

  let current = target.currentKmsKeyId;
  let retentionInDays: number | undefined;
  if (current === undefined) {
    const group = await retryTransient(() => describeLogGroup(clients, name), {
      deadline: deps.deadline,
      clock,
    });
    if (!group) return done('group-gone', 'the log group no longer exists');
    current = group.kmsKeyId ?? null;
    retentionInDays = group.retentionInDays;
  }
  if (current && !config.allowKeyOverride) {
    return done('already-encrypted', 'already uses a KMS key; not overridden', { keyArn: current });
  }

  const ctx = keyContext(config, target.region, target.account);
  const keyOptions = {
    clients,
    config,
    ctx,
    log,
    deadline: deps.deadline,
    clock,
    alert: deps.alert,
    ownLogGroup: deps.ownLogGroup,
    creator: deps.keyCreator,
  };
  const key: KeyRef = await ensureKey(keyOptions);
  if (current === key.arn)
    return done('already-encrypted', 'already uses the guard key', { keyArn: key.arn });
  // The tags as they are now: the event carries only those given at creation, a sweep work item none, and the
  // opt-out tag may have been set since. A failed read throws (the record goes back to the queue).
  let tags = target.tags;
  if (!target.tagsCurrent) {
    tags = await readTags(clients, groupArnFor(target), {
      bucket: deps.tagsBucket,
      clock,
      deadline: deps.deadline,
    });
    if (tags === undefined) return done('group-gone', 'the log group no longer exists');
    const now = decideScope(config, name, tags);
    if (!now.inScope) return done('out-of-scope', now.reason);
  }
  if (config.dryRun) {
    return done('would-encrypt', current ? `would replace ${current}` : 'would associate', {
      keyArn: key.arn,
    });
  }
  // ALLOW_KEY_OVERRIDE replacing another key: the data ingested so far stays under it (key-record.ts).
  if (current) {
    await writeKeyRecord({
      clients,
      arn: groupArnFor(target),
      previousKey: current,
      tags,
      retentionInDays,
      log,
      clock,
      deadline: deps.deadline,
    });
  }

  let result: AssociateResult;
  try {
    result = await associateKey({
      logs: clients.logs,
      name,
      keyArn: key.arn,
      deadline: deps.deadline,
      log,
      clock,
      bucket: deps.associateBucket,
      backoff: deps.backoff,
      keyJustChanged: isFresh(key, clock),
      // Logs still refusing a key that should be visible: maybe someone narrowed its policy since we cached it.
      onPropagationStall: async () => {
        // A key created (by the changes function's key check, say) or repaired moments ago is simply not
        // visible to Logs yet: reading its policy back would only cost calls (in a burst, one per waiting record).
        if (isFresh(key, clock)) return;
        invalidateKey(keyOptions);
        log.warn('CloudWatch Logs keeps refusing the key; re-checking its policy', { keyArn: key.arn });
        await ensureKeyPolicy({ ...keyOptions, key });
      },
    });
  } catch (err) {
    // Logs refused the key for good (e.g. disabled or scheduled for deletion since this container cached it):
    // check it again now, so an unusable key is refused as such (UnsafeKeyRefused has an alarm) instead of
    // failing every event as a plain association error until the cache expires.
    if (err instanceof AssociationError && !err.retryable) await recheckKey(keyOptions);
    throw err;
  }
  if (result.outcome === 'not-encryptable') {
    const why = result.refusal && refusedForLogClass(result.refusal) ? 'its log class' : 'reserved for AWS';
    return done('not-encryptable', `CloudWatch Logs refuses a key for this group (${why})`, {
      attempts: result.attempts,
    });
  }
  if (result.outcome === 'gone') {
    return done('group-gone', 'the log group was deleted before it could be associated', {
      attempts: result.attempts,
    });
  }
  return done('encrypted', current ? `replaced ${current}` : 'associated with the guard key', {
    keyArn: key.arn,
    attempts: result.attempts,
  });
}
