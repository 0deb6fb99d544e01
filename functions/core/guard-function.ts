/**
 * What the enforce and the changes functions share once per container: their configuration, observability, the
 * AssociateKmsKey and tag-read pacers, the outcome-to-metric names, the alarmed counts (with NeedsAttention), and
 * the dependencies an invocation hands to handle.ts. Each entry file says only what sets it apart (its parser, its change step, whether it may create
 * the guard key, the custom resource).
 */
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { clientsFor } from './clients.ts';
import { systemClock } from './clock.ts';
import { assertKeyInAccount, loadConfig } from './config.ts';
import type { Outcome } from './enforce.ts';
import { type Home, isSqsEvent } from './event.ts';
import {
  type HandleDeps,
  type HandledEvent,
  handleInvocation,
  handleSqsBatch,
  isUnsafeKey,
} from './handle.ts';
import type { AlertMetric } from './key.ts';
import { functionHome, ownLogGroupOf, remainingMsOf } from './lambda-context.ts';
import { createObservability } from './observability.ts';
import { claimByLogStream } from './once.ts';
import { SHARED_QUOTA_PACING } from './sweep/quotas.ts';
import { AdaptiveTokenBucket } from './token-bucket.ts';

/** Outcomes to metric names; '' where the outcome is counted by its alarmed metric instead. */
const METRIC_NAMES: Record<Outcome, string> = {
  encrypted: 'Encrypted',
  'already-encrypted': 'AlreadyEncrypted',
  'out-of-scope': 'OutOfScope',
  'not-encryptable': 'NotEncryptable',
  'ignored-failed-call': 'IgnoredFailedCall',
  'rejected-input': 'RejectedInput',
  'group-gone': 'GroupGone',
  'would-encrypt': 'WouldEncrypt',
  failed: 'Failed',
  're-encrypted': 'ReEncrypted',
  // Every fight's re-encryption, counted but not alarmed: the first of each group raises IacConflict (fight.ts).
  'fight-re-encrypted': 'IacReEncrypted',
  // Counted by their alarmed metric (KeyPolicyRepaired, KeyAtRisk: groups at risk, KeyAliasChanged), through count.
  'key-policy-repaired': '',
  'rotation-restored': 'RotationRestored',
  'key-at-risk': '',
  'key-restored': 'KeyRestored',
  'key-created': 'KeyCreated',
  'alias-changed': '',
  'change-ignored': 'ChangeIgnored',
};

/**
 * The rare causes someone must look at, each counted by its own metric (the dashboard shows which it was) and
 * also in NeedsAttention, the one metric one alarm reads (CloudWatch bills each metric an alarm reads, metric
 * math included: one alarm instead of seven). KeyAtRisk keeps its own alarm (data loss; its value is the
 * number of groups), so it is not one of them.
 */
export type AttentionMetric =
  | Exclude<AlertMetric, 'KeyAtRisk'>
  | 'UnsafeKeyRefused'
  | 'ReEncrypted'
  | 'CustomResourceRefused';

/** The counts one alarmed count adds: the metric itself, and NeedsAttention by the same value but for KeyAtRisk. */
export function alarmedCounts(metric: AttentionMetric | 'KeyAtRisk', value = 1): [string, number][] {
  return metric === 'KeyAtRisk'
    ? [[metric, value]]
    : [
        [metric, value],
        ['NeedsAttention', value],
      ];
}

/** Records of one SQS batch handled at once; the bucket, not this, sets the call rate. */
const BATCH_CONCURRENCY = 5;
/** Without a Lambda context (a manual run), how long one invocation may take. */
export const DEFAULT_BUDGET_MS = 60_000;

/** What sets a function apart in handle.ts (its parser, its change step, key creation). */
export type FunctionKind = Pick<HandleDeps, 'parse' | 'onChange' | 'keyCreator'>;

/** A function's container state, built once at load; `handleDeps` gives each invocation its dependencies. */
export function createGuardFunction(kind: FunctionKind = {}) {
  // Validated once per container: a bad setting fails every invocation loudly, naming the variable.
  const config = loadConfig();
  const { logger, metrics, log } = createObservability();
  // Shared by every record this container handles, so a batch is paced under the AssociateKmsKey quota
  // (5 TPS per account and region, not adjustable: CloudWatch Logs quotas,
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html). ASSOCIATE_RATE is the
  // ceiling; the quota is shared with every other caller in the account (the sweep, a CLI backfill, other
  // containers) and with automation that does not adapt, so the bucket halves its rate when throttled anyway,
  // climbs back once it is quiet, and dithers its calls so that it meets a neighbour's throttles too.
  const associateBucket = new AdaptiveTokenBucket(
    config.associateRate,
    config.associateRate,
    systemClock,
    SHARED_QUOTA_PACING,
  );
  // The tag read before each association (the opt-out tag as it is now) has its own quota, ListTagsForResource
  // 5 TPS, shared with the sweep: paced the same way, at the same ceiling (one read per association).
  const tagsBucket = new AdaptiveTokenBucket(
    config.associateRate,
    config.associateRate,
    systemClock,
    SHARED_QUOTA_PACING,
  );
  /** Change events this container handled (a late duplicate raises no second alarm; core/once.ts). */
  const handledChanges = new Set<string>();
  /** Groups being handled by this container now: a concurrent duplicate shares the first copy's result. */
  const inflight: NonNullable<HandleDeps['inflight']> = new Map();

  /** Counts an alarmed cause, and NeedsAttention with it (alarmedCounts): every alarmed count goes through here. */
  function count(metric: AttentionMetric | 'KeyAtRisk', value?: number): void {
    for (const [name, n] of alarmedCounts(metric, value)) metrics.add(name, n);
  }

  function record(outcome: Outcome, error?: unknown): void {
    const name = METRIC_NAMES[outcome];
    if (name === 'ReEncrypted') count(name);
    else if (name) metrics.add(name);
    if (isUnsafeKey(error)) count('UnsafeKeyRefused');
  }

  /** What handling one invocation's events needs: the container's shared state and the invocation's deadline. */
  function handleDeps(context: Context, home: Home, remaining: number): HandleDeps {
    const ownLogGroup = ownLogGroupOf(context);
    return {
      ...kind,
      config,
      log,
      home,
      clientsFor,
      deadline: Date.now() + remaining - config.deadlineMarginMs,
      associateBucket,
      tagsBucket,
      record,
      alert: count,
      handledChanges,
      // The cross-container claim of a change event (a log stream in the function's own log group).
      ...(ownLogGroup && home.region
        ? {
            ...(kind.onChange ? { claim: claimByLogStream(clientsFor(home.region).logs, ownLogGroup) } : {}),
            ownLogGroup,
          }
        : {}),
      inflight,
    };
  }

  /** One invocation's events: an SQS batch (partial batch response) or one direct event (a failure thrown). */
  async function handle(
    event: unknown,
    context: Context,
  ): Promise<SQSBatchResponse | Omit<HandledEvent, 'error' | 'retry'>> {
    const home = functionHome(context);
    // Before any record: a key of another account fails the invocation loudly (Errors alarm), naming the variable.
    assertKeyInAccount(config, home.account);
    const deps = handleDeps(context, home, remainingMsOf(context, DEFAULT_BUDGET_MS));
    if (isSqsEvent(event)) return handleSqsBatch(event.Records as SQSRecord[], deps, BATCH_CONCURRENCY);
    return handleInvocation(event, deps);
  }

  return { config, logger, metrics, log, associateBucket, count, handle };
}
