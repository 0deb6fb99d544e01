/**
 * The sweep as the evaluator of the guard's AWS Config rule (issue 22 item 3; stack parameter ConfigRule=true).
 * Config invokes the sweep function periodically with a result token; this lists every log group and reports
 * each one's compliance with PutEvaluations: COMPLIANT (a KMS key is associated), NON_COMPLIANT (none, and the
 * group is in the guard's scope), NOT_APPLICABLE (reserved `aws/` groups, no key can encrypt them; groups the
 * guard is told to leave alone; groups Config knew that no longer exist).
 *
 * Why a custom Lambda rule fed this way (AWS Config API Reference, as the @aws-sdk/client-config-service doc
 * comments quote it): PutEvaluations is "used by an AWS Lambda function to deliver evaluation results to AWS
 * Config" and needs the ResultToken of a rule invocation ("Identifies the rule and the event that triggered the
 * evaluation"), so nothing can push evaluations outside an invocation; PutExternalEvaluation accepts only the
 * `AWS::::Account` resource type (process checks), not log groups. So the periodic invocation is the sweep's,
 * and the event path's changes reach Config by StartConfigRulesEvaluation (functions/core/findings/config-sink.ts),
 * which makes Config invoke this again with a fresh token.
 *
 * Config bills every evaluation recorded, so this puts only what differs from Config's current view
 * (GetComplianceDetailsByConfigRule; at most 100 evaluations a PutEvaluations request); when that view cannot be
 * read, everything. An empty PutEvaluations still tells Config the invocation completed.
 */

