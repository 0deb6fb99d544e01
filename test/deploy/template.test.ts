/**
 * The CloudFormation template osls packages offline (template.ts): the EventBridge rules (deciding the
 * captured events in test/events with the pattern matcher), queues, functions, alarms, the key left out of
 * the stack, and the IAM statements checked against iam-allowlist.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_CHECK_DETAIL_TYPE, keyCheckItem } from '../../functions/core/change-event.ts';
import { FINDING_MESSAGE } from '../../functions/core/finding.ts';
import { EVENT_SOURCE } from '../../functions/core/findings/finding-event.ts';
import { evaluate } from '../../local/emulator/iam.ts';
import { type Json, matches, type Pattern, validatePattern } from '../../local/event-pattern.ts';
import { resolveIntrinsics } from './cfn-yaml.ts';
import { allowListProblems, cfn, DENYLIST, FORBIDDEN_ACTIONS, GUARD_ALIAS_ARN } from './iam-allowlist.ts';
import { iamStatements, type Packaged, packageTemplate, resourcesOfType, root } from './template.ts';

const eventsDir = path.join(root, 'test', 'events');
const NOT_EVENTBRIDGE = new Set(['sqs-batch-two-events.json']);
const MUST_NOT_MATCH = new Set(['create-log-group-failed-already-exists.json', 'put-retention-policy.json']);

let full: Packaged; // with the sweep (a stand-in bundle when functions/sweep.ts is not built yet)
let bare: Packaged; // sweep left out, all defaults
let withKey: Packaged; // a configured key that the guard may update
let guardMessages: Packaged; // MessageKmsKey=guard: the queues and the topic under the guard key

beforeAll(() => {
  full = packageTemplate({ withSweep: true });
  bare = packageTemplate({ withSweep: false });
  withKey = packageTemplate({
    withSweep: false,
    params: [
      'keyArn=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'allowKeyPolicyUpdate=true',
    ],
  });
  guardMessages = packageTemplate({ withSweep: true, params: ['messageKmsKey=guard'] });
}, 180_000);

function rule(p: Packaged) {
  return p.template.Resources.CreateLogGroupRule as any;
}

describe('EventBridge rule', () => {
  it('has the CreateLogGroup pattern without failed calls', () => {
    // Prepare
    const pattern = rule(full).Properties.EventPattern;

    // Act
    validatePattern(pattern);

    // Assess
    expect(pattern).toEqual({
      source: ['aws.logs'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['logs.amazonaws.com'],
        eventName: ['CreateLogGroup'],
        errorCode: [{ exists: false }],
      },
    });
  });

  const files = readdirSync(eventsDir).filter((f) => f.endsWith('.json') && !NOT_EVENTBRIDGE.has(f));
  it('has captured events to decide, both kinds (an empty folder would make the next test vanish)', () => {
    expect(files).toEqual(expect.arrayContaining(['create-log-group-lambda.json', ...MUST_NOT_MATCH]));
  });
  it.each(files)('decides %s as expected', (file) => {
    // Prepare
    const event = JSON.parse(readFileSync(path.join(eventsDir, file), 'utf8')) as Json;
    const pattern = rule(full).Properties.EventPattern as Pattern;
    const expected = file.startsWith('create-log-group-') && !MUST_NOT_MATCH.has(file);

    // Act
    const got = matches(pattern, event);

    // Assess
    expect(got).toBe(expected);
  });

  it('rejects other sources, detail types, and events with a null errorCode', () => {
    // Prepare
    const pattern = rule(full).Properties.EventPattern as Pattern;
    const base = JSON.parse(readFileSync(path.join(eventsDir, 'create-log-group-lambda.json'), 'utf8'));

    // Act
    const otherSource = matches(pattern, { ...base, source: 'aws.kms' });
    const otherType = matches(pattern, { ...base, 'detail-type': 'AWS Console Sign In via CloudTrail' });
    const nullError = matches(pattern, { ...base, detail: { ...base.detail, errorCode: null } });
    const deleteCall = matches(pattern, { ...base, detail: { ...base.detail, eventName: 'DeleteLogGroup' } });

    // Assess
    expect([otherSource, otherType, nullError, deleteCall]).toEqual([false, false, false, false]);
  });

  it('targets the queue with a retry policy and a dead-letter queue', () => {
    // Prepare
    const [target] = rule(full).Properties.Targets;

    // Assess
    expect(target.Arn).toEqual({ 'Fn::GetAtt': ['EnforceQueue', 'Arn'] });
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(3600);
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['RuleTargetDlq', 'Arn'] });
  });
});

describe('queues', () => {
  it('encrypts every queue at rest: SSE-SQS by default, the MessageKmsKey key when set', () => {
    // Prepare
    // The findings DLQ (issue 22) is SSE-SQS whatever MessageKmsKey says: Lambda writes it with the findings
    // function's role, which the guard key's policy does not name (asserted in describe 'findings function').
    const queues = resourcesOfType(full.template, 'AWS::SQS::Queue').filter(([id]) => id !== 'FindingsDlq');

    // Assess: SSE-SQS exactly when no MessageKmsKey (the default), the guard alias or the given key otherwise
    expect(queues.map(([id]) => id).sort()).toEqual([
      'ChangesQueue',
      'EnforceDlq',
      'EnforceQueue',
      'RuleTargetDlq',
    ]);
    for (const [, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled).toEqual({
        'Fn::If': ['EncryptsMessages', { Ref: 'AWS::NoValue' }, true],
      });
      expect(q.Properties.KmsMasterKeyId).toEqual({
        'Fn::If': [
          'EncryptsMessages',
          { 'Fn::If': ['EncryptsMessagesWithGuardKey', { Ref: 'KmsKeyAlias' }, { Ref: 'MessageKmsKey' }] },
          { Ref: 'AWS::NoValue' },
        ],
      });
    }
    const t = full.template;
    expect(t.Parameters.MessageKmsKey.Default).toBe('');
    expect(t.Conditions.EncryptsMessages).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'MessageKmsKey' }, ''] }],
    });
    expect(t.Conditions.EncryptsMessagesWithGuardKey).toEqual({
      'Fn::Equals': [{ Ref: 'MessageKmsKey' }, 'guard'],
    });
    const pattern = new RegExp(t.Parameters.MessageKmsKey.AllowedPattern);
    for (const ok of [
      '',
      'guard',
      'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ])
      expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ['alias/aws/sqs', 'Guard', 'arn:aws:kms:us-east-1:111122223333:alias/x'])
      expect(pattern.test(bad), bad).toBe(false);
  });

  it('keeps the CloudTrail records in the queue 4 days, in the DLQs 14 (what a person inspects and redrives)', () => {
    const t = full.template.Resources as any;
    expect(t.EnforceQueue.Properties.MessageRetentionPeriod).toBe(4 * 86_400);
    expect(t.ChangesQueue.Properties.MessageRetentionPeriod).toBe(4 * 86_400);
    expect(t.EnforceDlq.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
    expect(t.RuleTargetDlq.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
  });

  it('refuses every request without TLS on every queue and on the topic', () => {
    // Prepare
    const t = full.template;
    const deny = (statements: any[]) => statements.filter((st) => st.Sid === 'DenyInsecureTransport');
    const policies = resourcesOfType(t, 'AWS::SQS::QueuePolicy').map(([, p]) => p.Properties);

    // Assess: each queue has a policy with the deny, on all of SQS, for everyone
    for (const queue of ['EnforceQueue', 'ChangesQueue', 'EnforceDlq', 'RuleTargetDlq', 'FindingsDlq']) {
      const mine = policies.filter((p) => JSON.stringify(p.Queues) === JSON.stringify([{ Ref: queue }]));
      expect(mine, queue).toHaveLength(1);
      expect(deny(mine[0].PolicyDocument.Statement)).toEqual([
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:*',
          Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]);
    }
    const topic = (t.Resources as any).AlarmTopicPolicy.Properties.PolicyDocument.Statement;
    const [topicDeny] = deny(topic);
    expect(topicDeny).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Resource: { Ref: 'AlarmTopic' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(topicDeny.Action).toEqual(
      expect.arrayContaining(['sns:Publish', 'sns:Subscribe', 'sns:SetTopicAttributes']),
    );
  });

  it('MessageKmsKey=guard: tells the enforce and changes functions the queues, rules and alarms its key policy admits', () => {
    // Prepare
    const t = guardMessages.template;
    // Both functions share the role the guard key's policy names, and either may write that policy (the
    // changes function creates the key): both must know every queue, rule and alarm it admits.
    const fns = ['EnforceLambdaFunction', 'ChangesLambdaFunction'];

    // Assess: set under the condition, empty otherwise; the deployment re-runs when the option changes
    expect(t.Parameters.MessageKmsKey.Default).toBe('guard');
    for (const fn of fns) {
      const vars = (t.Resources as any)[fn].Properties.Environment.Variables;
      expect(vars.MESSAGE_KEY_QUEUES, fn).toEqual({
        'Fn::If': [
          'EncryptsMessagesWithGuardKey',
          {
            'Fn::Join': [
              ',',
              [
                { 'Fn::GetAtt': ['EnforceQueue', 'Arn'] },
                { 'Fn::GetAtt': ['ChangesQueue', 'Arn'] },
                { 'Fn::GetAtt': ['EnforceDlq', 'Arn'] },
                { 'Fn::GetAtt': ['RuleTargetDlq', 'Arn'] },
              ],
            ],
          },
          '',
        ],
      });
      expect(vars.MESSAGE_KEY_RULES['Fn::If'][1], fn).toEqual({
        'Fn::Join': [
          ',',
          [
            { 'Fn::GetAtt': ['CreateLogGroupRule', 'Arn'] },
            { 'Fn::GetAtt': ['KeyChangesRule', 'Arn'] },
            { 'Fn::GetAtt': ['KeyCheckScheduleRule', 'Arn'] },
          ],
        ],
      });
      expect(vars.MESSAGE_KEY_ALARMS['Fn::If'][1], fn).toEqual({
        'Fn::Sub': `arn:${cfn('AWS::Partition')}:cloudwatch:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:alarm:${cfn('AWS::StackName')}-*`,
      });
    }
    expect((t.Resources as any).GuardKeyReady.Properties.MessageKmsKey).toEqual({ Ref: 'MessageKmsKey' });
    // the roles may use the key through SQS for the queues (iam-allowlist.ts checks the exact shape)
    const viaSqs = iamStatements(t).filter((st) => st.sid === 'KmsMessagesThroughSqs');
    expect(viaSqs.map((st) => st.role).sort()).toEqual(['EnforceRole', 'SweepRole']);
    for (const st of viaSqs) expect(st.onlyIf).toBe('EncryptsMessages');
  });

  it('sizes visibility, redrive and the event source for the 5 TPS AssociateKmsKey quota', () => {
    // Prepare: each function polls its own queue and is paced alone under the 5 TPS quota; the changes
    // function's associations (a group that lost its key) are rare and share it (docs/DEPLOY.md)
    const t = full.template.Resources as any;
    const mappings = resourcesOfType(full.template, 'AWS::Lambda::EventSourceMapping').map(
      ([, m]) => m.Properties,
    );
    const pairs = [
      ['EnforceLambdaFunction', 'EnforceQueue'],
      ['ChangesLambdaFunction', 'ChangesQueue'],
    ] as const;

    // Assess
    expect(mappings).toHaveLength(2);
    for (const [fnId, queueId] of pairs) {
      const fn = t[fnId].Properties;
      const queue = t[queueId].Properties;
      const mapping = mappings.find(
        (m) => JSON.stringify(m.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
      );
      expect(mapping, fnId).toBeDefined();
      expect(queue.VisibilityTimeout, queueId).toBeGreaterThanOrEqual(6 * fn.Timeout);
      expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['EnforceDlq', 'Arn'] });
      expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(3);
      expect(queue.RedrivePolicy.maxReceiveCount).toBeLessThanOrEqual(20);
      expect(mapping.EventSourceArn).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
      expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(mapping.BatchSize).toBeLessThanOrEqual(10);
      expect(mapping.ScalingConfig.MaximumConcurrency).toBe(2);
      const rate = Number(fn.Environment.Variables.ASSOCIATE_RATE);
      expect(rate * mapping.ScalingConfig.MaximumConcurrency).toBeLessThan(5);
    }
  });

  it("lets only each queue's own rules send to it, and the guard's three rules to their DLQ", () => {
    // Prepare: the enforce DLQ's policy only denies requests without TLS (next test)
    const policies = resourcesOfType(full.template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some((st: any) => st.Effect === 'Allow'),
    );
    const rule = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
    const senders: Record<string, unknown[]> = {
      EnforceQueue: [rule('CreateLogGroupRule')],
      ChangesQueue: [rule('KeyChangesRule'), rule('KeyCheckScheduleRule')],
      RuleTargetDlq: [rule('CreateLogGroupRule'), rule('KeyChangesRule'), rule('KeyCheckScheduleRule')],
    };

    // Assess
    expect(policies.map(([, p]) => p.Properties.Queues[0].Ref).sort()).toEqual(Object.keys(senders).sort());
    for (const [, p] of policies) {
      const queue = p.Properties.Queues[0].Ref;
      const allow = p.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow');
      expect(allow, queue).toHaveLength(1);
      expect(allow[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(allow[0].Action).toBe('sqs:SendMessage');
      expect(allow[0].Resource).toEqual(rule(queue));
      expect(allow[0].Condition, queue).toEqual({ ArnEquals: { 'aws:SourceArn': senders[queue] } });
    }
  });
});

describe('who may put a message on the enforce queue (issue 19, item 3), as iam-simulate decides', () => {
  const ACCT = '123456789012';
  const QUEUE = `arn:aws:sqs:us-east-1:${ACCT}:logs-kms-guard-prod-EnforceQueue-abc`;
  const CHANGES_QUEUE = `arn:aws:sqs:us-east-1:${ACCT}:logs-kms-guard-prod-ChangesQueue-abc`;
  const SWEEP_ROLE = `arn:aws:iam::${ACCT}:role/logs-kms-guard-prod-SweepRole-XYZ`;
  const CREATE_RULE = `arn:aws:events:us-east-1:${ACCT}:rule/logs-kms-guard-CreateLogGroupRule-1`;
  const CHANGES_RULE = `arn:aws:events:us-east-1:${ACCT}:rule/logs-kms-guard-KeyChangesRule-1`;
  const CHECK_RULE = `arn:aws:events:us-east-1:${ACCT}:rule/logs-kms-guard-KeyCheckScheduleRule-1`;
  const RULES = {
    'CreateLogGroupRule.Arn': CREATE_RULE,
    'KeyChangesRule.Arn': CHANGES_RULE,
    'KeyCheckScheduleRule.Arn': CHECK_RULE,
  };
  const sqsAll = [
    {
      name: 'sqs',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }] },
    },
  ];
  /** The deployed queue policy of a packaged template, its intrinsics bound to the names above. */
  const queuePolicy = (p: Packaged, policy = 'EnforceQueuePolicy') =>
    resolveIntrinsics((p.template.Resources as any)[policy].Properties.PolicyDocument, {
      refs: {},
      attributes: {
        'EnforceQueue.Arn': QUEUE,
        'ChangesQueue.Arn': CHANGES_QUEUE,
        'SweepRole.Arn': SWEEP_ROLE,
        ...RULES,
      },
    });
  /** SendMessage by a role of the account that may send to any queue by its own IAM policy. */
  const send = (p: Packaged, roleArn: string, context: Record<string, string> = {}) =>
    evaluate({
      principal: { arn: roleArn, policies: sqsAll },
      accessKeyId: 'ASIATEST',
      account: ACCT,
      action: 'sqs:SendMessage',
      resource: QUEUE,
      resourcePolicy: queuePolicy(p),
      context: { 'aws:SecureTransport': 'true', ...context },
    }).then((r) => r.decision);
  /** The same SendMessage to the changes queue. */
  const sendChange = (p: Packaged, roleArn: string, context: Record<string, string> = {}) =>
    evaluate({
      principal: { arn: roleArn, policies: sqsAll },
      accessKeyId: 'ASIATEST',
      account: ACCT,
      action: 'sqs:SendMessage',
      resource: CHANGES_QUEUE,
      resourcePolicy: queuePolicy(p, 'ChangesQueuePolicy'),
      context: { 'aws:SecureTransport': 'true', ...context },
    }).then((r) => r.decision);

  it('refuses a forged work item from any other principal of the account, even one with sqs:*', async () => {
    const admin = `arn:aws:iam::${ACCT}:role/Admin`;
    expect(await send(full, admin)).toBe('ExplicitlyDenied');
    expect(await send(bare, admin)).toBe('ExplicitlyDenied');
    // Through an EventBridge rule of its own: not one of the guard's
    const other = `arn:aws:events:us-east-1:${ACCT}:rule/mine`;
    expect(await send(full, admin, { 'aws:SourceArn': other })).toBe('ExplicitlyDenied');
    // The changes queue alike: a forged DisassociateKmsKey or key check is refused
    expect(await sendChange(full, admin)).toBe('ExplicitlyDenied');
    expect(await sendChange(bare, admin)).toBe('ExplicitlyDenied');
    expect(await sendChange(full, admin, { 'aws:SourceArn': other })).toBe('ExplicitlyDenied');
  });

  it('admits on each queue only the rules that target it, none of the other queue', async () => {
    // Prepare: a sender carrying a rule's aws:SourceArn (the emulator's simulation takes role principals: one
    // with sqs:* stands in for EventBridge; the Allow statement's principal is checked by the test above)
    const admin = `arn:aws:iam::${ACCT}:role/Admin`;
    const fromRule = (p: Packaged, to: 'enforce' | 'changes', rule: string) =>
      (to === 'enforce' ? send : sendChange)(p, admin, { 'aws:SourceArn': rule });

    // Act
    const decisions = {
      enforce: await Promise.all(
        [CREATE_RULE, CHANGES_RULE, CHECK_RULE].map((r) => fromRule(full, 'enforce', r)),
      ),
      changes: await Promise.all(
        [CREATE_RULE, CHANGES_RULE, CHECK_RULE].map((r) => fromRule(full, 'changes', r)),
      ),
    };

    // Assess
    expect(decisions).toEqual({
      enforce: ['Allowed', 'ExplicitlyDenied', 'ExplicitlyDenied'],
      changes: ['ExplicitlyDenied', 'Allowed', 'Allowed'],
    });
  });

  it("lets the sweep's role send its work items; without the sweep, no role is exempt", async () => {
    expect(await send(full, SWEEP_ROLE)).toBe('Allowed');
    expect(await send(bare, SWEEP_ROLE)).toBe('ExplicitlyDenied');
    // The sweep has no business on the changes queue (it no longer sends key checks)
    expect(await sendChange(full, SWEEP_ROLE)).toBe('ExplicitlyDenied');
  });

  it('exempts only the CreateLogGroup rule (enforce queue) and the two change rules (changes queue) by aws:SourceArn, and keeps the TLS deny', () => {
    for (const p of [full, bare]) {
      for (const [policy, resource, rules] of [
        ['EnforceQueuePolicy', QUEUE, [CREATE_RULE]],
        ['ChangesQueuePolicy', CHANGES_QUEUE, [CHANGES_RULE, CHECK_RULE]],
      ] as const) {
        const statements = (queuePolicy(p, policy) as any).Statement;
        const deny = statements.find((s: any) => s.Sid === 'DenyOtherSenders');
        expect(deny, policy).toMatchObject({
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: resource,
        });
        expect(deny.Condition.ArnNotEquals['aws:SourceArn'], policy).toEqual(rules);
        expect(statements.map((s: any) => s.Sid)).toContain('DenyInsecureTransport');
      }
    }
  });
});

