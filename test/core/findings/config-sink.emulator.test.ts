/**
 * The Config sink (functions/core/findings/config-sink.ts) through the real SDK against the emulator's Config:
 * a log group's finding starts an evaluation of the rule (Config then invokes the sweep with a fresh token),
 * once per batch; Config's once-a-minute limit is not an error; other findings and no rule do nothing; the
 * grant it needs is config:StartConfigRulesEvaluation on the rule's ARN.
 */
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { describe, expect, it } from 'vitest';
import { concernsConfigRule, configSink } from '../../../functions/core/findings/config-sink.ts';
import type { ConfigRuleEvent } from '../../../local/emulator/config.ts';
import { ACCOUNT } from '../../../local/world.ts';
import { rejection, setup } from '../../local/emulator/helpers.ts';
import { SAMPLE_FINDINGS } from './sample-findings.ts';

const REGION = 'eu-west-1';
const RULE = 'logs-kms-guard-prod-log-groups-encrypted';
const [groupFinding, keyFinding] = SAMPLE_FINDINGS;

/** An emulator with the rule, a Config client signed as a role allowed `resource`, and the invocations Config starts. */
async function configSetup(resource?: (ruleArn: string) => string) {
  const world = await setup({ iam: { principals: {}, admins: [] } }, REGION);
  const rule = world.emulator.state.createConfigRule(
    REGION,
    RULE,
    `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sweep`,
  );
  world.emulator.iam.setPrincipal('AKIDFINDINGS', {
    arn: `arn:aws:iam::${ACCOUNT}:role/findings`,
    policies: [
      {
        name: 'findings',
        policy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'config:StartConfigRulesEvaluation',
              Resource: (resource ?? ((a) => a))(rule.arn),
            },
          ],
        },
      },
    ],
  });
  const invocations: ConfigRuleEvent[] = [];
  world.emulator.onConfigRuleInvocation((e) => invocations.push(e));
  const client = new ConfigServiceClient({
    region: REGION,
    endpoint: world.emulator.endpoint,
    credentials: { accessKeyId: 'AKIDFINDINGS', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  return { world, rule, client, invocations };
}

describe('Config sink', () => {
  it("a log group's finding starts one evaluation of the rule; Config invokes the evaluator with a fresh token", async () => {
    // Prepare
    const { client, invocations, rule, world } = await configSetup();
    const sink = configSink({ ruleName: RULE, client });

    // Act
    await sink.send([groupFinding, groupFinding].filter((f) => f !== undefined));
    // A second batch within the minute: Config refuses (LimitExceededException), the sink does not fail.
    await sink.send([groupFinding].filter((f) => f !== undefined));

    // Assess
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toMatchObject({ configRuleName: RULE, configRuleArn: rule.arn });
    expect(invocations[0]?.resultToken).toEqual(expect.any(String));
    expect(world.emulator.calls.map((c) => [c.operation, c.error])).toEqual([
      ['StartConfigRulesEvaluation', undefined],
      ['StartConfigRulesEvaluation', 'LimitExceededException'],
    ]);
    expect(world.emulator.authorizations.map((a) => [a.action, a.resource, a.decision])).toEqual([
      ['config:StartConfigRulesEvaluation', rule.arn, 'Allowed'],
      ['config:StartConfigRulesEvaluation', rule.arn, 'Allowed'],
    ]);
  });

  it('does nothing for findings that are not about a log group, or without a rule', async () => {
    // Prepare
    const { client, world } = await configSetup();

    // Act
    await configSink({ ruleName: RULE, client }).send([keyFinding].filter((f) => f !== undefined));
    await configSink({ ruleName: undefined, client }).send(SAMPLE_FINDINGS);

    // Assess
    expect(world.emulator.calls).toEqual([]);
    expect(concernsConfigRule(SAMPLE_FINDINGS)).toBe(true);
  });

  it('without the grant on the rule it fails with AccessDeniedException', async () => {
    // Prepare
    const { client } = await configSetup((arn) => `${arn}-other`);

    // Act
    const err = await rejection(configSink({ ruleName: RULE, client }).send(SAMPLE_FINDINGS));

    // Assess
    expect(err.name).toBe('AccessDeniedException');
  });
});
