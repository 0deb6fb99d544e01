/**
 * The session policy of each command that runs across accounts: what `sts:AssumeRole` passes as `Policy`, so a
 * session in another account can do what the command does and nothing else, whatever the role itself allows
 * (OrganizationAccountAccessRole has AdministratorAccess). A session's permissions are the intersection of the
 * role's policies and this one (IAM User Guide, "Session policies"). Pure data, one definition per command, with
 * three placeholders filled per run: `{{Partition}}`, `{{KeyAlias}}` (the guard alias) and `{{SkipTagKey}}`.
 *
 * audit and doctor only read. enforce may also associate keys and create or repair the guard key (the calls the
 * CLI's own enforce makes, docs/CLI.md "Permissions"), never delete or disable one: a key it created and lost the
 * alias race with is left to its owner (the function role retires its own). rollback may only disassociate and tag
 * the group with the opt-out tag. Nothing here lets a session delete a log group, change its retention, or
 * schedule a key's deletion.
 */

/** The plain-text limit of AssumeRole's `Policy` (STS API reference, AssumeRole: "up to 2,048 characters"). */
export const MAX_SESSION_POLICY_CHARS = 2048;

/** The commands that assume roles in other accounts (`--org`, `--ou`, `--accounts`). */
export type AcrossCommand = 'audit' | 'doctor' | 'enforce' | 'rollback';

interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** What every command reads: the groups, their tags, the keys they use and their policies, the caller. */
const READ: Statement = {
  Sid: 'Read',
  Effect: 'Allow',
  Action: [
    'logs:DescribeLogGroups',
    'logs:ListTagsForResource',
    'kms:DescribeKey',
    'kms:GetKeyPolicy',
    'sts:GetCallerIdentity',
  ],
  Resource: '*',
};

/** doctor's checks beyond READ: the trail, the rule, the queues, the consumer, recent failures, key rotation. */
const DOCTOR_READ: Statement = {
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
const ENFORCE_WRITE: Statement[] = [
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
];

/** rollback's writes: remove the key, after tagging the group with the opt-out tag (and that tag only). */
const ROLLBACK_WRITE: Statement[] = [
  { Sid: 'Disassociate', Effect: 'Allow', Action: ['logs:DisassociateKmsKey'], Resource: GROUPS },
  {
    Sid: 'OptOutTag',
    Effect: 'Allow',
    Action: ['logs:TagResource'],
    Resource: GROUPS,
    Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['{{SkipTagKey}}'] } },
  },
];

/** One definition per command: the statements of its session policy. */
export const SESSION_POLICIES: Readonly<Record<AcrossCommand, readonly Statement[]>> = {
  audit: [READ],
  doctor: [READ, DOCTOR_READ],
  enforce: [READ, ...ENFORCE_WRITE],
  rollback: [READ, ...ROLLBACK_WRITE],
};

/** What fills the placeholders: the run's partition, guard alias and opt-out tag key. */
export interface SessionPolicyInput {
  partition: string;
  keyAlias: string;
  skipTagKey: string;
}

/** True for the commands that have a session policy (those that run across accounts). */
export function hasSessionPolicy(command: string): command is AcrossCommand {
  return Object.hasOwn(SESSION_POLICIES, command);
}

/** The session policy document of `command` with the placeholders filled, as AssumeRole's `Policy` (compact JSON). */
export function sessionPolicy(command: AcrossCommand, input: SessionPolicyInput): string {
  // Filled into JSON text: each value JSON-escaped (a tag key may hold any character).
  const json = (value: string) => JSON.stringify(value).slice(1, -1);
  const fill = (text: string) =>
    text
      .replaceAll('{{Partition}}', json(input.partition))
      .replaceAll('{{KeyAlias}}', json(input.keyAlias))
      .replaceAll('{{SkipTagKey}}', json(input.skipTagKey));
  const statements = SESSION_POLICIES[command];
  return fill(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
}