describe('the rule for changes after creation', () => {
  it('delivers successful DisassociateKmsKey and KMS key changes to the changes queue, with a DLQ', () => {
    // Prepare
    const rule = full.template.Resources.KeyChangesRule?.Properties;

    // Assess
    expect(rule.EventPattern).toEqual({
      source: ['aws.logs', 'aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['logs.amazonaws.com', 'kms.amazonaws.com'],
        eventName: [
          'DisassociateKmsKey',
          'PutKeyPolicy',
          'DisableKeyRotation',
          'ScheduleKeyDeletion',
          'DisableKey',
          'DeleteAlias',
          'UpdateAlias',
        ],
        errorCode: [{ exists: false }],
      },
    });
    // To the changes function's queue (functions/changes.ts), not the enforce function's event path.
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['ChangesQueue', 'Arn'] });
    expect(rule.Targets[0].DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['RuleTargetDlq', 'Arn'] });
    // What these changes raise: KeyAtRisk its own alarm; key policy, alias, re-encryption and IaC conflicts the
    // one NeedsAttentionAlarm (the alarms test below).
    for (const alarm of ['KeyAtRiskAlarm', 'NeedsAttentionAlarm']) {
      expect(full.template.Resources[alarm]?.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    }
  });

  it('checks the guard key every 15 minutes through the changes queue, with the item the changes function parses', () => {
    // Prepare: a scheduled event as EventBridge delivers it to the input transformer
    const rule = full.template.Resources.KeyCheckScheduleRule?.Properties;
    const scheduled = {
      id: 'b5d6c1a0-0000-4000-8000-000000000001',
      account: '123456789012',
      region: 'eu-west-1',
    };
    const [target] = rule.Targets;
    const { InputPathsMap, InputTemplate } = target.InputTransformer;

    // Act: EventBridge replaces each <name> with the JSON string at its path
    const input = JSON.parse(
      InputTemplate.replace(/<(\w+)>/g, (_: string, name: string) =>
        JSON.stringify((scheduled as Record<string, string>)[InputPathsMap[name].replace(/^\$\./, '')]),
      ),
    );

    // Assess
    expect(rule.ScheduleExpression).toBe('rate(15 minutes)');
    expect(rule.State).toBe('ENABLED');
    expect(rule.Targets).toHaveLength(1);
    expect(target.Arn).toEqual({ 'Fn::GetAtt': ['ChangesQueue', 'Arn'] });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['RuleTargetDlq', 'Arn'] });
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(input).toEqual(keyCheckItem(scheduled));
    expect(input['detail-type']).toBe(KEY_CHECK_DETAIL_TYPE);
  });
});

