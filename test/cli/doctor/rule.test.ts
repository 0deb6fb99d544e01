/**
 * The doctor's EventBridge rule check (functions/cli/doctor/rule.ts) against aws-sdk-client-mock: finding the
 * rule by prefix or --rule, its state and pattern, and the SQS queue it sends to (learned for the queue
 * check).
 */
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { checkRule } from '../../../functions/cli/doctor/rule.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';

const eventbridge = mockClient(EventBridgeClient);
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:logs-kms-guard-prod-events`;
const rule = (
  State: 'ENABLED' | 'DISABLED',
  EventPattern = '{"eventName":["CreateLogGroup"],"errorCode":[{"exists":false}]}',
) => ({
  Name: 'logs-kms-guard-prod-create',
  State,
  EventPattern,
});
const input = (options = {}) => ({ clients: defaultClientFactory()(REGION), region: REGION, options });

describe('checkRule', () => {
  beforeEach(() => {
    eventbridge.reset();
  });

  it('is ok for the enabled rule under the prefix, and learns its queue', async () => {
    // Prepare
    eventbridge
      .on(ListRulesCommand)
      .resolves({ Rules: [{ Name: 'unrelated', EventPattern: '{}' }, rule('ENABLED')] });
    eventbridge.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'q', Arn: QUEUE }] });

    // Act
    const result = await checkRule(input());

    // Assess
    expect(result.findings).toEqual([
      { check: 'rule', status: 'ok', detail: 'rule logs-kms-guard-prod-create is enabled' },
    ]);
    expect(result.learned).toEqual({ queueArn: QUEUE });
    expect(eventbridge.commandCalls(ListRulesCommand)[0]?.args[0].input).toEqual({
      NamePrefix: 'logs-kms-guard',
    });
  });

  it('reads the rule --rule names, and warns when it lets failed calls through', async () => {
    // Prepare
    eventbridge.on(DescribeRuleCommand).resolves(rule('ENABLED', '{"eventName":["CreateLogGroup"]}'));
    eventbridge.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'q', Arn: QUEUE }] });

    // Act
    const result = await checkRule(input({ rule: 'logs-kms-guard-prod-create' }));

    // Assess
    expect(result.findings[0]).toMatchObject({ check: 'rule', status: 'warn' });
    expect(result.findings[0]?.detail).toContain('does not drop failed calls');
    expect(eventbridge.commandCalls(ListRulesCommand)).toHaveLength(0);
  });

  it('fails without a rule, naming the prefix it looked under', async () => {
    // Prepare
    eventbridge.on(ListRulesCommand).resolves({ Rules: [] });

    // Act
    const result = await checkRule(input({ rulePrefix: 'guard' }));

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'rule',
        status: 'fail',
        detail: 'no EventBridge rule for CreateLogGroup (looked for names starting "guard")',
        fix: 'deploy the stack in this region, or pass --rule NAME',
      },
    ]);
    expect(result.learned).toBeUndefined();
  });

  it('fails for a disabled rule with the command that enables it', async () => {
    // Prepare
    eventbridge.on(ListRulesCommand).resolves({ Rules: [rule('DISABLED')] });

    // Act
    const result = await checkRule(input());

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'rule',
        status: 'fail',
        detail: 'rule logs-kms-guard-prod-create is DISABLED',
        fix: `aws events enable-rule --name logs-kms-guard-prod-create --region ${REGION}`,
      },
    ]);
  });

  it('fails the queue when the rule sends to no SQS queue', async () => {
    // Prepare
    eventbridge.on(ListRulesCommand).resolves({ Rules: [rule('ENABLED')] });
    eventbridge.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'l', Arn: 'arn:aws:lambda:x' }] });

    // Act
    const result = await checkRule(input());

    // Assess
    expect(result.findings.map((f) => [f.check, f.status])).toEqual([
      ['rule', 'ok'],
      ['queue', 'fail'],
    ]);
  });

  it('warns that it could not check when EventBridge refuses', async () => {
    // Prepare
    eventbridge
      .on(ListRulesCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));

    // Act
    const result = await checkRule(input());

    // Assess
    expect(result.findings).toEqual([
      { check: 'rule', status: 'warn', detail: expect.stringMatching(/^could not check: /) },
    ]);
  });
});
