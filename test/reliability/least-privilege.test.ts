/**
 * Reliability suite: the packaged template (test/deploy/template.ts) reviewed with
 * test/deploy/iam-allowlist.ts, as it is and under mutations that each slip in an unreviewed permission.
 *
 * Promise: the packaged template grants only the reviewed permissions (test/deploy/template.test.ts holds
 * the IAM assertions of the deployment issue), and a permission nobody reviewed cannot slip in: each way of
 * adding one to the packaged template is caught by the same check test/deploy uses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { allowListProblems, cfn } from '../deploy/iam-allowlist.ts';
import { iamStatements, type Packaged, packageTemplate, type Template } from '../deploy/template.ts';
import { figures } from './rig.ts';

let packaged: Packaged;
beforeAll(() => {
  packaged = packageTemplate({ withSweep: true });
}, 120_000);

const clone = (t: Template): Template => structuredClone(t);
const enforcePolicy = (t: Template) => t.Resources.EnforceRole?.Properties.Policies[0].PolicyDocument;
const firstAllow = (t: Template) =>
  enforcePolicy(t).Statement.find((s: any) => s.Effect === 'Allow' && !('Fn::If' in s));

/** Everything that keeps the template from passing review: allow-list misses, or a shape iamStatements refuses. */
function review(t: Template): string[] {
  try {
    return allowListProblems(iamStatements(t));
  } catch (err) {
    return [(err as Error).message];
  }
}

const MUTATIONS: [string, (t: Template) => void][] = [
  [
    'a new action added to an existing statement',
    (t) => {
      const s = firstAllow(t);
      s.Action = [...[].concat(s.Action), 'kms:Decrypt'];
    },
  ],
  [
    'a new statement with a new action',
    (t) => {
      enforcePolicy(t).Statement.push({ Effect: 'Allow', Action: 'logs:PutRetentionPolicy', Resource: '*' });
    },
  ],
  [
    'a reviewed action on a wider resource',
    (t) => {
      enforcePolicy(t).Statement.push({ Effect: 'Allow', Action: 'logs:AssociateKmsKey', Resource: '*' });
    },
  ],
  [
    'a reviewed action without its condition',
    (t) => {
      const s = enforcePolicy(t).Statement.find(
        (x: any) => [].concat(x.Action).includes('kms:CreateKey' as never) && x.Effect === 'Allow',
      );
      delete s.Condition;
    },
  ],
  [
    'a wildcard action',
    (t) => {
      enforcePolicy(t).Statement.push({
        Effect: 'Allow',
        Action: 'kms:*',
        Resource: {
          'Fn::Sub': `arn:${cfn('AWS::Partition')}:kms:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:key/*`,
        },
      });
    },
  ],
  [
    'a new action behind a CloudFormation condition',
    (t) => {
      enforcePolicy(t).Statement.push({
        'Fn::If': [
          'HasKeyArn',
          { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: { Ref: 'KmsKeyArn' } },
          { Ref: 'AWS::NoValue' },
        ],
      });
    },
  ],
  [
    // The shared role writes the enforce and changes log groups: not a third function's
    "the role's own-logs statement widened to another function's log group",
    (t) => {
      const s = enforcePolicy(t).Statement.find((x: any) => x.Sid === 'OwnLogs');
      s.Resource = [
        ...s.Resource,
        {
          'Fn::Sub': `arn:${cfn('AWS::Partition')}:logs:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:log-group:/aws/lambda/logs-kms-guard-prod-sweep:*`,
        },
      ];
    },
  ],
  [
    // It consumes its two queues, not the DLQ (what a person inspects and redrives)
    "the role's queue statement widened to the DLQ",
    (t) => {
      const s = enforcePolicy(t).Statement.find((x: any) => x.Sid === 'ConsumeQueue');
      s.Resource = [...s.Resource, { 'Fn::GetAtt': ['EnforceDlq', 'Arn'] }];
    },
  ],
  [
    'a new role',
    (t) => {
      t.Resources.ExtraRole = {
        Type: 'AWS::IAM::Role',
        Properties: {
          Policies: [
            {
              PolicyName: 'x',
              PolicyDocument: {
                Statement: [{ Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*' }],
              },
            },
          ],
        },
      };
    },
  ],
  [
    'a standalone IAM policy',
    (t) => {
      t.Resources.ExtraPolicy = {
        Type: 'AWS::IAM::Policy',
        Properties: { Roles: [{ Ref: 'EnforceRole' }], PolicyDocument: { Statement: [] } },
      };
    },
  ],
  [
    'a managed policy attached to a role',
    (t) => {
      (t.Resources.SweepRole as any).Properties.ManagedPolicyArns = [
        'arn:aws:iam::aws:policy/ReadOnlyAccess',
      ];
    },
  ],
];

describe('least privilege on the packaged template', () => {
  it('the packaged template passes review as it is', () => {
    // Assess
    expect(review(packaged.template)).toEqual([]);
    expect(iamStatements(packaged.template).length).toBeGreaterThan(10);
  });

  it.each(MUTATIONS)('fails review when %s', (_label, mutate) => {
    // Prepare
    const t = clone(packaged.template);

    // Act
    mutate(t);

    // Assess
    expect(review(t).length).toBeGreaterThan(0);
  });

  it('prints its figures', () => {
    const statements = iamStatements(packaged.template);
    const actions = new Set(
      statements.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions.map((a) => `${s.role} ${a}`)),
    );
    const caught = MUTATIONS.filter(([, mutate]) => {
      const t = clone(packaged.template);
      mutate(t);
      return review(t).length > 0;
    }).length;
    figures(
      `least privilege: ${statements.length} IAM statements, ${actions.size} role/action grants, all on the reviewed allow-list; ` +
        `${caught} of ${MUTATIONS.length} unreviewed additions caught`,
    );
    expect(caught).toBe(MUTATIONS.length);
  });
});
