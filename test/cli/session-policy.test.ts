/**
 * functions/cli/session-policy.ts: each command's session policy, intersected with AdministratorAccess (what
 * OrganizationAccountAccessRole has), evaluated by iam-simulate (local/emulator/iam.ts `evaluate`): it allows every
 * call the command makes (listed here from the code, one list per command) and refuses the writes the command
 * never makes; its actions are exactly those of the list; it fits AssumeRole's 2,048-character limit.
 */
import { describe, expect, it } from 'vitest';
import {
  type AcrossCommand,
  MAX_SESSION_POLICY_CHARS,
  SESSION_POLICIES,
  sessionPolicy,
} from '../../functions/cli/session-policy.ts';
import { evaluate } from '../../local/emulator/iam.ts';

const A = '222222222222';
const R = 'us-east-1';
const ROLE = `arn:aws:iam::${A}:role/OrganizationAccountAccessRole`;
const ADMIN = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const GROUP = `arn:aws:logs:${R}:${A}:log-group:/app/orders`;
const KEY = `arn:aws:kms:${R}:${A}:key/1f2e3d4c-0000-4000-8000-000000000001`;
const ALIAS = `arn:aws:kms:${R}:${A}:alias/logs-kms-guard`;
const VIA_LOGS = { 'kms:ViaService': `logs.${R}.amazonaws.com` };
/** A key policy that delegates to IAM (the guard key's EnableRootAccountAdministration): KMS then asks IAM. */
const KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};
const INPUT = { partition: 'aws', keyAlias: 'alias/logs-kms-guard', skipTagKey: 'logs-kms-guard:skip' };

type Call = [action: string, resource: string, context?: Record<string, string | string[]>];

/** What every command reads (the sweep's listing, the key checks, the caller). */
const READS: Call[] = [
  ['logs:DescribeLogGroups', '*'],
  // audit: the enforce function's fight records (functions/cli/fights.ts)
  ['logs:DescribeLogStreams', `arn:aws:logs:${R}:${A}:log-group:/aws/lambda/logs-kms-guard-prod-enforce`],
  ['logs:ListTagsForResource', GROUP],
  ['kms:DescribeKey', KEY],
  ['kms:GetKeyPolicy', KEY],
  ['sts:GetCallerIdentity', '*'],
  // audit/doctor: the previous keys of groups the guard never saw change key (cli/key-history.ts)
  ['cloudtrail:LookupEvents', '*'],
];

/** The key-dependency record's tags (core/key-record.ts), and those only. */
const RECORD_TAGS = { 'aws:TagKeys': ['logs-kms-guard:prev-key:11111111-1111-1111-1111-111111111111'] };

