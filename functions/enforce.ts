/**
 * The enforce function's entry: the event path. CloudTrail CreateLogGroup events and the sweep's work items,
 * through its queue (or a direct invocation). Only wiring: the container's state (core/guard-function.ts) and
 * the middy handler that hands each event to the core (core/handle.ts). Later changes, the key checks and the
 * deploy-time custom resource are the changes function's (functions/changes.ts); this function creates no key,
 * so its cold start loads none of that code.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { assertKeyInAccount } from './core/config.ts';
import { isSqsEvent } from './core/event.ts';
import { BATCH_CONCURRENCY, createGuardFunction } from './core/guard-function.ts';
import { type HandledEvent, handleInvocation, handleSqsBatch } from './core/handle.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { functionHome, remainingMsOf } from './core/lambda-context.ts';
import { publishMetrics } from './core/metrics.ts';

const guard = createGuardFunction();
/** Without a Lambda context (a manual run), how long one invocation may take. */
const DEFAULT_BUDGET_MS = 60_000;

async function lambdaHandler(
  event: unknown,
  context: Context,
): Promise<SQSBatchResponse | Omit<HandledEvent, 'error' | 'retry'>> {
  const remaining = remainingMsOf(context, DEFAULT_BUDGET_MS);
  const home = functionHome(context);
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
