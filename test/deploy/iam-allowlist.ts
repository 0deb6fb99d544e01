/**
 * Shared by test/deploy/template.test.ts and test/reliability/least-privilege.test.ts: the reviewed IAM
 * allow-list (every permission the stack grants) and deny-list of the packaged template, and
 * `allowListProblems`, which checks its statements against them. A statement passes only if each of its
 * actions is listed here for that role with a matching resource shape and exactly the listed conditions.
 * Adding a permission means adding it here, in review, with the reason.
 */
import type { FlatStatement } from './template.ts';

export interface Shape {
  /** Every resource of the statement must match one of these (template text: Fn::Sub body, Ref:X, GetAtt:X.Arn). */
  resources: RegExp[];
  /** The statement's Condition must equal this exactly (undefined: the statement has no Condition). */
  condition?: Record<string, Record<string, unknown>>;
  /** The statement must exist only under this CloudFormation condition. */
  onlyIf?: string;
  why: string;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const arn = (service: string, rest: string) =>
  new RegExp(`^${esc(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`)}$`);

export const LOG_GROUPS = arn('logs', 'log-group:*');
export const KEYS = arn('kms', 'key/*');
/** The CloudFormation `${Param}` placeholder, spelled without tripping the template-string lint. */
export const cfn = (name: string) => `\${${name}}`;
export const GUARD_ALIAS = arn('kms', cfn('KmsKeyAlias'));
export const GUARD_ALIAS_ARN = `arn:${cfn('AWS::Partition')}:kms:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:${cfn('KmsKeyAlias')}`;
export const CONFIGURED_KEY = /^Ref:KmsKeyArn$/;
export const ENFORCE_QUEUE = /^GetAtt:EnforceQueue\.Arn$/;
/** The changes function's queue (later changes, key checks), polled with the same role. */
export const CHANGES_QUEUE = /^GetAtt:ChangesQueue\.Arn$/;
const ownLogGroup = (fn: string) => arn('logs', `log-group:/aws/lambda/logs-kms-guard-prod-${fn}:*`);

export const GUARD_TAG = { 'aws:ResourceTag/ManagedBy': 'logs-kms-guard' };

/** CloudWatch Logs' KMS calls with the role's credentials on AssociateKmsKey: the configured key, via Logs only. */
const VIA_LOGS: Shape = {
  resources: [CONFIGURED_KEY],
  onlyIf: 'HasKeyArn',
  condition: {
    StringEquals: { 'kms:ViaService': { 'Fn::Sub': `logs.${cfn('AWS::Region')}.${cfn('AWS::URLSuffix')}` } },
    ArnLike: {
      'kms:EncryptionContext:aws:logs:arn': {
        'Fn::Sub': `arn:${cfn('AWS::Partition')}:logs:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:log-group:*`,
      },
    },
  },
  why: 'AssociateKmsKey: CloudWatch Logs calls KMS with the caller (configured key; the guard key grants it in its policy)',
};

/** The key-dependency record's tags (functions/core/key-record.ts), on any group of the account, those tags only. */
const KEY_RECORD: Omit<Shape, 'why'> = {
  resources: [LOG_GROUPS],
  condition: {
    'ForAllValues:StringLike': { 'aws:TagKeys': ['logs-kms-guard:prev-key:*', 'logs-kms-guard:owner-key'] },
  },
};

const own = (...fns: string[]): Shape => ({
  resources: fns.map(ownLogGroup),
  why: 'write its own log group(s) only',
});

/**
 * MessageKmsKey: SQS uses the queues' key with the role's credentials, only through SQS, only for these queues
 * (the guard key, any key of the account as IAM sees it; or the given key).
 */
const viaSqs = (queues: unknown): Shape => ({
  resources: [KEYS, /^Ref:MessageKmsKey$/],
  onlyIf: 'EncryptsMessages',
  condition: {
    StringEquals: { 'kms:ViaService': { 'Fn::Sub': `sqs.${cfn('AWS::Region')}.${cfn('AWS::URLSuffix')}` } },
    ArnEquals: { 'kms:EncryptionContext:aws:sqs:arn': queues },
  },
  why: 'MessageKmsKey: send to / receive from the encrypted queues through SQS',
});
const ENFORCE_QUEUES = [
  { 'Fn::GetAtt': ['EnforceQueue', 'Arn'] },
  { 'Fn::GetAtt': ['ChangesQueue', 'Arn'] },
  { 'Fn::GetAtt': ['EnforceDlq', 'Arn'] },
];
const SWEEP_QUEUE = { 'Fn::GetAtt': ['EnforceQueue', 'Arn'] };

export const ALLOWLIST: Record<string, Record<string, Shape[]>> = {
  // The role of both the enforce and the changes function (one role: the guard key's policy names it).
  EnforceRole: {
    'logs:CreateLogStream': [own('enforce', 'changes')],
    'logs:PutLogEvents': [own('enforce', 'changes')],
    'sqs:ReceiveMessage': [
      { resources: [ENFORCE_QUEUE, CHANGES_QUEUE], why: 'SQS event sources poll with the function role' },
    ],
    'sqs:DeleteMessage': [
      { resources: [ENFORCE_QUEUE, CHANGES_QUEUE], why: 'SQS event sources delete handled messages' },
    ],
    'sqs:GetQueueAttributes': [
      { resources: [ENFORCE_QUEUE, CHANGES_QUEUE], why: 'SQS event sources read the queue settings' },
    ],
    'logs:DescribeLogGroups': [
      { resources: [LOG_GROUPS], why: 'does the group exist, has it a key already' },
    ],
    'logs:AssociateKmsKey': [
      { resources: [LOG_GROUPS], why: 'the job itself' },
      {
        resources: [arn('logs', 'query-result:*')],
        onlyIf: 'EncryptsQueryResults',
        why: "EncryptQueryResults: the account's Insights query results",
      },
    ],
    'logs:ListTagsForResource': [
      {
        resources: [LOG_GROUPS],
        why: 'a group that lost its key: honour its opt-out tag (rollback sets it)',
      },
    ],
    'logs:TagResource': [{ ...KEY_RECORD, why: 'the key-dependency record: a group moved off a key' }],
    'logs:UntagResource': [
      { ...KEY_RECORD, why: 'the key-dependency record: drop records retention has expired' },
    ],
    'kms:DescribeKey': [
      {
        resources: [KEYS, CONFIGURED_KEY],
        why: 'key state/spec, lookup by alias; the DescribeKey CloudWatch Logs makes with the role',
      },
    ],
    'kms:GetKeyPolicy': [{ resources: [KEYS, CONFIGURED_KEY], why: 'verify the Logs and role statements' }],
    'kms:GetKeyRotationStatus': [
      { resources: [KEYS, CONFIGURED_KEY], why: "the sweep's guard key check: is rotation still on" },
    ],
    'kms:CreateKey': [
      {
        resources: [/^\*$/],
        condition: {
          StringEquals: {
            'kms:KeySpec': 'SYMMETRIC_DEFAULT',
            'kms:KeyUsage': 'ENCRYPT_DECRYPT',
            'kms:KeyOrigin': 'AWS_KMS',
          },
        },
        why: 'CreateKey has no resource; only a symmetric encryption key of KMS key material',
      },
    ],
    'kms:CreateAlias': [
      { resources: [GUARD_ALIAS], why: 'the alias race lock: alias side, the guard alias only' },
    ],
    'kms:Encrypt': [VIA_LOGS],
    'kms:Decrypt': [VIA_LOGS, viaSqs(ENFORCE_QUEUES)],
    'kms:GenerateDataKey': [VIA_LOGS, viaSqs(ENFORCE_QUEUES)],
    'kms:GenerateDataKeyWithoutPlaintext': [VIA_LOGS],
    'kms:PutKeyPolicy': [
      {
        resources: [CONFIGURED_KEY],
        onlyIf: 'MayUpdateUserKeyPolicy',
        why: 'ALLOW_KEY_POLICY_UPDATE with a configured key: that key only',
      },
    ],
  },
  SweepRole: {
    'logs:CreateLogStream': [own('sweep')],
    'logs:PutLogEvents': [own('sweep')],
    'logs:DescribeLogStreams': [
      { ...own('sweep'), why: 'the run lease: list its lease streams (own group only)' },
    ],
    'logs:DeleteLogStream': [{ ...own('sweep'), why: 'the run lease: release its streams (own group only)' }],
    'logs:DescribeLogGroups': [{ resources: [LOG_GROUPS], why: 'list every group with its key' }],
    'logs:ListTagsForResource': [{ resources: [LOG_GROUPS], why: 'honour the opt-out tag' }],
    'sqs:SendMessage': [
      { resources: [ENFORCE_QUEUE], why: 'enqueue work items (SendMessageBatch authorises as SendMessage)' },
    ],
    'kms:DescribeKey': [{ resources: [KEYS, CONFIGURED_KEY], why: 'find the guard key for the run report' }],
    'kms:Decrypt': [viaSqs(SWEEP_QUEUE)],
    'kms:GenerateDataKey': [viaSqs(SWEEP_QUEUE)],
    'lambda:InvokeFunction': [
      {
        resources: [arn('lambda', 'function:logs-kms-guard-prod-sweep')],
        why: 'continue a long run: itself only',
      },
    ],
    'config:PutEvaluations': [
      {
        resources: [/^\*$/],
        onlyIf: 'HasConfigRule',
        why: "ConfigRule: deliver the rule's evaluations; the action has no resource type, the token comes from Config's invocation",
      },
    ],
    'config:GetComplianceDetailsByConfigRule': [
      {
        resources: [arn('config', 'config-rule/*')],
        onlyIf: 'HasConfigRule',
        why: "ConfigRule: read the rule's evaluations to put only changes (read-only; the rule's own ARN would be a cycle)",
      },
    ],
  },
  // The findings function (infra/sls/findings.yml): the whole role exists only under FindingsOn (any integration
  // on); each integration's grant only under its own condition.
  FindingsRole: {
    'logs:CreateLogStream': [own('findings')],
    'logs:PutLogEvents': [own('findings')],
    'securityhub:BatchImportFindings': [
      {
        resources: [arn('securityhub', `product/${cfn('AWS::AccountId')}/default`)],
        condition: { StringEquals: { 'securityhub:TargetAccount': { Ref: 'AWS::AccountId' } } },
        onlyIf: 'SendsToSecurityHub',
        why: "SecurityHubFindings: import the guard's findings into this account's own product, for this account only",
      },
    ],
    'events:PutEvents': [
      {
        resources: [arn('events', 'event-bus/default')],
        condition: { StringEquals: { 'events:source': 'logs-kms-guard' } },
        onlyIf: 'NotifiesFindings',
        why: "NotifyFindings: one event per finding on the account's default bus, only with the product's own source",
      },
    ],
    'config:StartConfigRulesEvaluation': [
      {
        resources: [/^GetAtt:GuardConfigRule\.Arn$/],
        onlyIf: 'HasConfigRule',
        why: "ConfigRule: have Config re-evaluate the guard's own rule when a log group's finding changes",
      },
    ],
    'sqs:SendMessage': [
      {
        resources: [/^GetAtt:FindingsDlq\.Arn$/],
        why: 'Lambda parks a failed delivery in the DLQ with the role',
      },
    ],
  },
};

/** Deny statements the roles carry (guard rails); checked by Sid and action. */
export const DENYLIST: Record<string, Record<string, string[]>> = {
  EnforceRole: {
    DenyDeletingAliasedKeys: ['kms:ScheduleKeyDeletion'],
    DenyPolicyLockoutBypass: ['kms:CreateKey', 'kms:PutKeyPolicy'],
  },
};

/**
 * Never granted by IAM, whatever the conditions: key management on arbitrary keys. The guard's authority over
 * its own key is that key's policy (functions/core/policy.ts, guardRoleStatements).
 */
export const FORBIDDEN_ACTIONS = [
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:TagResource',
  'kms:EnableKeyRotation',
  'kms:ScheduleKeyDeletion',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:CancelKeyDeletion',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:UpdateAlias',
  'kms:UntagResource',
  'kms:ImportKeyMaterial',
  'kms:DeleteImportedKeyMaterial',
  'logs:DisassociateKmsKey',
  'logs:DeleteLogGroup',
  'logs:PutRetentionPolicy',
];

/** True when the statement has exactly the shape's CloudFormation condition, resources and Condition. */
export function matchesShape(st: FlatStatement, shape: Shape): boolean {
  if ((shape.onlyIf ?? undefined) !== (st.onlyIf ?? undefined)) return false;
  if (!st.resources.every((r) => shape.resources.some((re) => re.test(r)))) return false;
  return JSON.stringify(st.condition ?? null) === JSON.stringify(shape.condition ?? null);
}

/** Every Allow of `statements` that the reviewed allow-list does not cover, one line each (empty: all reviewed). */
export function allowListProblems(statements: FlatStatement[]): string[] {
  const problems: string[] = [];
  for (const st of statements.filter((s) => s.effect === 'Allow')) {
    for (const action of st.actions) {
      const shapes = ALLOWLIST[st.role]?.[action];
      if (!shapes) problems.push(`${st.role}/${st.sid}: ${action} is not on the allow-list`);
      else if (!shapes.some((shape) => matchesShape(st, shape))) {
        problems.push(
          `${st.role}/${st.sid}: ${action} on ${st.resources.join(', ')} with ${JSON.stringify(st.condition)} does not match the allow-list`,
        );
      }
    }
  }
  return problems;
}
