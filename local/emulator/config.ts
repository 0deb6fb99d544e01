/**
 * AWS Config, the part a custom Lambda rule speaks (awsJson1_1, `X-Amz-Target: StarlingDoveService.<Op>`):
 * `PutEvaluations` with the result token of a rule invocation, `GetComplianceDetailsByConfigRule` (the rule's
 * current evaluations, 100 a page at most), and `StartConfigRulesEvaluation`, which makes
 * Config invoke the rule's function again (handed to `onConfigRuleInvocation` listeners with the event Config
 * sends; the emulator runs no code). Rules are created by the test/state API, as CloudFormation would.
 *
 * Sources: AWS Config API Reference, PutEvaluations ("Used by an AWS Lambda function to deliver evaluation results
 * to AWS Config"; Evaluations "Maximum number of 100 items"; ResultToken required, "Identifies the rule and the
 * event that triggered the evaluation"; TestMode: "doesn't require a valid value for the ResultToken ... but the
 * value cannot be null", nothing is recorded; errors InvalidResultTokenException, InvalidParameterValueException),
 * Evaluation ("Config does not accept INSUFFICIENT_DATA as the value for ComplianceType from a PutEvaluations
 * request"), StartConfigRulesEvaluation (ConfigRuleNames 1 to 25; LimitExceededException "if an evaluation is in
 * progress or if you call the StartConfigRulesEvaluation API more than once per minute"; NoSuchConfigRuleException)
 * as the doc comments of @aws-sdk/client-config-service quote them; the invocation event's fields: AWS Config
 * Developer Guide, "Example Events for AWS Config Rules" (periodic: messageType ScheduledNotification). IAM:
 * Service Authorization Reference, AWS Config: config:PutEvaluations has no resource type (Resource "*"),
 * config:StartConfigRulesEvaluation and config:GetComplianceDetailsByConfigRule act on `ConfigRule` `arn:${Partition}:config:${Region}:${Account}:config-rule/${ConfigRuleId}`.
 */
import { randomUUID } from 'node:crypto';
import { isObject } from '../../functions/core/parse.ts';
import type { Check } from './authorize.ts';
import { fail } from './errors.ts';
import type { Ctx, Input } from './kms.ts';
import { Listeners } from './listeners.ts';
import { partitionOf } from './policy-eval.ts';

/** A rule as the state API creates it. */
export interface ConfigRuleInfo {
  name: string;
  id: string;
  arn: string;
  region: string;
  /** The rule's Lambda function (Source.SourceIdentifier). */
  functionArn: string;
}

/** What Config sends the rule's function (Developer Guide, "Example Events for AWS Config Rules"). */
export interface ConfigRuleEvent {
  version: '1.0';
  invokingEvent: string;
  ruleParameters: string;
  resultToken: string;
  eventLeftScope: false;
  executionRoleArn: string;
  configRuleArn: string;
  configRuleName: string;
  configRuleId: string;
  accountId: string;
}

/** A stored evaluation (the latest by OrderingTimestamp per resource). */
export interface StoredEvaluation {
  resourceType: string;
  resourceId: string;
  complianceType: 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';
  annotation?: string;
  orderingTimestamp: string;
}

/** The Config part of `emulator.state`. */
export interface ConfigStateApi {
  /** A rule as CloudFormation creates it; `id` (default config-rule-<random>) to match a resolved template's ARN. */
  createConfigRule(region: string, name: string, functionArn: string, id?: string): ConfigRuleInfo;
  /** A periodic invocation of the rule, as Config starts one: a fresh result token in the event. */
  configRuleInvocation(region: string, name: string): ConfigRuleEvent;
  /** The rule's evaluations, by resource. */
  configEvaluations(region: string, name: string): StoredEvaluation[];
}

interface RuleRecord extends ConfigRuleInfo {
  evaluations: Map<string, StoredEvaluation>;
  lastStartAt?: number;
}

const MAX_EVALUATIONS = 100;
const ACCEPTED = new Set(['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE']);
const START_INTERVAL_MS = 60_000;

