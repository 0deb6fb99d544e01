/**
 * The security team's parts of the packaged template (issue 22): the finding-events rule behind NotifyFindings
 * (and the topic policy statement that lets it publish), and the optional AWS Config rule behind ConfigRule
 * (the rule, its invoke permission, the sweep's config:PutEvaluations grant).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cfn } from './iam-allowlist.ts';
import { type Packaged, packageTemplate, root } from './template.ts';

let packaged: Packaged;
beforeAll(() => {
  packaged = packageTemplate({ withSweep: true });
}, 180_000);

describe('NotifyFindings: the sample rule to the alarm topic', () => {
  it('is off by default, and when on sends every logs-kms-guard event to the alarm topic', () => {
    // Prepare
    const t = packaged.template;
    const rule = t.Resources.FindingsNotifyRule;

    // Assess
    expect(t.Parameters.NotifyFindings).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    expect(t.Conditions.NotifiesFindings).toEqual({ 'Fn::Equals': [{ Ref: 'NotifyFindings' }, 'true'] });
    expect(rule?.Condition).toBe('NotifiesFindings');
    expect(rule?.Properties.EventPattern).toEqual({ source: ['logs-kms-guard'] });
    expect(rule?.Properties.Targets).toEqual([{ Id: 'alarm-topic', Arn: { Ref: 'AlarmTopic' } }]);
  });

  it('lets EventBridge publish to the topic for that rule only, only when the rule exists', () => {
    // Prepare
    const statements = (packaged.template.Resources as any).AlarmTopicPolicy.Properties.PolicyDocument
      .Statement;

    // Act
    const conditional = statements.filter((s: any) => 'Fn::If' in s);

    // Assess
    expect(conditional).toEqual([
      {
        'Fn::If': [
          'NotifiesFindings',
          {
            Sid: 'FindingEventsPublish',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: 'AlarmTopic' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['FindingsNotifyRule', 'Arn'] } } },
          },
          { Ref: 'AWS::NoValue' },
        ],
      },
    ]);
  });
});

describe('ConfigRule: the AWS Config rule the sweep evaluates', () => {
  it('is off by default; when on, a periodic custom Lambda rule whose function is the sweep', () => {
    // Prepare
    const t = packaged.template;
    const rule = t.Resources.GuardConfigRule as any;

    // Assess
    expect(t.Parameters.ConfigRule).toMatchObject({ Default: 'false', AllowedValues: ['true', 'false'] });
    expect(t.Conditions.HasConfigRule).toEqual({ 'Fn::Equals': [{ Ref: 'ConfigRule' }, 'true'] });
    expect(rule.Type).toBe('AWS::Config::ConfigRule');
    expect(rule.Condition).toBe('HasConfigRule');
    expect(rule.DependsOn).toEqual(['SweepConfigPermission']);
    expect(rule.Properties.Source).toEqual({
      Owner: 'CUSTOM_LAMBDA',
      SourceIdentifier: { 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] },
      SourceDetails: [
        {
          EventSource: 'aws.config',
          MessageType: 'ScheduledNotification',
          MaximumExecutionFrequency: 'TwentyFour_Hours',
        },
      ],
    });
    expect(t.Outputs?.ConfigRuleName).toEqual({
      Condition: 'HasConfigRule',
      Value: { Ref: 'GuardConfigRule' },
    });
  });

  it('lets Config (of this account only) invoke the sweep, and gives the sweep just PutEvaluations and reading its results', () => {
    // Prepare
    const t = packaged.template.Resources as any;
    const sweepStatements = t.SweepRole.Properties.Policies[0].PolicyDocument.Statement;

    // Act
    const config = sweepStatements.filter((s: any) => 'Fn::If' in s && s['Fn::If'][0] === 'HasConfigRule');

    // Assess
    expect(t.SweepConfigPermission).toMatchObject({
      Condition: 'HasConfigRule',
      Properties: {
        Action: 'lambda:InvokeFunction',
        Principal: 'config.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    });
    expect(config.map((s: any) => s['Fn::If'][1])).toEqual([
      { Sid: 'ConfigPutEvaluations', Effect: 'Allow', Action: 'config:PutEvaluations', Resource: '*' },
      {
        Sid: 'ConfigReadRuleEvaluations',
        Effect: 'Allow',
        Action: 'config:GetComplianceDetailsByConfigRule',
        Resource: {
          'Fn::Sub': `arn:${cfn('AWS::Partition')}:config:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:config-rule/*`,
        },
      },
    ]);
    // The enforce function (the event path's cold start) gets no Config, EventBridge or Security Hub grant.
    expect(JSON.stringify(t.EnforceRole)).not.toMatch(/config:|events:PutEvents|securityhub:/);
  });

  it('keeps the Config client out of the enforce bundle (its cold start)', () => {
    // Act
    const enforce = readFileSync(path.join(root, 'dist', 'enforce.mjs'), 'utf8');
    const sweep = readFileSync(path.join(root, 'dist', 'sweep.mjs'), 'utf8');

    // Assess
    expect(enforce).not.toContain('StarlingDoveService');
    expect(enforce).not.toContain('AWSEvents.PutEvents');
    expect(sweep).toContain('StarlingDoveService');
  });
});