describe('functions', () => {
  it('runs the bundles on nodejs22.x arm64 with source maps and a log group with retention', () => {
    // Prepare
    const fns = resourcesOfType(full.template, 'AWS::Lambda::Function');

    // Assess
    // The findings function (issue 22) is in the template, under FindingsOn (describe 'findings function').
    expect(fns.map(([id]) => id).sort()).toEqual([
      'ChangesLambdaFunction',
      'EnforceLambdaFunction',
      'FindingsLambdaFunction',
      'SweepLambdaFunction',
    ]);
    for (const [id, fn] of fns) {
      const name = id.replace(/LambdaFunction$/, '').toLowerCase();
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe(`${name}.handler`);
      expect(fn.Properties.Code.S3Key).toMatch(new RegExp(`/${name}\\.zip$`));
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('LogsKmsGuard');
    }
    for (const [, lg] of resourcesOfType(full.template, 'AWS::Logs::LogGroup')) {
      expect(lg.Properties.RetentionInDays).toBeGreaterThan(0);
    }
    // One per function (the findings one under FindingsOn)
    expect(
      resourcesOfType(full.template, 'AWS::Logs::LogGroup')
        .map(([id]) => id)
        .sort(),
    ).toEqual(['ChangesLogGroup', 'EnforceLogGroup', 'FindingsLogGroup', 'SweepLogGroup']);
    // The enforce and changes functions act with one role (the guard key's policy names it)
    const t = full.template.Resources as any;
    expect(t.ChangesLambdaFunction.Properties.Role).toEqual(t.EnforceLambdaFunction.Properties.Role);
    expect(t.EnforceLambdaFunction.Properties.Role).toEqual({ 'Fn::GetAtt': ['EnforceRole', 'Arn'] });
  });

  it('passes every setting to the enforce and changes functions under the names the code reads', () => {
    for (const fn of ['EnforceLambdaFunction', 'ChangesLambdaFunction']) {
      // Prepare
      const vars = (full.template.Resources as any)[fn].Properties.Environment.Variables;

      // Assess
      expect(vars, fn).toMatchObject({
        KMS_KEY_ARN: { Ref: 'KmsKeyArn' },
        KMS_KEY_ALIAS: { Ref: 'KmsKeyAlias' },
        INCLUDE_LOG_GROUPS: { Ref: 'IncludeLogGroups' },
        EXCLUDE_LOG_GROUPS: { Ref: 'ExcludeLogGroups' },
        SKIP_TAG_KEY: { Ref: 'SkipTagKey' },
        DRY_RUN: { Ref: 'DryRun' },
        ALLOW_KEY_OVERRIDE: { Ref: 'AllowKeyOverride' },
        ALLOW_KEY_POLICY_UPDATE: { Ref: 'AllowKeyPolicyUpdate' },
        POWERTOOLS_SERVICE_NAME: 'logs-kms-guard',
      });
    }
  });

  it('schedules the sweep from a parameter; no function reserves concurrency (runs are kept apart by a lease)', () => {
    // Prepare
    const t = full.template.Resources as any;

    // Assess
    expect(t.SweepScheduleRule.Properties.ScheduleExpression).toEqual({ Ref: 'SweepSchedule' });
    expect(full.template.Parameters.SweepSchedule.Default).toBe('rate(1 day)');
    // Reserving fails the stack where unreserved concurrency would drop below 10 (new organization accounts).
    for (const p of [full, bare, withKey]) {
      const fns = resourcesOfType(p.template, 'AWS::Lambda::Function');
      expect(fns.map(([id]) => id)).toContain('EnforceLambdaFunction');
      for (const [, fn] of fns) {
        expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    }
    expect(t.SweepLambdaFunction.Properties.Environment.Variables.ENFORCE_QUEUE_URL).toEqual({
      Ref: 'EnforceQueue',
    });
    expect(t.SweepSchedulePermission.Properties.SourceArn).toEqual({
      'Fn::GetAtt': ['SweepScheduleRule', 'Arn'],
    });
  });

  it('leaves the sweep out cleanly when it is not built (or --param sweep=off)', () => {
    // Assess
    const ids = Object.keys(bare.template.Resources);
    expect(ids.filter((id) => id.startsWith('Sweep'))).toEqual([]);
    expect(ids).toContain('EnforceLambdaFunction');
    expect(ids).toContain('ChangesLambdaFunction');
  });
});

/** The causes NeedsAttentionAlarm stands for: each has its own metric and no alarm of its own. */
const ATTENTION_CAUSES = [
  'UnsafeKeyRefused',
  'CustomResourceRefused',
  'KeyPolicyRepaired',
  'KeyAliasChanged',
  'ReEncrypted',
  'IacConflict',
  'KeyHousekeepingFailed',
];

describe('alarms', () => {
  it('alarm on both DLQs, function errors, failed rule deliveries, keys at risk and, in one alarm, the rare causes that need attention', () => {
    // Prepare
    const alarms = resourcesOfType(full.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const find = (ns: string, metric: string, dim: unknown) =>
      alarms.filter(
        (a) =>
          a.Namespace === ns &&
          a.MetricName === metric &&
          JSON.stringify(a.Dimensions).includes(JSON.stringify(dim)),
      );

    // Assess
    expect(
      find('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': ['EnforceDlq', 'QueueName'] }),
    ).toHaveLength(1);
    expect(
      find('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': ['RuleTargetDlq', 'QueueName'] }),
    ).toHaveLength(1);
    // The enforce and changes functions: one metric-math alarm over both functions' Errors (one role, one
    // DLQ, one alarm), each missing datapoint counted as 0 so either function alone raises it.
    const errors = alarms.filter((a) =>
      a.Metrics?.some((m: any) => m.MetricStat?.Metric.MetricName === 'Errors'),
    );
    expect(errors).toHaveLength(1);
    const stats = errors[0].Metrics.filter((m: any) => m.MetricStat);
    expect(
      stats.map((m: any) => [
        m.Id,
        m.MetricStat.Metric.Namespace,
        m.MetricStat.Metric.MetricName,
        m.ReturnData,
      ]),
    ).toEqual([
      ['enforce', 'AWS/Lambda', 'Errors', false],
      ['changes', 'AWS/Lambda', 'Errors', false],
    ]);
    expect(stats.map((m: any) => m.MetricStat.Metric.Dimensions)).toEqual([
      [{ Name: 'FunctionName', Value: { Ref: 'EnforceLambdaFunction' } }],
      [{ Name: 'FunctionName', Value: { Ref: 'ChangesLambdaFunction' } }],
    ]);
    for (const m of stats) expect(m.MetricStat.Stat).toBe('Sum');
    expect(errors[0].Metrics.filter((m: any) => m.ReturnData)).toEqual([
      expect.objectContaining({ Expression: 'FILL(enforce, 0) + FILL(changes, 0)', ReturnData: true }),
    ]);
    expect(find('AWS/Lambda', 'Errors', { Ref: 'SweepLambdaFunction' })).toHaveLength(1);
    expect(find('AWS/Events', 'FailedInvocations', { Ref: 'CreateLogGroupRule' })).toHaveLength(1);
    // Data loss: its own alarm, on the number of groups (Maximum: a duplicate delivery does not double it).
    expect(find('LogsKmsGuard', 'KeyAtRisk', { Name: 'service', Value: 'logs-kms-guard' })).toEqual([
      expect.objectContaining({ Statistic: 'Maximum' }),
    ]);
    // The rare causes someone must look at: one alarm on the combined count the functions add with each
    // (functions/core/guard-function.ts alarmedCounts), not one per cause (each alarm's metric is billed).
    expect(find('LogsKmsGuard', 'NeedsAttention', { Name: 'service', Value: 'logs-kms-guard' })).toEqual([
      expect.objectContaining({
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      }),
    ]);
    for (const cause of ATTENTION_CAUSES) {
      expect(
        alarms.filter((a) => a.MetricName === cause),
        cause,
      ).toEqual([]);
      expect(full.template.Resources[`${cause}Alarm`], cause).toBeUndefined();
    }
    // Every fight's re-encryption is counted, not alarmed: one IacConflict per group, not per apply.
    expect(alarms.filter((a) => a.MetricName === 'IacReEncrypted')).toEqual([]);
    // Every alarm but the heartbeat (SweepNotCompleted, below) fires on "> 0".
    for (const a of alarms.filter((a) => a.MetricName !== 'SweepCompleted')) {
      expect(a.Threshold).toBe(0);
      expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
      expect(a.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    }
  });

  it('says in NeedsAttentionAlarm what each cause means and where to look, within 1024 characters', () => {
    // Prepare
    const description: string = full.template.Resources.NeedsAttentionAlarm?.Properties.AlarmDescription;

    // Assess: CloudFormation rejects an AlarmDescription over 1024 characters
    expect(description.length).toBeLessThanOrEqual(1024);
    for (const cause of ATTENTION_CAUSES) expect(description, cause).toMatch(new RegExp(`\\b${cause}: \\S`));
    expect(description).toContain('GuardDashboard');
    expect(description).toContain("function's log");
    expect(description).toContain('finding');
    expect(description).toContain('logs-kms-guard doctor');
  });

  it('alarms when no sweep run completed for longer than the schedule allows, missing data breaching', () => {
    // Prepare
    const t = full.template;
    const alarm = t.Resources.SweepNotCompletedAlarm?.Properties;
    const param = t.Parameters.SweepAlarmHours;
    const scheduleHours = Number(/^rate\((\d+) days?\)$/.exec(t.Parameters.SweepSchedule.Default)?.[1]) * 24;

    // Assess: SweepCompleted summed per hour, below 1 in every hour of the window: no completed run
    expect(alarm).toMatchObject({
      Namespace: 'LogsKmsGuard',
      MetricName: 'SweepCompleted',
      Dimensions: [{ Name: 'service', Value: 'logs-kms-guard' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: { Ref: 'SweepAlarmHours' },
      DatapointsToAlarm: { Ref: 'SweepAlarmHours' },
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    // The default window is longer than the default schedule's interval; CloudWatch's limit is 7 days of hours.
    expect(param.Type).toBe('Number');
    expect(Number(param.Default)).toBeGreaterThan(scheduleHours);
    expect(param.MaxValue * alarm.Period).toBeLessThanOrEqual(604_800);
    expect(param.MinValue).toBeGreaterThanOrEqual(2);
  });

  it('alarms when sweep runs keep yielding: yields in two hours of the window', () => {
    const alarm = full.template.Resources.SweepYieldedAlarm?.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'LogsKmsGuard',
      MetricName: 'SweepYielded',
      Dimensions: [{ Name: 'service', Value: 'logs-kms-guard' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: { Ref: 'SweepAlarmHours' },
      DatapointsToAlarm: 2,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('sends to a topic CloudWatch can publish to, with an optional e-mail subscription', () => {
    // Prepare
    const t = full.template;
    const topic = (t.Resources as any).AlarmTopic.Properties;

    // Assess
    expect(JSON.stringify(topic.KmsMasterKeyId)).not.toContain('alias/aws/sns');
    // AlarmTopicKmsKeyArn, else the MessageKmsKey key (the guard alias or the given key), else unencrypted
    expect(topic.KmsMasterKeyId).toEqual({
      'Fn::If': [
        'HasAlarmTopicKey',
        { Ref: 'AlarmTopicKmsKeyArn' },
        {
          'Fn::If': [
            'EncryptsMessages',
            { 'Fn::If': ['EncryptsMessagesWithGuardKey', { Ref: 'KmsKeyAlias' }, { Ref: 'MessageKmsKey' }] },
            { Ref: 'AWS::NoValue' },
          ],
        },
      ],
    });
    expect(t.Resources.AlarmEmailSubscription?.Condition).toBe('HasAlarmEmail');
    expect(t.Conditions.HasAlarmEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }],
    });
    expect(t.Parameters.AlarmEmail.Default).toBe('');
  });
});

describe('the key', () => {
  it('is not a resource of the stack, so removing the stack keeps it and every association', () => {
    // Assess
    for (const p of [full, bare, withKey]) {
      const types = Object.values(p.template.Resources).map((r) => r.Type);
      // The list is the stack's real resources (not an empty one the checks below would pass on).
      expect(types).toContain('AWS::Lambda::Function');
      expect(types).not.toContain('AWS::KMS::Key');
      expect(types).not.toContain('AWS::KMS::Alias');
      expect(types).not.toContain('AWS::KMS::ReplicaKey');
      // The one custom resource prepares the key at deployment; its Delete never touches the key
      // (test/e2e/deploy.test.ts), so removing the stack keeps it.
      const custom = Object.values(p.template.Resources).filter(
        (r) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource',
      );
      expect(custom.map((r) => r.Type)).toEqual(['Custom::LogsKmsGuardKey']);
      // The changes function answers it (the key creator is not in the enforce bundle, functions/changes.ts).
      expect(custom[0]?.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['ChangesLambdaFunction', 'Arn'] });
      // no answer (a function that cannot load) fails within minutes, not CloudFormation's default hour
      expect(custom[0]?.Properties.ServiceTimeout).toBeLessThanOrEqual(300);
    }
  });

  it('exposes the key settings as parameters with the documented defaults', () => {
    // Prepare
    const params = bare.template.Parameters;

    // Assess
    expect(params.KmsKeyArn.Default).toBe('');
    expect(params.KmsKeyAlias.Default).toBe('alias/logs-kms-guard');
    expect(params.DryRun.Default).toBe('false');
    expect(params.AllowKeyOverride.Default).toBe('false');
    expect(params.AllowKeyPolicyUpdate.Default).toBe('false');
    expect(withKey.template.Parameters.KmsKeyArn.Default).toMatch(
      /^arn:aws:kms:us-east-1:111122223333:key\//,
    );
    expect(withKey.template.Parameters.AllowKeyPolicyUpdate.Default).toBe('true');
  });
});

describe('IAM', () => {
  it('grants only reviewed actions, on the reviewed resources, under the reviewed conditions', () => {
    // Prepare
    const statements = iamStatements(full.template).concat(iamStatements(withKey.template));

    // Act
    const problems = allowListProblems(statements);

    // Assess
    expect(problems).toEqual([]);
  });

  it('has no wildcard action, no kms:*, no forbidden action', () => {
    // Prepare
    const statements = iamStatements(full.template).concat(iamStatements(withKey.template));
    const allowed = statements.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions);

    // Assess: the roles' actions were found (the checks below would pass on none), then each of them
    expect(allowed).toEqual(expect.arrayContaining(['logs:AssociateKmsKey', 'kms:CreateKey']));
    expect(FORBIDDEN_ACTIONS.length).toBeGreaterThan(0);
    for (const action of statements.flatMap((s) => s.actions)) {
      expect(action).not.toContain('*');
    }
    for (const forbidden of FORBIDDEN_ACTIONS) expect(allowed).not.toContain(forbidden);
  });

  it('grants no key management on arbitrary keys: no ScheduleKeyDeletion, rotation or tagging, and denies deleting any aliased key', () => {
    // Prepare
    const statements = iamStatements(full.template).concat(iamStatements(withKey.template));
    const management = statements.filter(
      (s) =>
        s.effect === 'Allow' &&
        s.actions.some((a) =>
          [
            'kms:ScheduleKeyDeletion',
            'kms:EnableKeyRotation',
            'kms:TagResource',
            'kms:UntagResource',
          ].includes(a),
        ),
    );
    const denies = statements.filter(
      (s) => s.effect === 'Deny' && s.actions.includes('kms:ScheduleKeyDeletion'),
    );

    // Assess
    expect(management).toEqual([]);
    expect(denies[0]?.condition).toEqual({ 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/*' } });
  });

  it('scopes alias creation to the guard alias, with no key side in IAM (the guard key policy holds it)', () => {
    // Prepare
    const statements = iamStatements(full.template).filter((s) => s.effect === 'Allow');
    const alias = statements.filter((s) => s.actions.includes('kms:CreateAlias'));
    const putPolicy = statements.filter((s) => !s.onlyIf && s.actions.includes('kms:PutKeyPolicy'));

    // Assess
    expect(alias).toHaveLength(1);
    expect(alias[0]?.resources).toEqual([GUARD_ALIAS_ARN]);
    expect(putPolicy).toEqual([]);
  });

  it('grants the KMS calls CloudWatch Logs makes with the role only on a configured key, only through Logs', () => {
    // Prepare
    const via = iamStatements(withKey.template).filter((s) => s.actions.includes('kms:Encrypt'));

    // Assess
    expect(
      iamStatements(full.template).filter((s) => s.actions.includes('kms:Encrypt') && !s.onlyIf),
    ).toEqual([]);
    expect(via).toHaveLength(1);
    expect(via[0]?.onlyIf).toBe('HasKeyArn');
    expect(via[0]?.resources).toEqual(['Ref:KmsKeyArn']);
    expect(via[0]?.condition?.StringEquals).toEqual({
      'kms:ViaService': { 'Fn::Sub': `logs.${cfn('AWS::Region')}.${cfn('AWS::URLSuffix')}` },
    });
  });

  it('grants PutKeyPolicy on a configured key only when AllowKeyPolicyUpdate is on, and only that key', () => {
    // Prepare
    const statements = iamStatements(withKey.template).filter(
      (s) => s.actions.includes('kms:PutKeyPolicy') && s.onlyIf,
    );

    // Assess
    expect(statements).toHaveLength(1);
    expect(statements[0]?.onlyIf).toBe('MayUpdateUserKeyPolicy');
    expect(statements[0]?.resources).toEqual(['Ref:KmsKeyArn']);
    expect(withKey.template.Conditions.MayUpdateUserKeyPolicy).toEqual({
      'Fn::And': [{ Condition: 'HasKeyArn' }, { 'Fn::Equals': [{ Ref: 'AllowKeyPolicyUpdate' }, 'true'] }],
    });
  });

  it('carries exactly the reviewed deny guard rails', () => {
    // Prepare
    const denies = iamStatements(full.template).filter((s) => s.effect === 'Deny');

    // Assess
    const got: Record<string, Record<string, string[]>> = {};
    for (const d of denies) {
      got[d.role] ??= {};
      (got[d.role] as Record<string, string[]>)[d.sid] = d.actions;
    }
    expect(got).toEqual(DENYLIST);
  });

  it('gives the roles only the Lambda service as principal and no managed policies', () => {
    // Prepare
    const roles = resourcesOfType(full.template, 'AWS::IAM::Role');

    // Assess: both function roles are there (the checks below would pass on none), then each role
    expect(roles.map(([id]) => id)).toEqual(expect.arrayContaining(['EnforceRole', 'SweepRole']));
    for (const [, role] of roles) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('findings function (issue 22: Security Hub)', () => {
  const FINDINGS_RESOURCES = [
    'FindingsLambdaFunction',
    'FindingsLogGroup',
    'FindingsRole',
    'FindingsDlq',
    'FindingsDlqPolicy',
    'FindingsDlqAlarm',
    'FindingsEventInvokeConfig',
    'FindingsFromEnforce',
    'FindingsFromEnforcePermission',
    'FindingsFromChanges',
    'FindingsFromChangesPermission',
    'FindingsFromSweep',
    'FindingsFromSweepPermission',
  ];

  it('exists only when an integration is on: every resource under FindingsOn, SecurityHubFindings off by default', () => {
    const t = full.template;
    expect(t.Parameters.SecurityHubFindings).toMatchObject({
      Default: 'false',
      AllowedValues: ['true', 'false'],
    });
    // Any integration turns the function on: Security Hub, the finding events, the Config rule.
    expect(t.Conditions.FindingsOn).toEqual({
      'Fn::Or': [
        { Condition: 'SendsToSecurityHub' },
        { Condition: 'NotifiesFindings' },
        { Condition: 'HasConfigRule' },
      ],
    });
    expect(t.Conditions.SendsToSecurityHub).toEqual({
      'Fn::Equals': [{ Ref: 'SecurityHubFindings' }, 'true'],
    });
    // NotifyFindings' rule from the bus to the alarm topic, and the topic policy admitting it, stand under
    // NotifiesFindings (test/deploy/secops-template.test.ts), not the function's condition.
    const notify = ['FindingsNotifyRule', 'AlarmTopicPolicy'];
    const mentioning = Object.entries(t.Resources).filter(
      ([id, r]) =>
        !notify.includes(id) && (id.startsWith('Findings') || JSON.stringify(r).includes('"Findings')),
    );
    expect(mentioning.map(([id]) => id).sort()).toEqual([...FINDINGS_RESOURCES].sort());
    for (const [id, r] of mentioning) expect(r.Condition, id).toBe('FindingsOn');
  });

  it('subscribes to the finding lines of the enforce, changes and sweep log groups, with the permission for CloudWatch Logs', () => {
    const r = full.template.Resources as any;
    for (const [filter, group] of [
      ['FindingsFromEnforce', 'EnforceLogGroup'],
      // keys at risk, key policies repaired, IaC fights: the changes function's findings
      ['FindingsFromChanges', 'ChangesLogGroup'],
      ['FindingsFromSweep', 'SweepLogGroup'],
    ] as const) {
      expect(r[filter].Properties).toEqual({
        LogGroupName: { Ref: group },
        FilterPattern: `{ $.message = "${FINDING_MESSAGE}" }`,
        DestinationArn: { 'Fn::GetAtt': ['FindingsLambdaFunction', 'Arn'] },
      });
      expect(r[`${filter}Permission`].Properties).toMatchObject({
        Principal: 'logs.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [group, 'Arn'] },
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
      expect([r[filter].DependsOn].flat()).toEqual([`${filter}Permission`]);
    }
    // Without the sweep there is no sweep subscription (and no dangling reference).
    expect(Object.keys(bare.template.Resources)).toContain('FindingsFromEnforce');
    expect(Object.keys(bare.template.Resources)).toContain('FindingsFromChanges');
    expect(Object.keys(bare.template.Resources)).not.toContain('FindingsFromSweep');
  });

  it('never drops a delivery: two retries, then a DLQ (SSE-SQS, TLS only) with an alarm', () => {
    const r = full.template.Resources as any;
    expect(r.FindingsEventInvokeConfig.Properties).toMatchObject({ MaximumRetryAttempts: 2 });
    expect(r.FindingsLambdaFunction.Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': ['FindingsDlq', 'Arn'] },
    });
    expect(r.FindingsDlq.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    expect(r.FindingsDlqAlarm.Properties.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['FindingsDlq', 'QueueName'] } },
    ]);
    expect(r.FindingsLambdaFunction.Properties.Environment.Variables.SECURITY_HUB_FINDINGS).toEqual({
      Ref: 'SecurityHubFindings',
    });
  });

  it('each integration has its sink setting and its grant under its own condition; the Config rule only with the sweep', () => {
    const vars = (t: typeof full.template) =>
      (t.Resources as any).FindingsLambdaFunction.Properties.Environment.Variables;
    expect(vars(full.template)).toMatchObject({
      SECURITY_HUB_FINDINGS: { Ref: 'SecurityHubFindings' },
      NOTIFY_FINDINGS: { Ref: 'NotifyFindings' },
      CONFIG_RULE_NAME: { 'Fn::If': ['HasConfigRule', { Ref: 'GuardConfigRule' }, ''] },
    });
    const grant = (t: typeof full.template, action: string) =>
      iamStatements(t).filter((st) => st.actions.includes(action));
    expect(grant(full.template, 'securityhub:BatchImportFindings')).toMatchObject([
      { role: 'FindingsRole', onlyIf: 'SendsToSecurityHub' },
    ]);
    expect(grant(full.template, 'events:PutEvents')).toMatchObject([
      {
        role: 'FindingsRole',
        onlyIf: 'NotifiesFindings',
        resources: [
          `arn:${cfn('AWS::Partition')}:events:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:event-bus/default`,
        ],
        condition: { StringEquals: { 'events:source': EVENT_SOURCE } },
      },
    ]);
    expect(grant(full.template, 'config:StartConfigRulesEvaluation')).toMatchObject([
      { role: 'FindingsRole', onlyIf: 'HasConfigRule', resources: ['GetAtt:GuardConfigRule.Arn'] },
    ]);
    // Without the sweep there is no rule: no rule name, no grant on it (and no dangling reference).
    expect(vars(bare.template)).not.toHaveProperty('CONFIG_RULE_NAME');
    expect(grant(bare.template, 'config:StartConfigRulesEvaluation')).toEqual([]);
    expect(grant(bare.template, 'events:PutEvents')).toHaveLength(1);
  });

  it("imports only into the account's own product, for its own account", () => {
    const imports = iamStatements(full.template).filter((st) =>
      st.actions.includes('securityhub:BatchImportFindings'),
    );
    expect(imports).toHaveLength(1);
    expect(imports[0]).toMatchObject({
      role: 'FindingsRole',
      resources: [
        `arn:${cfn('AWS::Partition')}:securityhub:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:product/${cfn('AWS::AccountId')}/default`,
      ],
      condition: { StringEquals: { 'securityhub:TargetAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(
      iamStatements(full.template).filter(
        (st) => st.actions.some((a) => a.startsWith('securityhub:')) && st.role !== 'FindingsRole',
      ),
    ).toEqual([]);
  });
});
