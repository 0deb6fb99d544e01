/**
 * The findings function's entry: fed by a CloudWatch Logs subscription on the enforce and sweep functions' log
 * groups (only the finding lines: core/finding.ts), it sends each finding to the integrations the stack turned
 * on, its sinks (core/findings/sinks.ts): Security Hub (SECURITY_HUB_FINDINGS=true), EventBridge events
 * (NOTIFY_FINDINGS=true) and a re-evaluation of the guard's AWS Config rule (CONFIG_RULE_NAME set). Its own
 * function, so the Security Hub, EventBridge and Config clients stay off the enforce function's cold start.
 * Only wiring: the sinks once per container and the middy handler.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import middy from '@middy/core';
import { CLIENT_SETTINGS } from './core/clients.ts';
import { ConfigError } from './core/errors.ts';
import { configSink } from './core/findings/config-sink.ts';
import { type DeliveryResult, deliver, type SubscriptionEvent } from './core/findings/deliver.ts';
import { eventBridgeSink, type FindingSinkLike } from './core/findings/eventbridge-sink.ts';
import { securityHubSink } from './core/findings/security-hub.ts';
import type { FindingSink } from './core/findings/sinks.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { publishMetrics } from './core/metrics.ts';
import { createObservability } from './core/observability.ts';

const { logger, metrics, log } = createObservability();
const region = process.env.AWS_REGION;
const count = (name: string, n: number) => metrics.add(name, n);

/** A sink that throws when it could not deliver: sendToSinks counts every finding of the batch as failed then. */
const allOrNothing = (sink: FindingSinkLike): FindingSink => ({
  name: sink.name,
  send: async (findings) => {
    await sink.send([...findings]);
    return [];
  },
});

/** The sinks the stack turned on: one line per integration. */
function sinksFromEnv(env: NodeJS.ProcessEnv): FindingSink[] {
  const sinks: FindingSink[] = [];
  if (env.SECURITY_HUB_FINDINGS === 'true')
    sinks.push(
      securityHubSink({ client: new SecurityHubClient({ region, ...CLIENT_SETTINGS }), log, count }),
    );
  if (env.NOTIFY_FINDINGS === 'true')
    sinks.push(
      allOrNothing(eventBridgeSink({ client: new EventBridgeClient({ region, ...CLIENT_SETTINGS }) })),
    );
  if (env.CONFIG_RULE_NAME)
    sinks.push(
      allOrNothing(
        configSink({
          ruleName: env.CONFIG_RULE_NAME,
          client: new ConfigServiceClient({ region, ...CLIENT_SETTINGS }),
        }),
      ),
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
