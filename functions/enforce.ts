/**
 * The enforce function's entry: the event path. CloudTrail CreateLogGroup events and the sweep's work items,
 * through its queue (or a direct invocation). Only wiring: the container's state and the handling of an
 * invocation's events (core/guard-function.ts, core/handle.ts) in a middy handler. Later changes, the key checks
 * and the deploy-time custom resource are the changes function's (functions/changes.ts); this function creates
 * no key, so its cold start loads none of that code.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createGuardFunction } from './core/guard-function.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { publishMetrics } from './core/metrics.ts';

const guard = createGuardFunction();

/** The Lambda handler: the events above, with the invocation's log keys and its metrics published after. */
export const handler = middy((event: unknown, context: Context) => guard.handle(event, context))
  .use(injectLambdaContext(guard.logger))
  .use(publishMetrics(guard.metrics));