/** The calls each command makes in a member account, read from its code (docs/CLI.md "Permissions"). */
const CALLS: Record<AcrossCommand, Call[]> = {
  audit: READS,
  doctor: [
    ...READS,
    ['cloudtrail:DescribeTrails', '*'],
    ['cloudtrail:GetTrailStatus', `arn:aws:cloudtrail:${R}:${A}:trail/org-trail`],
    ['cloudtrail:GetEventSelectors', `arn:aws:cloudtrail:${R}:${A}:trail/org-trail`],
    ['events:ListRules', '*'],
    ['events:DescribeRule', `arn:aws:events:${R}:${A}:rule/logs-kms-guard-prod-create`],
    ['events:ListTargetsByRule', `arn:aws:events:${R}:${A}:rule/logs-kms-guard-prod-create`],
    ['sqs:GetQueueUrl', `arn:aws:sqs:${R}:${A}:logs-kms-guard-prod-enforce`],
    ['sqs:GetQueueAttributes', `arn:aws:sqs:${R}:${A}:logs-kms-guard-prod-enforce`],
    ['lambda:ListEventSourceMappings', '*'],
    ['lambda:GetFunctionConfiguration', `arn:aws:lambda:${R}:${A}:function:logs-kms-guard-prod-enforce`],
    ['logs:FilterLogEvents', `arn:aws:logs:${R}:${A}:log-group:/aws/lambda/logs-kms-guard-prod-enforce`],
    ['kms:GetKeyRotationStatus', KEY],
  ],
  enforce: [
    ...READS,
    ['logs:AssociateKmsKey', GROUP],
    // The KMS calls CloudWatch Logs makes with the caller's credentials when it associates the key.
    ['kms:Encrypt', KEY, VIA_LOGS],
    ['kms:Decrypt', KEY, VIA_LOGS],
    ['kms:GenerateDataKey', KEY, VIA_LOGS],
    ['kms:GenerateDataKeyWithoutPlaintext', KEY, VIA_LOGS],
    // Creating the guard key (core/key.ts createKey), then its alias, policy, rotation and tag.
    [
      'kms:CreateKey',
      '*',
      {
        'kms:KeySpec': 'SYMMETRIC_DEFAULT',
        'kms:KeyUsage': 'ENCRYPT_DECRYPT',
        'kms:KeyOrigin': 'AWS_KMS',
        'kms:BypassPolicyLockoutSafetyCheck': 'false',
      },
    ],
    ['kms:CreateAlias', ALIAS],
    ['kms:CreateAlias', KEY],
    ['kms:PutKeyPolicy', KEY, { 'kms:BypassPolicyLockoutSafetyCheck': 'false' }],
    ['kms:EnableKeyRotation', KEY],
    ['kms:TagResource', KEY, { 'aws:RequestTag/ManagedBy': 'logs-kms-guard', 'aws:TagKeys': ['ManagedBy'] }],
    // ALLOW_KEY_OVERRIDE: the record of the key replaced, expired records removed
    ['logs:TagResource', GROUP, RECORD_TAGS],
    ['logs:UntagResource', GROUP, RECORD_TAGS],
  ],
  rollback: [
    ...READS,
    [
      'logs:TagResource',
      GROUP,
      {
        'aws:RequestTag/logs-kms-guard:skip': 'rollback',
        'aws:TagKeys': ['logs-kms-guard:skip', RECORD_TAGS['aws:TagKeys'][0] as string],
      },
    ],
    ['logs:DisassociateKmsKey', GROUP],
  ],
};

/** Writes no command makes: refused to every session. */
const NEVER: Call[] = [
  ['kms:ScheduleKeyDeletion', KEY],
  ['kms:DisableKey', KEY],
  ['logs:DeleteLogGroup', GROUP],
  ['logs:PutRetentionPolicy', GROUP],
  ['iam:AttachRolePolicy', ROLE],
];

