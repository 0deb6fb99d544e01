/**
 * The changes function's entry: what happens after creation and the guard key itself, off the event path. Its
 * queue carries the CloudTrail events of later changes (a group losing its key; the guard key's policy,
 * rotation, deletion, disabling, alias) and the scheduled guard key checks (every 15 minutes); CloudFormation
 * invokes it for the deploy-time key (the custom resource). It runs with the enforce function's role, which the
 * guard key's policy names, and it is the function that creates the guard key (key-create.ts). Only wiring.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseChangeEvent } from './core/change-event.ts';
import { clientsFor } from './core/clients.ts';
import { looksLikeCustomResourceRequest, loopbackResponsesAllowed } from './core/custom-resource-request.ts';
import { handleDeployEvent } from './core/deploy.ts';
import type { Home } from './core/event.ts';
import { createGuardFunction, DEFAULT_BUDGET_MS } from './core/guard-function.ts';
import { handleChangeEvent } from './core/handle-change.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { keyCreator } from './core/key-create.ts';
import { functionHome, ownLogGroupOf, remainingMsOf } from './core/lambda-context.ts';
import { publishMetrics } from './core/metrics.ts';

const guard = createGuardFunction({ parse: parseChangeEvent, onChange: handleChangeEvent, keyCreator });
/** How long the deploy-time key preparation may wait for CloudWatch Logs to accept the key. */
const DEPLOY_BUDGET_MS = 90_000;

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
    refused: () => guard.count('CustomResourceRefused'),
  });
  return { deploy: result };
}

/** Custom-resource requests to the deploy-time key; every other event to the guard's handling. */
async function lambdaHandler(event: unknown, context: Context) {
  if (!looksLikeCustomResourceRequest(event)) return guard.handle(event, context);
  return deployKey(event, context, functionHome(context), remainingMsOf(context, DEFAULT_BUDGET_MS));
}

/** The Lambda handler: the events above, with the invocation's log keys and its metrics published after. */
export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(guard.logger))
  .use(publishMetrics(guard.metrics));