import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import {
  type ComplianceType,
  type ConfigServiceClient,
  type Evaluation,
  GetComplianceDetailsByConfigRuleCommand,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import type { Clients } from '../clients.ts';
import type { GuardConfig } from '../config.ts';
import type { Log } from '../log.ts';
import { isObject } from '../parse.ts';
import { decideScope, isReservedLogGroupName } from '../scope.ts';
import { describePage, groupArnOf, readTags } from './listing.ts';

/** The resource type Config knows log groups by (its resource id is the group's name). */
export const LOG_GROUP_TYPE = 'AWS::Logs::LogGroup';
/** PutEvaluations' limit (API Reference: Evaluations, "Maximum number of 100 items"). */
export const MAX_EVALUATIONS = 100;
/** Annotations are at most 256 characters (API Reference, Evaluation.Annotation). */
const MAX_ANNOTATION = 256;

/** What Config sends the rule's function (the fields used here). */
export interface ConfigRuleEvent {
  configRuleName: string;
  resultToken: string;
  invokingEvent: string;
}

/** True for a Config rule invocation (as opposed to the schedule's event or a continuation). */
export function isConfigRuleEvent(event: unknown): event is ConfigRuleEvent {
  return (
    isObject(event) &&
    typeof event.configRuleName === 'string' &&
    typeof event.resultToken === 'string' &&
    typeof event.invokingEvent === 'string'
  );
}

/** One group's compliance and why. */
export interface GroupCompliance {
  type: Exclude<ComplianceType, 'INSUFFICIENT_DATA'>;
  annotation: string;
}

/** A group's compliance from its key and scope; `tags` only matter for an unencrypted group (the opt-out tag). Pure. */
export function groupCompliance(
  config: Pick<GuardConfig, 'include' | 'exclude' | 'skipTagKey'>,
  name: string,
  kmsKeyId: string | undefined,
  tags: Record<string, string> | undefined,
): GroupCompliance {
  if (isReservedLogGroupName(name)) {
    return { type: 'NOT_APPLICABLE', annotation: 'Reserved for AWS (aws/...): no key can encrypt it.' };
  }
  if (kmsKeyId) return { type: 'COMPLIANT', annotation: clip(`Encrypted with ${kmsKeyId}`) };
  const scope = decideScope(config, name, tags);
  if (!scope.inScope)
    return { type: 'NOT_APPLICABLE', annotation: clip(`Left alone by the guard: ${scope.reason}.`) };
  return {
    type: 'NON_COMPLIANT',
    annotation: 'Not encrypted with a customer-managed KMS key; the guard has not (yet) encrypted it.',
  };
}

const clip = (s: string) => (s.length <= MAX_ANNOTATION ? s : `${s.slice(0, MAX_ANNOTATION - 1)}…`);

/** Which evaluations to put: those that differ from Config's view, and NOT_APPLICABLE for groups gone. Pure. */
export function evaluationsToPut(
  current: ReadonlyMap<string, GroupCompliance>,
  known: ReadonlyMap<string, string> | undefined,
  at: Date,
): Evaluation[] {
  const evaluation = (id: string, c: GroupCompliance): Evaluation => ({
    ComplianceResourceType: LOG_GROUP_TYPE,
    ComplianceResourceId: id,
    ComplianceType: c.type,
    Annotation: c.annotation,
    OrderingTimestamp: at,
  });
  const out: Evaluation[] = [];
  for (const [name, c] of current) if (known?.get(name) !== c.type) out.push(evaluation(name, c));
  for (const [name, type] of known ?? []) {
    if (!current.has(name) && type !== 'NOT_APPLICABLE') {
      out.push(evaluation(name, { type: 'NOT_APPLICABLE', annotation: 'The log group no longer exists.' }));
    }
  }
  return out;
}

export interface ConfigRuleDeps {
  config: GuardConfig;
  clients: Clients;
  configService: Pick<ConfigServiceClient, 'send'>;
  log: Log;
  region: string;
  account?: string;
}

/** What an evaluation did: groups seen, evaluations put by compliance, whether Config's view was read. */
export interface ConfigRuleResult {
  configRule: string;
  groups: number;
  put: number;
  byType: Record<string, number>;
  differential: boolean;
}

/** Evaluates every log group for a Config rule invocation and puts what changed. */
export async function evaluateConfigRule(
  event: ConfigRuleEvent,
  deps: ConfigRuleDeps,
): Promise<ConfigRuleResult> {
  const at = orderingTimestamp(event);
  const current = await currentCompliance(deps);
  const known = await configView(deps, event.configRuleName);
  const evaluations = evaluationsToPut(current, known, at);
  for (let i = 0; i === 0 || i < evaluations.length; i += MAX_EVALUATIONS) {
    const batch = evaluations.slice(i, i + MAX_EVALUATIONS);
    const out = await deps.configService.send(
      new PutEvaluationsCommand({ ResultToken: event.resultToken, Evaluations: batch }),
    );
    if (out.FailedEvaluations?.length) {
      throw new Error(`PutEvaluations: ${out.FailedEvaluations.length} evaluation(s) failed`);
    }
  }
  const byType: Record<string, number> = {};
  for (const e of evaluations)
    byType[e.ComplianceType as string] = (byType[e.ComplianceType as string] ?? 0) + 1;
  const result = {
    configRule: event.configRuleName,
    groups: current.size,
    put: evaluations.length,
    byType,
    differential: known !== undefined,
  };
  deps.log.info('config rule evaluated', result);
  return result;
}

/** The invocation's time (Config: "for periodic evaluations, the time ... Config triggered the evaluation"). */
function orderingTimestamp(event: ConfigRuleEvent): Date {
  try {
    const invoking = JSON.parse(event.invokingEvent);
    const at = Date.parse(invoking?.notificationCreationTime);
    if (!Number.isNaN(at)) return new Date(at);
  } catch {}
  return new Date();
}

/** Every log group's compliance now (tags read only for unencrypted groups in scope by name). */
async function currentCompliance(deps: ConfigRuleDeps): Promise<Map<string, GroupCompliance>> {
  const current = new Map<string, GroupCompliance>();
  let nextToken: string | undefined;
  do {
    const page = await describePage(deps.clients, { ...(nextToken ? { nextToken } : {}) });
    for (const group of page.logGroups ?? []) {
      const name = group.logGroupName;
      if (!name) continue;
      current.set(name, await complianceOfListed(deps, group, name));
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return current;
}

async function complianceOfListed(
  deps: ConfigRuleDeps,
  group: LogGroup,
  name: string,
): Promise<GroupCompliance> {
  const byName = groupCompliance(deps.config, name, group.kmsKeyId, {});
  if (byName.type !== 'NON_COMPLIANT') return byName;
  const tags = await readTags(deps.clients, groupArnOf(group, deps.region, deps.account));
  return groupCompliance(deps.config, name, group.kmsKeyId, tags ?? {});
}

/** Config's current evaluations of the rule's log groups by name; undefined when they cannot be read. */
async function configView(deps: ConfigRuleDeps, ruleName: string): Promise<Map<string, string> | undefined> {
  const known = new Map<string, string>();
  let NextToken: string | undefined;
  try {
    do {
      const out = await deps.configService.send(
        new GetComplianceDetailsByConfigRuleCommand({ ConfigRuleName: ruleName, Limit: 100, NextToken }),
      );
      for (const r of out.EvaluationResults ?? []) {
        const q = r.EvaluationResultIdentifier?.EvaluationResultQualifier;
        if (q?.ResourceType === LOG_GROUP_TYPE && q.ResourceId && r.ComplianceType)
          known.set(q.ResourceId, r.ComplianceType);
      }
      NextToken = out.NextToken;
    } while (NextToken);
    return known;
  } catch (err) {
    deps.log.warn("cannot read the Config rule's evaluations: putting every group's", { error: String(err) });
    return undefined;
  }
}
