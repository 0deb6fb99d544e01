/**
 * The scheduled sweep's entry: lists the region's log groups and sends the unencrypted in-scope ones to the
 * enforce queue as work items (or, without ENFORCE_QUEUE_URL, encrypts them itself), one resumable run at a
 * time (core/sweep/run.ts); invoked by AWS Config, it evaluates the guard's Config rule instead
 * (core/sweep/config-rule.ts). Only wiring: its configuration, settings and observability once per container,
 * the counts-to-metric names, and the middy handler that runs one invocation of the run.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { CLIENT_SETTINGS, clientsFor } from './core/clients.ts';
import { assertKeyInAccount, loadConfig } from './core/config.ts';
import { ConfigError } from './core/errors.ts';
import { injectLambdaContext } from './core/json-logger.ts';
import { functionHome, ownLogGroupOf, remainingMsOf } from './core/lambda-context.ts';
import { publishMetrics } from './core/metrics.ts';
import { createObservability } from './core/observability.ts';
import { type ConfigRuleResult, evaluateConfigRule, isConfigRuleEvent } from './core/sweep/config-rule.ts';
import type { SweepCounts } from './core/sweep/report.ts';
import { runSweepInvocation, type SweepInvocationResult } from './core/sweep/run.ts';
import { loadSweepSettings } from './core/sweep/settings.ts';

// Validated once per container: a bad setting fails every invocation loudly, naming the variable.
const config = loadConfig();
const settings = loadSweepSettings();
const { logger, metrics, log } = createObservability();
let sqs: SQSClient | undefined;
let lambda: LambdaClient | undefined;
let configService: ConfigServiceClient | undefined;
/** Without a Lambda context (a manual run), how long one invocation may take. */
const DEFAULT_BUDGET_MS = 600_000;

const METRICS: [keyof SweepCounts, string][] = [
  ['listed', 'SweepListed'],
  ['candidates', 'SweepUnencryptedInScope'],
  ['queued', 'SweepQueued'],
  ['encrypted', 'SweepEncrypted'],
  ['wouldEncrypt', 'SweepWouldEncrypt'],
  ['outOfScope', 'SweepOutOfScope'],
  ['failed', 'SweepFailed'],
];

async function lambdaHandler(
  event: unknown,
  context: Context,
): Promise<SweepInvocationResult | ConfigRuleResult> {
  const { region, account } = functionHome(context);
  if (!region) throw new ConfigError('cannot tell the region: AWS_REGION is not set');
  assertKeyInAccount(config, account);
  // ConfigRule=true: AWS Config invokes the sweep as its rule's evaluator (core/sweep/config-rule.ts).
  if (isConfigRuleEvent(event)) {
    configService ??= new ConfigServiceClient({ region, ...CLIENT_SETTINGS });
    return evaluateConfigRule(event, {
      config,
      clients: clientsFor(region),
      configService,
      log,
      region,
      account,
    });
  }
  sqs ??= new SQSClient({ region, ...CLIENT_SETTINGS });
  lambda ??= new LambdaClient({ region, ...CLIENT_SETTINGS });
  const ownLogGroup = ownLogGroupOf(context);
  return runSweepInvocation(event, {
    config,
    settings,
    clients: clientsFor(region),
    sqs,
    lambda,
    log,
    region,
    account,
    functionArn: context?.invokedFunctionArn,
    ...(ownLogGroup ? { lease: { logs: clientsFor(region).logs, logGroupName: ownLogGroup } } : {}),
    onYield: () => metrics.add('SweepYielded'),
    onComplete: () => metrics.add('SweepCompleted'),
    remainingMs: remainingMsOf(context, DEFAULT_BUDGET_MS),
    record: (counts) => {
      for (const [key, name] of METRICS) metrics.add(name, counts[key]);
    },
  });
}

/** The Lambda handler: one invocation of a sweep run, with its log keys and its metrics published after. */
export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(publishMetrics(metrics));
