/**
 * The EventBridge rule check: the rule that turns CreateLogGroup events into queue messages must exist, be
 * enabled, drop failed calls, and send to an SQS queue (which the queue check then looks at).
 */
import { DescribeRuleCommand, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import type { CliClients } from '../aws.ts';
import {
  type CheckInput,
  type CheckResult,
  couldNot,
  type DoctorOptions,
  type Finding,
  finding,
} from './check.ts';

/** The rule prefix the stack's rule names start with, unless --rule-prefix says otherwise. */
const DEFAULT_RULE_PREFIX = 'logs-kms-guard';

/** `rule` (and `queue` when the rule has no SQS target): the guard's rule, enabled, with its queue (learns `queueArn`). */
export async function checkRule({
  clients,
  region,
  options,
}: Pick<CheckInput, 'clients' | 'region' | 'options'>): Promise<CheckResult> {
  const findings: Finding[] = [];
  try {
    const rule = await findRule(clients, options);
    if (!rule) {
      findings.push(
        finding(
          'rule',
          'fail',
          `no EventBridge rule for CreateLogGroup (looked for names starting "${options.rulePrefix ?? DEFAULT_RULE_PREFIX}")`,
          'deploy the stack in this region, or pass --rule NAME',
        ),
      );
      return { findings };
    }
    if (rule.State !== 'ENABLED') {
      findings.push(
        finding(
          'rule',
          'fail',
          `rule ${rule.Name} is ${rule.State}`,
          `aws events enable-rule --name ${rule.Name} --region ${region}`,
        ),
      );
      return { findings };
    }
    const dropsFailed = /errorCode/.test(rule.EventPattern ?? '');
    findings.push(
      finding(
        'rule',
        dropsFailed ? 'ok' : 'warn',
        `rule ${rule.Name} is enabled${dropsFailed ? '' : ' but does not drop failed calls (errorCode exists:false)'}`,
      ),
    );
    const targets = await clients.eventbridge().send(new ListTargetsByRuleCommand({ Rule: rule.Name }));
    const queueArn = targets.Targets?.find((t) => t.Arn?.includes(':sqs:'))?.Arn;
    if (!queueArn)
      findings.push(finding('queue', 'fail', `rule ${rule.Name} has no SQS target`, 'redeploy the stack'));
    return { findings, learned: { queueArn } };
  } catch (err) {
    findings.push(couldNot('rule', err));
    return { findings };
  }
}

/** The rule named by --rule, else the first under the prefix whose pattern matches CreateLogGroup. */
async function findRule(
  clients: CliClients,
  options: DoctorOptions,
): Promise<{ Name?: string; State?: string; EventPattern?: string } | undefined> {
  if (options.rule) return clients.eventbridge().send(new DescribeRuleCommand({ Name: options.rule }));
  const out = await clients
    .eventbridge()
    .send(new ListRulesCommand({ NamePrefix: options.rulePrefix ?? DEFAULT_RULE_PREFIX }));
  return (out.Rules ?? []).find((r) => (r.EventPattern ?? '').includes('CreateLogGroup'));
}
