/**
 * The enforce function's entry: CloudTrail events (a new log group, a later change to a group or the guard
 * key), the sweep's work items through the queue, and the deploy-time custom resource. Only wiring: its
 * configuration and observability once per container, the outcome-to-metric names, and the middy handler
 * that hands each event to the core (core/handle.ts, core/deploy.ts).
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { clientsFor } from './core/clients.ts';
import { systemClock } from './core/clock.ts';
import { assertKeyInAccount, loadConfig } from './core/config.ts';
import { looksLikeCustomResourceRequest, loopbackResponsesAllowed } from './core/custom-resource-request.ts';
import { type DeployResult, handleDeployEvent } from './core/deploy.ts';
import type { Outcome } from './core/enforce.ts';
import { type Home, isSqsEvent } from './core/event.ts';
import {
  type HandleDeps,
  type HandledEvent,
  handleInvocation,
  handleSqsBatch,
  isUnsafeKey,
} from './core/handle.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import type { AlertMetric } from './core/key.ts';
import { functionHome, ownLogGroupOf, remainingMsOf } from './core/lambda-context.ts';
import { publishMetrics } from './core/metrics.ts';
import { createObservability } from './core/observability.ts';
import { claimByLogStream } from './core/once.ts';
import { SHARED_QUOTA_PACING } from './core/sweep/quotas.ts';
import { AdaptiveTokenBucket } from './core/token-bucket.ts';

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
/** Records of one SQS batch handled at once; the bucket, not this, sets the call rate. */
const BATCH_CONCURRENCY = 5;
/** How long the deploy-time key preparation may wait for CloudWatch Logs to accept the key. */
const DEPLOY_BUDGET_MS = 90_000;
/** Without a Lambda context (a manual run), how long one invocation may take. */
const DEFAULT_BUDGET_MS = 60_000;

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
  // Counted by their alarmed metric (KeyPolicyRepaired, KeyAtRisk: groups at risk, KeyAliasChanged).
  'key-policy-repaired': '',
  'rotation-restored': 'RotationRestored',
  'key-at-risk': '',
  'key-restored': 'KeyRestored',
  'alias-changed': '',
  'change-ignored': 'ChangeIgnored',
};

function record(outcome: Outcome, error?: unknown): void {
  const name = METRIC_NAMES[outcome];
  if (name) metrics.add(name);
  if (isUnsafeKey(error)) metrics.add('UnsafeKeyRefused');
}

/** The deploy-time custom resource: ensure the key and let Logs accept it before any event needs it. */
async function deployKey(event: Record<string, unknown>, context: Context, home: Home, remaining: number) {
  const region = home.region ?? '';
  const result = await handleDeployEvent(event, {
    config,
    clients: clientsFor(region),
    log,
    region,
    account: home.account ?? '',
    ownLogGroup: ownLogGroupOf(context),
    // Bounded well inside the function timeout, so CloudFormation always gets its answer.
    deadline: Date.now() + Math.min(remaining - config.deadlineMarginMs, DEPLOY_BUDGET_MS),
    associateBucket,
    // Loopback answers for local runs only: never inside the Lambda runtime (custom-resource-request.ts).
    loopback: loopbackResponsesAllowed(process.env),
    refused: () => metrics.add('CustomResourceRefused'),
  });
  return { deploy: result };
}

/** What handling this invocation's events needs: the container's shared state and the invocation's deadline. */
function handleDeps(context: Context, home: Home, remaining: number): HandleDeps {
  const ownLogGroup = ownLogGroupOf(context);
  return {
    config,
    log,
    home,
    clientsFor,
    deadline: Date.now() + remaining - config.deadlineMarginMs,
    associateBucket,
    tagsBucket,
    record,
    alert: (metric: AlertMetric, value?: number) => metrics.add(metric, value),
    handledChanges,
    ...(ownLogGroup && home.region
      ? { claim: claimByLogStream(clientsFor(home.region).logs, ownLogGroup), ownLogGroup }
      : {}),
    inflight,
  };
}

async function lambdaHandler(
  event: unknown,
  context: Context,
): Promise<SQSBatchResponse | Omit<HandledEvent, 'error' | 'retry'> | { deploy: DeployResult }> {
  const remaining = remainingMsOf(context, DEFAULT_BUDGET_MS);
  const home = functionHome(context);
  if (looksLikeCustomResourceRequest(event)) return deployKey(event, context, home, remaining);
  // Before any record: a key of another account fails the invocation loudly (Errors alarm), naming the variable.
  assertKeyInAccount(config, home.account);
  const deps = handleDeps(context, home, remaining);
  if (isSqsEvent(event)) return handleSqsBatch(event.Records as SQSRecord[], deps, BATCH_CONCURRENCY);
  return handleInvocation(event, deps);
}

/** The Lambda handler: the events above, with the invocation's log keys and its metrics published after. */
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(publishMetrics(metrics));
