/**
 * The AWS Config sink of the findings function (issue 22 item 3): a finding about a log group (one the guard
 * cannot encrypt, one fought over, either resolved) asks Config to evaluate the guard's rule again
 * (StartConfigRulesEvaluation), so conformance packs and Audit Manager see the change within minutes instead of
 * at the next periodic run. The evaluation itself is the sweep's (functions/core/sweep/config-rule.ts): Config
 * accepts evaluations only with the result token of a rule invocation (API Reference, PutEvaluations), so a
 * sink cannot put them itself. One request per batch of findings; Config refuses a second start within a
 * minute or while an evaluation runs (LimitExceededException), which is fine: the running or next evaluation
 * reads every group, and the sweep's differential put records only what changed.
 * IAM: config:StartConfigRulesEvaluation on the rule's ARN (docs/DEPLOY.md, "AWS Config rule").
 */
import { ConfigServiceClient, StartConfigRulesEvaluationCommand } from '@aws-sdk/client-config-service';
import type { GuardFinding } from '../finding.ts';
import type { FindingSinkLike } from './eventbridge-sink.ts';

/** The finding kinds whose resource is a log group: what the Config rule evaluates. */
const GROUP_KINDS = new Set<GuardFinding['kind']>(['group-not-encryptable', 'group-fought-over']);

/** True when the findings include one that changes a log group's compliance. Pure. */
export function concernsConfigRule(findings: readonly GuardFinding[]): boolean {
  return findings.some((f) => GROUP_KINDS.has(f.kind) && f.resource.type === 'log-group');
}

export interface ConfigSinkOptions {
  /** The rule's name (the stack output ConfigRuleName); the sink does nothing without one. */
  ruleName: string | undefined;
  client?: Pick<ConfigServiceClient, 'send'>;
}

/** The sink that has Config re-evaluate the guard's rule when a log group's compliance may have changed. */
export function configSink(options: ConfigSinkOptions): FindingSinkLike {
  let client = options.client;
  return {
    name: 'config',
    async send(findings) {
      if (!options.ruleName || !concernsConfigRule(findings)) return;
      client ??= new ConfigServiceClient({});
      try {
        await client.send(new StartConfigRulesEvaluationCommand({ ConfigRuleNames: [options.ruleName] }));
      } catch (err) {
        // An evaluation is running or started less than a minute ago: it (or the next) sees the change.
        if ((err as Error).name !== 'LimitExceededException') throw err;
      }
    },
  };
}
