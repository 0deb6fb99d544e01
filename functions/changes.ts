/**
 * The changes function's entry: what happens after creation and the guard key itself, off the event path. Its
 * queue carries the CloudTrail events of later changes (a group losing its key; the guard key's policy,
 * rotation, deletion, disabling, alias) and the scheduled guard key checks (every 15 minutes); CloudFormation
 * invokes it for the deploy-time key (the custom resource). It runs with the enforce function's role, which the
 * guard key's policy names, and it is the function that creates the guard key (key-create.ts). Only wiring.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { parseChangeEvent } from './core/change-event.ts';
import { clientsFor } from './core/clients.ts';
import { assertKeyInAccount } from './core/config.ts';
import { looksLikeCustomResourceRequest, loopbackResponsesAllowed } from './core/custom-resource-request.ts';
import { type DeployResult, handleDeployEvent } from './core/deploy.ts';
import { type Home, isSqsEvent } from './core/event.ts';
import { BATCH_CONCURRENCY, createGuardFunction } from './core/guard-function.ts';
import { type HandledEvent, handleInvocation, handleSqsBatch } from './core/handle.ts';
import { handleChangeEvent } from './core/handle-change.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { keyCreator } from './core/key-create.ts';
import { functionHome, ownLogGroupOf, remainingMsOf } from './core/lambda-context.ts';
import { publishMetrics } from './core/metrics.ts';

const guard = createGuardFunction({ parse: parseChangeEvent, onChange: handleChangeEvent, keyCreator });
/** How long the deploy-time key preparation may wait for CloudWatch Logs to accept the key. */
const DEPLOY_BUDGET_MS = 90_000;
/** Without a Lambda context (a manual run), how long one invocation may take. */
const DEFAULT_BUDGET_MS = 60_000;

/** The deploy-time custom resource: ensure the key and let Logs accept it before any event needs it. */
async function deployKey(event: Record<string, unknown>, context: Context, home: Home, remaining: number) {
  const region = home.region ?? '';
  const result = await handleDeployEvent(event, {
    config: guard.config,
    clients: clientsFor(region),
    log: guard.log,
    region,
    account: home.account ?? '',
    ownLogGroup: ownLogGroupOf(context),
    // Bounded well inside the function timeout, so CloudFormation always gets its answer.
    deadline: Date.now() + Math.min(remaining - guard.config.deadlineMarginMs, DEPLOY_BUDGET_MS),
    associateBucket: guard.associateBucket,
    // Loopback answers for local runs only: never inside the Lambda runtime (custom-resource-request.ts).
    loopback: loopbackResponsesAllowed(process.env),
    refused: () => guard.metrics.add('CustomResourceRefused'),
  });
  return { deploy: result };
}

async function lambdaHandler(
  event: unknown,
  context: Context,
): Promise<SQSBatchResponse | Omit<HandledEvent, 'error' | 'retry'> | { deploy: DeployResult }> {
  const remaining = remainingMsOf(context, DEFAULT_BUDGET_MS);
  const home = functionHome(context);
  if (looksLikeCustomResourceRequest(event)) return deployKey(event, context, home, remaining);
  // Before any record: a key of another account fails the invocation loudly (Errors alarm), naming the variable.
  assertKeyInAccount(guard.config, home.account);
  const deps = guard.handleDeps(context, home, remaining);
  if (isSqsEvent(event)) return handleSqsBatch(event.Records as SQSRecord[], deps, BATCH_CONCURRENCY);
  return handleInvocation(event, deps);
}

/** The Lambda handler: the events above, with the invocation's log keys and its metrics published after. */
export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(guard.logger))
  .use(publishMetrics(guard.metrics));
