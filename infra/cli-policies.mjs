/**
 * The IAM statements of the CLI's work in another account, as plain data with three placeholders
 * (`{{Partition}}`, `{{KeyAlias}}`, `{{SkipTagKey}}`): the one source of both the session policies the CLI passes on
 * every AssumeRole (functions/cli/session-policy.ts fills the placeholders per run) and the optional CLI roles of
 * the StackSet (infra/stackset.mjs turns them into Fn::Sub). Plain JavaScript because infra/stackset.mjs ships and
 * runs without the TypeScript sources; infra/cli-policies.d.mts gives it types.
 */

/**
 * What every command reads: the groups, their tags, the keys they use and their policies, the caller; and the
 * enforce function's fight records (log streams of its own log group: the groups infrastructure as code keeps
 * taking the key from, which `audit` lists);
 * and the last 90 days of CloudTrail (LookupEvents), from which `audit` and `doctor` reconstruct, best effort, the previous
 * keys of groups the guard never saw change key (functions/cli/key-history.ts).
 */
export const READ = {
  Sid: 'Read',
  Effect: 'Allow',
  Action: [
    'logs:DescribeLogGroups',
    'logs:DescribeLogStreams',
    'logs:ListTagsForResource',
    'kms:DescribeKey',
    'kms:GetKeyPolicy',
    'sts:GetCallerIdentity',
    'cloudtrail:LookupEvents',
  ],
  Resource: '*',
};

/** doctor's checks beyond READ: the trail, the rule, the queues, the consumer, recent failures, key rotation. */
export const DOCTOR_READ = {
  Sid: 'DoctorRead',
  Effect: 'Allow',
  Action: [
    'cloudtrail:DescribeTrails',
    'cloudtrail:GetTrailStatus',
    'cloudtrail:GetEventSelectors',
    'events:ListRules',
    'events:DescribeRule',
    'events:ListTargetsByRule',
    'sqs:GetQueueUrl',
    'sqs:GetQueueAttributes',
    'lambda:ListEventSourceMappings',
    'lambda:GetFunctionConfiguration',
    'logs:FilterLogEvents',
    'kms:GetKeyRotationStatus',
  ],
  Resource: '*',
};

const GROUPS = 'arn:{{Partition}}:logs:*:*:log-group:*';
const KEYS = 'arn:{{Partition}}:kms:*:*:key/*';

/** enforce's writes: associate, the KMS calls CloudWatch Logs makes with the caller's credentials, the guard key. */
export const ENFORCE_WRITE = [
  { Sid: 'Associate', Effect: 'Allow', Action: ['logs:AssociateKmsKey'], Resource: GROUPS },
  {
    Sid: 'UseKeyThroughLogs',
    Effect: 'Allow',
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'],
    Resource: KEYS,
    Condition: { StringLike: { 'kms:ViaService': ['logs.*.amazonaws.com', 'logs.*.amazonaws.com.cn'] } },
  },
  {
    Sid: 'CreateGuardKey',
    Effect: 'Allow',
    Action: ['kms:CreateKey'],
    Resource: '*',
    Condition: {
      StringEquals: {
        'kms:KeySpec': 'SYMMETRIC_DEFAULT',
        'kms:KeyUsage': 'ENCRYPT_DECRYPT',
        'kms:KeyOrigin': 'AWS_KMS',
      },
      BoolIfExists: { 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
    },
  },
  {
    Sid: 'GuardAlias',
    Effect: 'Allow',
    Action: ['kms:CreateAlias'],
    Resource: ['arn:{{Partition}}:kms:*:*:{{KeyAlias}}', KEYS],
  },
  {
    Sid: 'RepairGuardKey',
    Effect: 'Allow',
    Action: ['kms:PutKeyPolicy', 'kms:EnableKeyRotation'],
    Resource: KEYS,
    Condition: { BoolIfExists: { 'kms:BypassPolicyLockoutSafetyCheck': 'false' } },
  },
  {
    Sid: 'TagGuardKey',
    Effect: 'Allow',
    Action: ['kms:TagResource'],
    Resource: KEYS,
    Condition: {
      StringEquals: { 'aws:RequestTag/ManagedBy': 'logs-kms-guard' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['ManagedBy'] },
    },
  },
  {
    // ALLOW_KEY_OVERRIDE replacing a key: the group's key-dependency record (functions/core/key-record.ts), and
    // those tags only; UntagResource removes records whose data retention has removed.
    Sid: 'KeyRecordTags',
    Effect: 'Allow',
    Action: ['logs:TagResource', 'logs:UntagResource'],
    Resource: GROUPS,
    Condition: {
      'ForAllValues:StringLike': { 'aws:TagKeys': ['logs-kms-guard:prev-key:*', 'logs-kms-guard:owner-key'] },
    },
  },
];

/**
 * rollback's writes: remove the key, after tagging the group with the opt-out tag and the key-dependency record
 * of the key it loses (functions/core/key-record.ts), and those tags only.
 */
export const ROLLBACK_WRITE = [
  { Sid: 'Disassociate', Effect: 'Allow', Action: ['logs:DisassociateKmsKey'], Resource: GROUPS },
  {
    Sid: 'OptOutTag',
    Effect: 'Allow',
    Action: ['logs:TagResource'],
    Resource: GROUPS,
    Condition: {
      'ForAllValues:StringLike': {
        'aws:TagKeys': ['{{SkipTagKey}}', 'logs-kms-guard:prev-key:*', 'logs-kms-guard:owner-key'],
      },
    },
  },
];
