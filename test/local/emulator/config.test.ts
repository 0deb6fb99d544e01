/**
 * The emulator's AWS Config (local/emulator/config.ts) through the real SDK: PutEvaluations needs a token Config
 * issued, takes at most 100 evaluations and no INSUFFICIENT_DATA, records nothing in TestMode, keeps the latest
 * evaluation per resource; GetComplianceDetailsByConfigRule pages them.
 */
import {
  type ComplianceType,
  ConfigServiceClient,
  type Evaluation,
  GetComplianceDetailsByConfigRuleCommand,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import { describe, expect, it } from 'vitest';
import { credentials } from '../../../local/world.ts';
import { rejection, setup } from './helpers.ts';

const REGION = 'eu-west-1';
const RULE = 'rule';
const at = new Date('2026-12-07T00:00:00Z');
const evaluation = (id: string, type: string, OrderingTimestamp = at): Evaluation => ({
  ComplianceResourceType: 'AWS::Logs::LogGroup',
  ComplianceResourceId: id,
  ComplianceType: type as ComplianceType,
  OrderingTimestamp,
});

async function configSetup() {
  const env = await setup({}, REGION);
  env.emulator.state.createConfigRule(REGION, RULE, 'arn:aws:lambda:eu-west-1:123456789012:function:f');
  const client = new ConfigServiceClient({
    region: REGION,
    endpoint: env.emulator.endpoint,
    credentials,
    maxAttempts: 1,
  });
  const token = () => env.emulator.state.configRuleInvocation(REGION, RULE).resultToken;
  return { ...env, client, token };
}

describe('Config PutEvaluations', () => {
  it('refuses a token Config did not issue, more than 100 evaluations and INSUFFICIENT_DATA', async () => {
    // Prepare
    const { client, token } = await configSetup();
    const put = (ResultToken: string, Evaluations: Evaluation[]) =>
      client.send(new PutEvaluationsCommand({ ResultToken, Evaluations }));

    // Act
    const forged = await rejection(put('forged', [evaluation('/a', 'COMPLIANT')]));
    const tooMany = await rejection(
      put(
        token(),
        Array.from({ length: 101 }, (_, i) => evaluation(`/g${i}`, 'COMPLIANT')),
      ),
    );
    const insufficient = await rejection(put(token(), [evaluation('/a', 'INSUFFICIENT_DATA')]));

    // Assess
    expect(forged.name).toBe('InvalidResultTokenException');
    expect(tooMany.name).toBe('ValidationException');
    expect(insufficient.name).toBe('InvalidParameterValueException');
  });

  it('keeps the latest evaluation per resource, records nothing in TestMode, and pages the results', async () => {
    // Prepare
    const { client, token, emulator } = await configSetup();
    const later = new Date(at.getTime() + 60_000);

    // Act
    await client.send(
      new PutEvaluationsCommand({
        ResultToken: token(),
        Evaluations: [evaluation('/a', 'NON_COMPLIANT', later)],
      }),
    );
    await client.send(
      new PutEvaluationsCommand({ ResultToken: token(), Evaluations: [evaluation('/a', 'COMPLIANT', at)] }),
    );
    await client.send(
      new PutEvaluationsCommand({
        ResultToken: 'x',
        TestMode: true,
        Evaluations: [evaluation('/b', 'COMPLIANT')],
      }),
    );
    await client.send(
      new PutEvaluationsCommand({
        ResultToken: token(),
        Evaluations: [evaluation('/c', 'COMPLIANT'), evaluation('/d', 'NOT_APPLICABLE')],
      }),
    );
    const first = await client.send(
      new GetComplianceDetailsByConfigRuleCommand({ ConfigRuleName: RULE, Limit: 2 }),
    );
    const second = await client.send(
      new GetComplianceDetailsByConfigRuleCommand({
        ConfigRuleName: RULE,
        Limit: 2,
        NextToken: first.NextToken,
      }),
    );

    // Assess
    expect(
      emulator.state.configEvaluations(REGION, RULE).map((e) => [e.resourceId, e.complianceType]),
    ).toEqual([
      ['/a', 'NON_COMPLIANT'],
      ['/c', 'COMPLIANT'],
      ['/d', 'NOT_APPLICABLE'],
    ]);
    const ids = [...(first.EvaluationResults ?? []), ...(second.EvaluationResults ?? [])].map(
      (r) => r.EvaluationResultIdentifier?.EvaluationResultQualifier?.ResourceId,
    );
    expect(ids).toEqual(['/a', '/c', '/d']);
    expect(second.NextToken).toBeUndefined();
  });
});