/** One account's Config rules, their result tokens and evaluations. */
export class ConfigService {
  readonly account: string;
  private readonly rules = new Map<string, RuleRecord>();
  /** Result token → the rule it was issued for. */
  private readonly tokens = new Map<string, RuleRecord>();
  private readonly listeners: Listeners<ConfigRuleEvent>;

  constructor(account: string, log: (line: string) => void = () => {}) {
    this.account = account;
    this.listeners = new Listeners('config: onConfigRuleInvocation listener', log);
  }

  onConfigRuleInvocation(listener: (event: ConfigRuleEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  private rule(region: string, name: string): RuleRecord | undefined {
    return this.rules.get(`${region}/${name}`);
  }

  /** A new result token and the invocation event carrying it. */
  private invocation(rule: RuleRecord, now: number): ConfigRuleEvent {
    const resultToken = randomUUID();
    this.tokens.set(resultToken, rule);
    return {
      version: '1.0',
      invokingEvent: JSON.stringify({
        awsAccountId: this.account,
        notificationCreationTime: new Date(now).toISOString(),
        messageType: 'ScheduledNotification',
        recordVersion: '1.0',
      }),
      ruleParameters: '{}',
      resultToken,
      eventLeftScope: false,
      executionRoleArn: `arn:${partitionOf(rule.region)}:iam::${this.account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
      configRuleArn: rule.arn,
      configRuleName: rule.name,
      configRuleId: rule.id,
      accountId: this.account,
    };
  }

  stateApi(now: () => number): ConfigStateApi {
    return {
      createConfigRule: (region, name, functionArn, given) => {
        const id = given ?? `config-rule-${randomUUID().slice(0, 6)}`;
        const arn = `arn:${partitionOf(region)}:config:${region}:${this.account}:config-rule/${id}`;
        const record: RuleRecord = { name, id, arn, region, functionArn, evaluations: new Map() };
        this.rules.set(`${region}/${name}`, record);
        return { name, id, arn, region, functionArn };
      },
      configRuleInvocation: (region, name) => {
        const rule = this.rule(region, name) ?? fail('NoSuchConfigRuleException', `rule ${name} not found`);
        return this.invocation(rule, now());
      },
      configEvaluations: (region, name) =>
        [...(this.rule(region, name)?.evaluations.values() ?? [])].map((e) => ({ ...e })),
    };
  }

  /** config:PutEvaluations on "*"; config:StartConfigRulesEvaluation on each named rule's ARN (by its id). */
  checks(region: string, operation: string, input: Input): Check[] {
    if (operation === 'PutEvaluations')
      return [{ action: 'config:PutEvaluations', resource: '*', context: {} }];
    if (operation === 'GetComplianceDetailsByConfigRule') {
      const rule = this.rule(region, String(input.ConfigRuleName));
      return rule
        ? [{ action: 'config:GetComplianceDetailsByConfigRule', resource: rule.arn, context: {} }]
        : [];
    }
    if (operation !== 'StartConfigRulesEvaluation' || !Array.isArray(input.ConfigRuleNames)) return [];
    return input.ConfigRuleNames.flatMap((name) => {
      const rule = typeof name === 'string' ? this.rule(region, name) : undefined;
      return rule ? [{ action: 'config:StartConfigRulesEvaluation', resource: rule.arn, context: {} }] : [];
    });
  }

  readonly handlers: Record<string, (ctx: Ctx, input: Input) => unknown> = {
    PutEvaluations: (ctx, input) => this.putEvaluations(ctx, input),
    GetComplianceDetailsByConfigRule: (ctx, input) => {
      const rule =
        this.rule(ctx.region, String(input.ConfigRuleName)) ??
        fail(
          'NoSuchConfigRuleException',
          `The ConfigRule '${String(input.ConfigRuleName)}' provided in the request is invalid. Please check the configRule name`,
        );
      const limit = typeof input.Limit === 'number' && input.Limit > 0 ? Math.min(input.Limit, 100) : 10;
      const start = typeof input.NextToken === 'string' ? Number(input.NextToken) : 0;
      const all = [...rule.evaluations.values()];
      const page = all.slice(start, start + limit);
      return {
        EvaluationResults: page.map((e) => ({
          EvaluationResultIdentifier: {
            EvaluationResultQualifier: {
              ConfigRuleName: rule.name,
              ResourceType: e.resourceType,
              ResourceId: e.resourceId,
            },
            OrderingTimestamp: Date.parse(e.orderingTimestamp) / 1000,
          },
          ComplianceType: e.complianceType,
          ...(e.annotation ? { Annotation: e.annotation } : {}),
        })),
        ...(start + limit < all.length ? { NextToken: String(start + limit) } : {}),
      };
    },
    StartConfigRulesEvaluation: (ctx, input) => {
      const names = Array.isArray(input.ConfigRuleNames) ? input.ConfigRuleNames : [];
      if (names.length < 1 || names.length > 25) {
        fail(
          'ValidationException',
          "1 validation error detected: Value at 'configRuleNames' failed to satisfy constraint: Member must have length between 1 and 25",
        );
      }
      const rules = names.map(
        (name) =>
          this.rule(ctx.region, String(name)) ??
          fail(
            'NoSuchConfigRuleException',
            `The ConfigRule '${String(name)}' provided in the request is invalid. Please check the configRule name`,
          ),
      );
      if (rules.some((r) => r.lastStartAt !== undefined && ctx.now - r.lastStartAt < START_INTERVAL_MS)) {
        fail(
          'LimitExceededException',
          'An evaluation is in progress or the rule was evaluated less than a minute ago.',
        );
      }
      for (const rule of rules) {
        rule.lastStartAt = ctx.now;
        this.listeners.notify(this.invocation(rule, ctx.now), structuredClone);
      }
      return {};
    },
  };

  private putEvaluations(ctx: Ctx, input: Input): unknown {
    if (typeof input.ResultToken !== 'string') {
      fail(
        'ValidationException',
        "1 validation error detected: Value null at 'resultToken' failed to satisfy constraint: Member must not be null",
      );
    }
    const evaluations = Array.isArray(input.Evaluations) ? input.Evaluations : [];
    if (evaluations.length > MAX_EVALUATIONS) {
      fail(
        'ValidationException',
        "1 validation error detected: Value at 'evaluations' failed to satisfy constraint: Member must have length less than or equal to 100",
      );
    }
    const parsed = evaluations.map((e) => parseEvaluation(isObject(e) ? e : {}));
    if (input.TestMode === true) return { FailedEvaluations: [] };
    const rule = this.tokens.get(String(input.ResultToken));
    if (!rule || rule.region !== ctx.region)
      fail('InvalidResultTokenException', 'The specified ResultToken is not valid.');
    const { evaluations: stored } = rule as RuleRecord;
    for (const e of parsed) {
      const key = `${e.resourceType}/${e.resourceId}`;
      const before = stored.get(key);
      if (!before || before.orderingTimestamp <= e.orderingTimestamp) stored.set(key, e);
    }
    return { FailedEvaluations: [] };
  }
}

/** One Evaluation, validated as Config validates it. */
function parseEvaluation(e: Input): StoredEvaluation {
  const { ComplianceResourceType: type, ComplianceResourceId: id, ComplianceType: compliance } = e;
  if (typeof type !== 'string' || typeof id !== 'string' || typeof e.OrderingTimestamp !== 'number') {
    fail(
      'ValidationException',
      'ComplianceResourceType, ComplianceResourceId and OrderingTimestamp are required.',
    );
  }
  if (typeof compliance !== 'string' || !ACCEPTED.has(compliance)) {
    fail(
      'InvalidParameterValueException',
      `The ComplianceType ${String(compliance)} is not valid for PutEvaluations.`,
    );
  }
  return {
    resourceType: type as string,
    resourceId: id as string,
    complianceType: compliance as StoredEvaluation['complianceType'],
    ...(typeof e.Annotation === 'string' ? { annotation: e.Annotation } : {}),
    orderingTimestamp: new Date((e.OrderingTimestamp as number) * 1000).toISOString(),
  };
}