/** Writes of the other commands, refused to this one. */
const REFUSED: Record<AcrossCommand, Call[]> = {
  audit: [
    ['logs:AssociateKmsKey', GROUP],
    ['logs:DisassociateKmsKey', GROUP],
    ['kms:PutKeyPolicy', KEY],
    ['kms:CreateKey', '*'],
    ['logs:TagResource', GROUP, { 'aws:TagKeys': ['logs-kms-guard:skip'] }],
  ],
  doctor: [
    ['logs:AssociateKmsKey', GROUP],
    ['logs:DisassociateKmsKey', GROUP],
    ['kms:PutKeyPolicy', KEY],
    ['kms:EnableKeyRotation', KEY],
  ],
  enforce: [
    ['logs:DisassociateKmsKey', GROUP],
    ['kms:Encrypt', KEY], // directly, not through CloudWatch Logs
    [
      'kms:CreateKey',
      '*',
      { 'kms:KeySpec': 'RSA_2048', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS' },
    ],
    ['kms:PutKeyPolicy', KEY, { 'kms:BypassPolicyLockoutSafetyCheck': 'true' }],
    ['kms:TagResource', KEY, { 'aws:RequestTag/Owner': 'me', 'aws:TagKeys': ['Owner'] }],
    ['kms:CreateAlias', `arn:aws:kms:${R}:${A}:alias/someone-else`],
  ],
  rollback: [
    ['logs:AssociateKmsKey', GROUP],
    ['kms:CreateKey', '*'],
    ['logs:TagResource', GROUP, { 'aws:RequestTag/Owner': 'me', 'aws:TagKeys': ['Owner'] }],
  ],
};

const COMMANDS = Object.keys(SESSION_POLICIES) as AcrossCommand[];

/** The decision for one call by an AdministratorAccess session limited by `command`'s session policy. */
async function decide(command: AcrossCommand, [action, resource, context]: Call) {
  const { decision, message } = await evaluate({
    principal: {
      arn: ROLE,
      policies: [{ name: 'AdministratorAccess', policy: ADMIN }],
      sessionPolicy: JSON.parse(sessionPolicy(command, INPUT)),
    },
    accessKeyId: 'ASIASESSION',
    account: A,
    action,
    resource,
    ...(resource.includes(':key/') ? { resourcePolicy: KEY_POLICY } : {}),
    ...(context ? { context } : {}),
  });
  return { decision, message };
}

describe('session policies ∩ AdministratorAccess, by iam-simulate', () => {
  it.each(COMMANDS)('%s: every call it makes is allowed', async (command) => {
    for (const call of CALLS[command]) {
      expect((await decide(command, call)).decision, `${command}: ${call[0]} on ${call[1]}`).toBe('Allowed');
    }
  });

  it.each(COMMANDS)('%s: deleting, disabling or any write it never makes is refused', async (command) => {
    for (const call of [...NEVER, ...REFUSED[command]]) {
      const { decision, message } = await decide(command, call);
      expect(decision, `${command}: ${call[0]} on ${call[1]}`).not.toBe('Allowed');
      expect(message).toContain('because no session policy allows');
    }
  });

  it('audit and doctor only read: no action of theirs changes anything', () => {
    const writes =
      /^(logs:(Associate|Disassociate|Put|Create|Delete|Tag|Untag)|kms:(Create|Put|Enable|Disable|Schedule|Cancel|Tag|Untag|Update|Delete|Encrypt|Decrypt|GenerateDataKey))/;
    for (const command of ['audit', 'doctor'] as const) {
      const actions = SESSION_POLICIES[command].flatMap((s) => s.Action);
      expect(
        actions.filter((a) => writes.test(a)),
        command,
      ).toEqual([]);
    }
  });

  it.each(COMMANDS)('%s: its policy names exactly the actions of its calls, no more', (command) => {
    const named = new Set(SESSION_POLICIES[command].flatMap((s) => s.Action));
    const used = new Set(CALLS[command].map(([action]) => action));
    expect([...named].sort()).toEqual([...used].sort());
    for (const action of named) expect(action).not.toContain('*');
  });
});

describe('sessionPolicy', () => {
  it(`stays under AssumeRole's ${MAX_SESSION_POLICY_CHARS}-character limit, even with the longest alias and tag key allowed`, () => {
    // Prepare: KMS_KEY_ALIAS up to alias/ + 250 characters, SKIP_TAG_KEY up to 128 (core/config.ts).
    const longest = {
      partition: 'aws-us-gov',
      keyAlias: `alias/${'a'.repeat(250)}`,
      skipTagKey: 'k'.repeat(128),
    };

    // Act / Assess
    for (const command of COMMANDS) {
      expect(sessionPolicy(command, longest).length, command).toBeLessThanOrEqual(MAX_SESSION_POLICY_CHARS);
      expect(sessionPolicy(command, INPUT).length, command).toBeLessThanOrEqual(MAX_SESSION_POLICY_CHARS);
    }
  });

  it('fills the partition, the guard alias and the opt-out tag key, JSON-escaped', () => {
    // Act
    const enforce = JSON.parse(sessionPolicy('enforce', { ...INPUT, partition: 'aws-cn' }));
    const rollback = JSON.parse(sessionPolicy('rollback', { ...INPUT, skipTagKey: 'odd"key' }));

    // Assess
    const alias = enforce.Statement.find((s: { Sid: string }) => s.Sid === 'GuardAlias');
    expect(alias.Resource).toEqual(['arn:aws-cn:kms:*:*:alias/logs-kms-guard', 'arn:aws-cn:kms:*:*:key/*']);
    const tag = rollback.Statement.find((s: { Sid: string }) => s.Sid === 'OptOutTag');
    expect(tag.Condition['ForAllValues:StringLike']['aws:TagKeys']).toEqual([
      'odd"key',
      'logs-kms-guard:prev-key:*',
      'logs-kms-guard:owner-key',
    ]);
    expect(JSON.stringify(enforce)).not.toContain('{{');
  });
});
