import { CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { parseArn } from './core/arn.ts';
import { clientsFor } from './core/clients.ts';
import { mapLimit } from './core/concurrency.ts';
import { assertKeyInAccount, loadConfig } from './core/config.ts';
import {
  type CustomResourceEvent,
  type DeployResult,
  handleDeployEvent,
  isCustomResourceEvent,
} from './core/deploy.ts';
import type { EnforceResult, Outcome } from './core/enforce.ts';
import { type Home, isSqsEvent } from './core/event.ts';
import { type HandledEvent, handleEvent, isUnsafeKey, recordBody } from './core/handle.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import type { AlertMetric } from './core/key.ts';
import { publishMetrics } from './core/metrics.ts';
import { createObservability } from './core/observability.ts';
import { AdaptiveTokenBucket } from './core/token-bucket.ts';

// Validated once per container: a bad setting fails every invocation loudly, naming the variable.
const config = loadConfig();
const { logger, metrics, log } = createObservability();
// Shared by every record this container handles, so a batch is paced under the AssociateKmsKey quota
// (5 TPS per account and region, not adjustable: CloudWatch Logs quotas,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html). ASSOCIATE_RATE is the
// ceiling; the quota is shared with every other caller in the account (the sweep, a CLI backfill, other
// containers), so the bucket halves its rate when throttled anyway and climbs back once it is quiet.
const associateBucket = new AdaptiveTokenBucket(config.associateRate, config.associateRate);
/** Change events this container handled (a late duplicate raises no second alarm). */
const handledChanges = new Set<string>();
/** Groups being handled by this container now: a concurrent duplicate shares the first copy's result. */
const inflight = new Map<string, Promise<EnforceResult>>();
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

/** The function's own account and region: events for any other are refused. */
function homeOf(context: Partial<Context> | undefined): Home {
  const arn = context?.invokedFunctionArn ? parseArn(context.invokedFunctionArn) : undefined;
  return {
    account: arn?.account || undefined,
    region: arn?.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined,
  };
}

/**
 * One handling per change event across containers: CreateLogStream is atomic per name (a second create answers
 * ResourceAlreadyExistsException), so a stream `logs-kms-guard-change/<eventID>` in the function's own log group
 * (its OwnLogs grant) is the claim. Anything else (the group missing, an outage) lets the copy through: an alarm
 * twice is better than none.
 */
function claimChange(clients: ReturnType<typeof clientsFor>, logGroupName: string) {
  return async (eventId: string): Promise<boolean> => {
    const logStreamName = `logs-kms-guard-change/${eventId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)}`;
    try {
      await clients.logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
      return true;
    } catch (err) {
      return (err as Error).name !== 'ResourceAlreadyExistsException';
    }
  };
}

/** The deploy-time custom resource: ensure the key and let Logs accept it before any event needs it. */
async function deployKey(event: CustomResourceEvent, context: Context, home: Home, remaining: number) {
  const region = home.region ?? '';
  const result = await handleDeployEvent(event, {
    config,
    clients: clientsFor(region),
    log,
    region,
    account: home.account ?? '',
    ownLogGroup: context?.functionName ? `/aws/lambda/${context.functionName}` : undefined,
    // Bounded well inside the function timeout, so CloudFormation always gets its answer.
    deadline: Date.now() + Math.min(remaining - config.deadlineMarginMs, DEPLOY_BUDGET_MS),
    associateBucket,
    localEndpoint: process.env.AWS_ENDPOINT_URL,
  });
  return { deploy: result };
}

async function lambdaHandler(
  event: unknown,
  context: Context,
): Promise<SQSBatchResponse | Omit<HandledEvent, 'error' | 'retry'> | { deploy: DeployResult }> {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis()
      : DEFAULT_BUDGET_MS;
  const home = homeOf(context);
  if (isCustomResourceEvent(event)) return deployKey(event, context, home, remaining);
  // Before any record: a key of another account fails the invocation loudly (Errors alarm), naming the variable.
  assertKeyInAccount(config, home.account);
  const deps = {
    config,
    log,
    home,
    clientsFor,
    deadline: Date.now() + remaining - config.deadlineMarginMs,
    associateBucket,
    record,
    alert: (metric: AlertMetric, value?: number) => metrics.add(metric, value),
    handledChanges,
    ...(context?.functionName && home.region
      ? {
          claim: claimChange(clientsFor(home.region), `/aws/lambda/${context.functionName}`),
          ownLogGroup: `/aws/lambda/${context.functionName}`,
        }
      : {}),
    inflight,
  };

  if (isSqsEvent(event)) {
    const records = event.Records as Parameters<typeof recordBody>[0][];
    const results = await mapLimit(records, BATCH_CONCURRENCY, (r) => handleEvent(recordBody(r), deps));
    return {
      batchItemFailures: results.flatMap((h, i) =>
        h.retry ? [{ itemIdentifier: records[i]?.messageId as string }] : [],
      ),
    };
  }

  const handled = await handleEvent(event, deps);
  // A direct invocation that failed must fail, so Lambda's retries and on-failure destination see it.
  if (handled.error) throw handled.error;
  const { error: _error, retry: _retry, ...result } = handled;
  return result;
}

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(publishMetrics(metrics));
