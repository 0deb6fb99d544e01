/**
 * The findings function's entry: fed by a CloudWatch Logs subscription on the enforce and sweep functions' log
 * groups (only the finding lines: core/finding.ts), it sends each finding to the integrations the stack turned
 * on, its sinks (core/findings/sinks.ts): Security Hub (SECURITY_HUB_FINDINGS=true). Its own function, so the
 * Security Hub client (and later Config's and EventBridge's) stays off the enforce function's cold start.
 * Only wiring: the sinks once per container and the middy handler.
 */
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import middy from '@middy/core';
import { CLIENT_SETTINGS } from './core/clients.ts';
import { ConfigError } from './core/errors.ts';
import { type DeliveryResult, deliver, type SubscriptionEvent } from './core/findings/deliver.ts';
import { securityHubSink } from './core/findings/security-hub.ts';
import type { FindingSink } from './core/findings/sinks.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { publishMetrics } from './core/metrics.ts';
import { createObservability } from './core/observability.ts';

const { logger, metrics, log } = createObservability();
const region = process.env.AWS_REGION;
const count = (name: string, n: number) => metrics.add(name, n);

/** The sinks the stack turned on: one line per integration. */
function sinksFromEnv(env: NodeJS.ProcessEnv): FindingSink[] {
  const sinks: FindingSink[] = [];
  if (env.SECURITY_HUB_FINDINGS === 'true')
    sinks.push(
      securityHubSink({ client: new SecurityHubClient({ region, ...CLIENT_SETTINGS }), log, count }),
    );
  return sinks;
}

const sinks = sinksFromEnv(process.env);

async function lambdaHandler(event: SubscriptionEvent): Promise<DeliveryResult> {
  if (!region) throw new ConfigError('cannot tell the region: AWS_REGION is not set');
  return deliver(event, sinks, log, count);
}

/** The Lambda handler: one subscription delivery, with its log keys and its metrics published after. */
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(publishMetrics(metrics));
