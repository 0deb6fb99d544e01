/**
 * The emulator's key policy reading (local/emulator/policy-eval.ts), tables of policies: whether one admits
 * CloudWatch Logs, the lockout safety check, parsing, and IAM glob matching.
 */
import { describe, expect, it } from 'vitest';
import {
  globMatch,
  logsServicePrincipal,
  parsePolicy,
  policyAdmitsLogs,
  policyKeepsRootAccess,
} from '../../../local/emulator/policy-eval.ts';

const region = 'us-east-1';
const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718';
const logGroupArn = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders';
const root = {
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::123456789012:root' },
  Action: 'kms:*',
  Resource: '*',
};
const logsActions = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:Describe*',
];
const logs = (overrides: Record<string, unknown> = {}) => ({
  Sid: 'AllowCloudWatchLogs',
  Effect: 'Allow',
  Principal: { Service: 'logs.us-east-1.amazonaws.com' },
  Action: logsActions,
  Resource: '*',
  Condition: {
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:123456789012:log-group:*' },
  },
  ...overrides,
});
const policy = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('policyAdmitsLogs', () => {
  const table: [string, string, boolean][] = [
    ['the documented Logs statement', policy(root, logs()), true],
    ['root statement only', policy(root), false],
    ['no condition', policy(root, logs({ Condition: undefined })), true],
    ['Principal "*"', policy(root, logs({ Principal: '*' })), true],
    ['Principal AWS "*"', policy(root, logs({ Principal: { AWS: '*' } })), true],
    [
      'service principal in an array',
      policy(root, logs({ Principal: { Service: ['x.amazonaws.com', 'logs.us-east-1.amazonaws.com'] } })),
      true,
    ],
    [
      'service principal of another region',
      policy(root, logs({ Principal: { Service: 'logs.eu-west-1.amazonaws.com' } })),
      false,
    ],
    ['kms:* action', policy(root, logs({ Action: 'kms:*' })), true],
    [
      'exact action names',
      policy(
        root,
        logs({
          Action: [
            'kms:Encrypt',
            'kms:Decrypt',
            'kms:ReEncryptFrom',
            'kms:ReEncryptTo',
            'kms:GenerateDataKey',
            'kms:DescribeKey',
          ],
        }),
      ),
      true,
    ],
    ['actions in lower case', policy(root, logs({ Action: logsActions.map((a) => a.toLowerCase()) })), true],
    ['missing Describe*', policy(root, logs({ Action: logsActions.slice(0, 4) })), false],
    [
      'ReEncryptFrom only',
      policy(
        root,
        logs({
          Action: [
            'kms:Encrypt*',
            'kms:Decrypt*',
            'kms:ReEncryptFrom',
            'kms:GenerateDataKey*',
            'kms:Describe*',
          ],
        }),
      ),
      false,
    ],
    [
      'actions split over two statements',
      policy(
        root,
        logs({ Action: logsActions.slice(0, 2) }),
        logs({ Sid: 'b', Action: logsActions.slice(2) }),
      ),
      true,
    ],
    [
      'NotAction excluding something else',
      policy(root, logs({ Action: undefined, NotAction: 'kms:ScheduleKeyDeletion' })),
      true,
    ],
    ['Resource is the key ARN', policy(root, logs({ Resource: keyArn })), true],
    ['Resource is another key', policy(root, logs({ Resource: keyArn.replace('1f2e', '0000') })), false],
    [
      'ArnLike on the exact group',
      policy(root, logs({ Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } } })),
      true,
    ],
    [
      'ArnEquals on the exact group',
      policy(root, logs({ Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } } })),
      true,
    ],
    [
      'ArnEquals with a wildcard (no wildcards for Equals)',
      policy(
        root,
        logs({
          Condition: {
            ArnEquals: {
              'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:123456789012:log-group:*',
            },
          },
        }),
      ),
      false,
    ],
    [
      'ArnLike on a prefix that matches',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn':
                'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/*',
            },
          },
        }),
      ),
      true,
    ],
    [
      'ArnLike on a prefix that does not match',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/*',
            },
          },
        }),
      ),
      false,
    ],
    [
      'ArnLike with a wrong region',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*',
            },
          },
        }),
      ),
      false,
    ],
    [
      'ArnLike with any region',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:*:123456789012:log-group:*' },
          },
        }),
      ),
      true,
    ],
    [
      'ArnLike with a wrong account',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:999999999999:log-group:*',
            },
          },
        }),
      ),
      false,
    ],
    [
      'ArnLike with ? wildcards',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-?:123456789012:log-group:*',
            },
          },
        }),
      ),
      true,
    ],
    [
      'ArnLike with an array, one matching',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': [
                'arn:aws:logs:eu-west-1:123456789012:log-group:*',
                logGroupArn,
              ],
            },
          },
        }),
      ),
      true,
    ],
    [
      'StringLike',
      policy(
        root,
        logs({ Condition: { StringLike: { 'kms:EncryptionContext:aws:logs:arn': '*:log-group:/aws/*' } } }),
      ),
      true,
    ],
    [
      'StringEquals that does not match',
      policy(
        root,
        logs({ Condition: { StringEquals: { 'kms:EncryptionContext:aws:logs:arn': `${logGroupArn}x` } } }),
      ),
      false,
    ],
    [
      'condition key in another case',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: {
              'KMS:EncryptionContext:AWS:LOGS:ARN': 'arn:aws:logs:us-east-1:123456789012:log-group:*',
            },
          },
        }),
      ),
      true,
    ],
    [
      'unknown condition key',
      policy(root, logs({ Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } })),
      false,
    ],
    [
      'unknown operator',
      policy(root, logs({ Condition: { NumericLessThan: { 'kms:EncryptionContext:aws:logs:arn': '1' } } })),
      false,
    ],
    [
      'two operators, one failing',
      policy(
        root,
        logs({
          Condition: {
            ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:*' },
            StringEquals: { 'kms:EncryptionContext:aws:logs:arn': 'nope' },
          },
        }),
      ),
      false,
    ],
    [
      'Deny for the logs principal',
      policy(root, logs(), {
        Effect: 'Deny',
        Principal: { Service: 'logs.us-east-1.amazonaws.com' },
        Action: 'kms:Decrypt',
        Resource: '*',
      }),
      false,
    ],
    [
      'Deny for everyone',
      policy(root, logs(), { Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }),
      false,
    ],
    [
      'Deny for another principal',
      policy(root, logs(), {
        Effect: 'Deny',
        Principal: { AWS: 'arn:aws:iam::123456789012:role/x' },
        Action: 'kms:*',
        Resource: '*',
      }),
      true,
    ],
    [
      'Deny of another action',
      policy(root, logs(), {
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:ScheduleKeyDeletion',
        Resource: '*',
      }),
      true,
    ],
    [
      'Deny with an unknown condition counts',
      policy(root, logs(), {
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      false,
    ],
    ['single Statement object', JSON.stringify({ Statement: logs() }), true],
    ['not JSON', '{nope', false],
  ];
  it.each(table)('%s -> %s', (_name, doc, expected) => {
    // Prepare: the table row
    // Act
    const verdict = policyAdmitsLogs(doc, { region, keyArn, logGroupArn });
    // Assess
    expect(verdict.admitted, verdict.reason).toBe(expected);
  });

  it('uses the .amazonaws.com.cn principal in China regions', () => {
    // Prepare
    const cn = logs({
      Principal: { Service: 'logs.cn-north-1.amazonaws.com.cn' },
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': 'arn:aws-cn:logs:cn-north-1:123456789012:log-group:*',
        },
      },
    });
    // Act
    const verdict = policyAdmitsLogs(policy(cn), {
      region: 'cn-north-1',
      keyArn: 'arn:aws-cn:kms:cn-north-1:123456789012:key/k',
      logGroupArn: 'arn:aws-cn:logs:cn-north-1:123456789012:log-group:/x',
    });
    // Assess
    expect(logsServicePrincipal('cn-north-1')).toBe('logs.cn-north-1.amazonaws.com.cn');
    expect(verdict.admitted).toBe(true);
  });
});

describe('policyKeepsRootAccess (lockout safety check)', () => {
  const table: [string, unknown[], boolean][] = [
    ['root kms:*', [root], true],
    [
      'account id principal with kms:PutKeyPolicy',
      [{ ...root, Principal: { AWS: '123456789012' }, Action: 'kms:PutKeyPolicy' }],
      true,
    ],
    ['Principal "*"', [{ ...root, Principal: '*' }], true],
    ['root with only kms:Describe*', [{ ...root, Action: 'kms:Describe*' }], false],
    ['another account root', [{ ...root, Principal: { AWS: 'arn:aws:iam::999999999999:root' } }], false],
    ['logs statement only', [logs()], false],
    ['root statement as Deny', [{ ...root, Effect: 'Deny' }], false],
  ];
  it.each(table)('%s -> %s', (_name, statements, expected) => {
    // Prepare
    const parsed = parsePolicy(policy(...statements));
    if ('error' in parsed) throw new Error(parsed.error);
    // Act
    const kept = policyKeepsRootAccess(parsed.policy, '123456789012', 'aws');
    // Assess
    expect(kept).toBe(expected);
  });
});

describe('parsePolicy', () => {
  it.each([
    ['not JSON', '{'],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['empty Statement', '{"Statement":[]}'],
    ['bad Effect', '{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*","Resource":"*"}]}'],
    ['a string', '"policy"'],
  ])('rejects %s', (_name, text) => {
    // Prepare / Act
    const parsed = parsePolicy(text);
    // Assess
    expect('error' in parsed).toBe(true);
  });
});

describe('globMatch', () => {
  it('follows IAM glob semantics', () => {
    // Prepare / Act / Assess
    expect(globMatch('kms:Decrypt*', 'kms:Decrypt', true)).toBe(true);
    expect(globMatch('kms:ReEncrypt*', 'kms:ReEncryptTo', true)).toBe(true);
    expect(globMatch('kms:Describe?ey', 'kms:DescribeKey', true)).toBe(true);
    expect(globMatch('kms:Encrypt', 'kms:EncryptX', true)).toBe(false);
    expect(globMatch('a.b', 'axb', false)).toBe(false);
    expect(globMatch('KMS:*', 'kms:Encrypt', false)).toBe(false);
  });
});
