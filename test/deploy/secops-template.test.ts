/**
 * The security team's parts of the packaged template (issue 22): the finding-events rule behind NotifyFindings
 * (and the topic policy statement that lets it publish), and the optional AWS Config rule behind ConfigRule
 * (the rule, its invoke permission, the sweep's config:PutEvaluations grant).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Packaged, packageTemplate } from './template.ts';

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
