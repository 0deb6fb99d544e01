import type { FlatStatement } from './template.ts';

// The reviewed allow-list of every IAM permission the stack grants. A statement passes only if each of its
// actions is listed here for that role with a matching resource shape and exactly the listed conditions.
// Adding a permission means adding it here, in review, with the reason.

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
const ownLogGroup = (fn: string) => arn('logs', `log-group:/aws/lambda/logs-kms-guard-prod-${fn}:*`);

export const GUARD_TAG = { 'aws:ResourceTag/ManagedBy': 'logs-kms-guard' };

const own = (fn: string): Shape => ({ resources: [ownLogGroup(fn)], why: 'write its own log group only' });

export const ALLOWLIST: Record<string, Record<string, Shape[]>> = {
  EnforceRole: {
    'logs:CreateLogStream': [own('enforce')],
    'logs:PutLogEvents': [own('enforce')],
    'sqs:ReceiveMessage': [
      { resources: [ENFORCE_QUEUE], why: 'SQS event source polls with the function role' },
    ],
    'sqs:DeleteMessage': [{ resources: [ENFORCE_QUEUE], why: 'SQS event source deletes handled messages' }],
    'sqs:ChangeMessageVisibility': [
      { resources: [ENFORCE_QUEUE], why: 'visibility backoff of a retried record' },
    ],
    'sqs:GetQueueAttributes': [
      { resources: [ENFORCE_QUEUE], why: 'SQS event source reads the queue settings' },
    ],
    'logs:DescribeLogGroups': [
      { resources: [LOG_GROUPS], why: 'does the group exist, has it a key already' },
    ],
    'logs:AssociateKmsKey': [{ resources: [LOG_GROUPS], why: 'the job itself' }],
    'kms:DescribeKey': [{ resources: [KEYS, CONFIGURED_KEY], why: 'key state/spec, lookup by alias' }],
    'kms:GetKeyPolicy': [{ resources: [KEYS, CONFIGURED_KEY], why: 'verify the Logs statement' }],
    'kms:GetKeyRotationStatus': [
      { resources: [KEYS, CONFIGURED_KEY], why: 'doctor-style check of rotation' },
    ],
    'kms:ListResourceTags': [{ resources: [KEYS, CONFIGURED_KEY], why: 'is this the guard key' }],
    'kms:CreateKey': [
      {
        resources: [/^\*$/],
        condition: {
          StringEquals: {
            'aws:RequestTag/ManagedBy': 'logs-kms-guard',
            'aws:RequestTag/logs-kms-guard:role': 'candidate',
            'kms:KeySpec': 'SYMMETRIC_DEFAULT',
            'kms:KeyUsage': 'ENCRYPT_DECRYPT',
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['ManagedBy', 'logs-kms-guard:role'] },
        },
        why: 'CreateKey has no resource; only a symmetric key with exactly the guard tags',
      },
    ],
    'kms:TagResource': [
      {
        resources: [KEYS],
        condition: {
          StringEquals: {
            'aws:RequestTag/ManagedBy': 'logs-kms-guard',
            'aws:RequestTag/logs-kms-guard:role': 'candidate',
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['ManagedBy', 'logs-kms-guard:role'] },
        },
        why: 'CreateKey with Tags needs kms:TagResource on the keys of the account and region',
      },
      {
        resources: [KEYS],
        condition: {
          StringEquals: { 'aws:RequestTag/logs-kms-guard:role': 'active' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['logs-kms-guard:role'] },
        },
        why: 'mark the alias winner active (makes it non-deletable)',
      },
    ],
    'kms:CreateAlias': [{ resources: [GUARD_ALIAS, KEYS], why: 'the alias race lock: guard alias only' }],
    'kms:EnableKeyRotation': [
      { resources: [KEYS], condition: { StringEquals: GUARD_TAG }, why: 'rotation on guard keys' },
    ],
    'kms:PutKeyPolicy': [
      {
        resources: [KEYS],
        condition: {
          StringEquals: GUARD_TAG,
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': { Ref: 'KmsKeyAlias' } },
        },
        why: 'merge the Logs statement into the guard key (tagged and behind the guard alias)',
      },
      {
        resources: [CONFIGURED_KEY],
        onlyIf: 'MayUpdateUserKeyPolicy',
        why: 'ALLOW_KEY_POLICY_UPDATE with a configured key: that key only',
      },
    ],
    'kms:ScheduleKeyDeletion': [
      {
        resources: [KEYS],
        condition: {
          StringEquals: { ...GUARD_TAG, 'aws:ResourceTag/logs-kms-guard:role': 'candidate' },
          NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 7 },
        },
        why: 'a race loser retires its own unused candidate key',
      },
    ],
  },
  SweepRole: {
    'logs:CreateLogStream': [own('sweep')],
    'logs:PutLogEvents': [own('sweep')],
    'logs:DescribeLogGroups': [{ resources: [LOG_GROUPS], why: 'list every group with its key' }],
    'logs:ListTagsForResource': [{ resources: [LOG_GROUPS], why: 'honour the opt-out tag' }],
    'sqs:SendMessage': [
      { resources: [ENFORCE_QUEUE], why: 'enqueue work items (SendMessageBatch authorises as SendMessage)' },
    ],
    'kms:DescribeKey': [{ resources: [KEYS, CONFIGURED_KEY], why: 'find the guard key for the run report' }],
    'lambda:InvokeFunction': [
      {
        resources: [arn('lambda', 'function:logs-kms-guard-prod-sweep')],
        why: 'continue a long run: itself only',
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

/** Never granted, whatever the conditions (ScheduleKeyDeletion is checked for its candidate condition instead). */
export const FORBIDDEN_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
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
