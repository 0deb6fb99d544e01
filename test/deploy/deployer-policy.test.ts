// The deployer's policy (infra/deployer-policy.mjs, the one place docs/DEPLOY.md points to) covers everything a
// deployment calls: every AWS SDK command osls's deploy/remove/info code can send (found by scanning its source,
// not listed by hand), and every resource type of the packaged templates (CloudFormation calls their handlers'
// actions with the deployer's credentials). `*` resources appear only in the statements that justify them.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deployerPolicy,
  OSLS_CALLS,
  OSLS_CALLS_NOT_MADE,
  RESOURCE_TYPE_ACTIONS,
  type Statement,
  WILDCARDS,
} from '../../infra/deployer-policy.mjs';
import { evaluate } from '../../local/emulator/iam.ts';
import { type Packaged, packageTemplate, root } from './template.ts';

const osls = path.join(root, 'node_modules', 'osls', 'lib', 'plugins', 'aws');
/** The osls code `osls deploy`, `osls remove` and `osls info` run. */
const SCANNED = ['deploy', 'remove', 'info', 'lib', 'provider.js', 'deletion-protection.js'];

/** Every `.js` file under `entry` (a file or a folder). */
function jsFiles(entry: string): string[] {
  if (!statSync(entry).isDirectory()) return [entry];
  return readdirSync(entry).flatMap((f) => jsFiles(path.join(entry, f)));
}

/** `service:Operation` for every SDK v3 command (or paginator) a file imports from @aws-sdk/client-* and uses. */
function sdkCalls(source: string): string[] {
  const calls: string[] = [];
  const imports = /const\s*\{([^}]*)\}\s*=\s*require\(\s*'@aws-sdk\/client-([a-z0-9-]+)'\s*\)/g;
  for (const m of source.matchAll(imports)) {
    const rest = source.slice((m.index ?? 0) + m[0].length);
    for (const name of (m[1] ?? '').split(',').map((n) => n.trim().split(/\s*:\s*/)[0] ?? '')) {
      const op = name.endsWith('Command')
        ? name.slice(0, -7)
        : name.startsWith('paginate')
          ? name.slice(8)
          : '';
      if (op && new RegExp(`\\b${name}\\b`).test(rest)) calls.push(`${m[2]}:${op}`);
    }
  }
  // @aws-sdk/lib-storage's Upload sends PutObject (one part: these zips are far below 5 MiB).
  if (/require\('@aws-sdk\/lib-storage'\)/.test(source)) calls.push('s3:PutObject');
  return calls;
}

/** Whether `pattern` (an IAM string with `*`) matches `value`. */
const matches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

/** The statements allowing `action` (exact action names: the policy has no action wildcards). */
const allowing = (statements: Statement[], action: string) =>
  statements.filter((s) => s.Action.includes(action));
const resources = (s: Statement) => ([] as string[]).concat(s.Resource);

const ACCOUNT = '111122223333';
const policy = deployerPolicy({ account: ACCOUNT, region: 'eu-west-1', stage: 'prod' });

describe('the deployer policy covers what osls calls', () => {
  const found = new Map<string, string[]>();
  for (const entry of SCANNED)
    for (const file of jsFiles(path.join(osls, entry)))
      for (const call of sdkCalls(readFileSync(file, 'utf8')))
        found.set(call, [...(found.get(call) ?? []), path.relative(osls, file)]);

  it('finds the calls the issue names (the scan works)', () => {
    for (const call of [
      'cloudformation:CreateChangeSet',
      'cloudformation:ExecuteChangeSet',
      'cloudformation:DescribeChangeSet',
      'cloudformation:DeleteChangeSet',
      'cloudformation:ValidateTemplate',
      'cloudformation:GetTemplate',
      's3:PutObject',
    ])
      expect([...found.keys()]).toContain(call);
  });

  it('has every call osls can make, or says why this service never makes it', () => {
    const unaccounted = [...found.keys()].filter((c) => !(c in OSLS_CALLS) && !(c in OSLS_CALLS_NOT_MADE));
    expect(
      unaccounted,
      JSON.stringify(Object.fromEntries(unaccounted.map((c) => [c, found.get(c)]))),
    ).toEqual([]);
    for (const [call, actions] of Object.entries(OSLS_CALLS))
      for (const action of actions)
        expect(allowing(policy.Statement, action), `${call} → ${action}`).not.toEqual([]);
  });

  it('lets ValidateTemplate and ListExports run on `*`, and CloudFormation read its template from the bucket', () => {
    const [cfn] = allowing(policy.Statement, 'cloudformation:ValidateTemplate');
    expect(cfn?.Resource).toBe('*');
    const get = allowing(policy.Statement, 's3:GetObject').flatMap(resources);
    expect(
      get.some((r) =>
        matches(
          r,
          'arn:aws:s3:::logs-kms-guard-prod-serverlessdeploymentbucket-abc123/serverless/x/compiled-cloudformation-template.json',
        ),
      ),
    ).toBe(true);
  });
});

describe('the deployer policy covers what CloudFormation calls for the packaged templates', () => {
  let packaged: Packaged;
  let types: string[];
  beforeAll(() => {
    packaged = packageTemplate({ withSweep: true });
    const create = JSON.parse(
      readFileSync(
        path.join(path.dirname(packaged.templatePath), 'cloudformation-template-create-stack.json'),
        'utf8',
      ),
    );
    types = [
      ...new Set(
        [
          ...Object.values(packaged.template.Resources),
          ...Object.values(create.Resources as Record<string, { Type: string }>),
        ].map((r) => r.Type),
      ),
    ].sort();
  }, 120_000);

  it('knows every resource type of the templates', () => {
    expect(types.filter((t) => !(t in RESOURCE_TYPE_ACTIONS))).toEqual([]);
    expect(types).toContain('AWS::Logs::LogGroup');
  });

  it('allows every action of every type, on the resources of this stack', () => {
    for (const type of types)
      for (const action of RESOURCE_TYPE_ACTIONS[type] ?? [])
        expect(allowing(policy.Statement, action), `${type} → ${action}`).not.toEqual([]);
    // The names CloudFormation and osls give this stack's resources fall under the statements' patterns.
    const named: [string, string][] = [
      ['lambda:CreateFunction', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:logs-kms-guard-prod-enforce`],
      ['lambda:InvokeFunction', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:logs-kms-guard-prod-enforce`],
      ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-EnforceRole-1A2B3C4D5E6F`],
      // EnforceRole's RoleName: <service>-<stage>-enforce-<region>.
      ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-enforce-eu-west-1`],
      ['sqs:CreateQueue', `arn:aws:sqs:eu-west-1:${ACCOUNT}:logs-kms-guard-prod-EnforceQueue-1A2B3C4D5E6F`],
      ['sns:CreateTopic', `arn:aws:sns:eu-west-1:${ACCOUNT}:logs-kms-guard-prod-AlarmTopic-1A2B3C4D5E6F`],
      [
        'events:PutRule',
        `arn:aws:events:eu-west-1:${ACCOUNT}:rule/logs-kms-guard-prod-CreateLogGroupRule-1A2B3C`,
      ],
      [
        'cloudwatch:PutMetricAlarm',
        `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:logs-kms-guard-prod-EnforceDlqAlarm-1A2B3C`,
      ],
      [
        'logs:CreateLogGroup',
        `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/logs-kms-guard-prod-sweep:*`,
      ],
      [
        'cloudformation:CreateChangeSet',
        `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/logs-kms-guard-prod/0a1b2c3d`,
      ],
      ['s3:CreateBucket', 'arn:aws:s3:::logs-kms-guard-prod-serverlessdeploymentbucket-1a2b3c4d5e6f'],
    ];
    for (const [action, arn] of named)
      expect(
        allowing(policy.Statement, action)
          .flatMap(resources)
          .some((r) => matches(r, arn)),
        `${action} on ${arn}`,
      ).toBe(true);
  });

  it('lets AWS::Logs::LogGroup call logs:DescribeLogGroups on `*`', () => {
    expect(allowing(policy.Statement, 'logs:DescribeLogGroups').map((s) => s.Resource)).toEqual(['*']);
  });
});

describe('the deployer policy is least privilege', () => {
  it('has no action wildcard and no `*` resource outside the justified statements', () => {
    for (const s of policy.Statement) {
      expect(
        s.Action.filter((a) => a.includes('*')),
        s.Sid,
      ).toEqual([]);
      const wild = resources(s).some((r) => r === '*' || /:[a-z-]+[:/]\*$/.test(r));
      if (wild)
        expect(Object.keys(WILDCARDS), `${s.Sid} has a * resource without a reason in WILDCARDS`).toContain(
          s.Sid,
        );
    }
    for (const sid of Object.keys(WILDCARDS)) expect(policy.Statement.map((s) => s.Sid)).toContain(sid);
  });

  it('names only this account, region and stage', () => {
    for (const r of policy.Statement.flatMap(resources).filter((r) => r !== '*')) {
      expect(r).toMatch(
        // Dashboards are global (no region in their ARN): this account and stage's names only.
        /^arn:aws:(s3:::logs-kms-guard-prod-|iam::111122223333:role\/logs-kms-guard-|cloudwatch::111122223333:dashboard\/logs-kms-guard-prod-|[a-z]+:eu-west-1:111122223333:)/,
      );
    }
  });

  it('prints the same document from the command line docs/DEPLOY.md gives', () => {
    const script = path.join(root, 'infra', 'deployer-policy.mjs');
    const r = spawnSync(process.execPath, [script, '--account', ACCOUNT, '--region', 'eu-west-1'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(policy);
    const bad = spawnSync(process.execPath, [script, '--account', 'x', '--region', 'eu-west-1'], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--account must be a 12-digit account id');
    expect(readFileSync(path.join(root, 'docs', 'DEPLOY.md'), 'utf8')).toContain(
      'node infra/deployer-policy.mjs --account',
    );
  });
});

describe('the deployer policy, as an IAM evaluator decides', () => {
  const fn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:logs-kms-guard-prod-enforce`;
  /** One request by a role holding only the deployer policy. */
  const decide = (action: string, resource: string, context: Record<string, string> = {}) =>
    evaluate({
      principal: { arn: `arn:aws:iam::${ACCOUNT}:role/Deployer`, policies: [{ name: 'deploy', policy }] },
      accessKeyId: 'ASIATEST',
      account: ACCOUNT,
      action,
      resource,
      context,
    }).then((r) => r.decision);

  it('allows what a deployment of this stack asks', async () => {
    const allowed: [string, string, Record<string, string>?][] = [
      [
        'cloudformation:CreateChangeSet',
        `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/logs-kms-guard-prod/*`,
      ],
      [
        'cloudformation:ExecuteChangeSet',
        `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/logs-kms-guard-prod/1a2b`,
      ],
      ['cloudformation:ValidateTemplate', '*'],
      ['logs:DescribeLogGroups', '*'],
      [
        'iam:PassRole',
        `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-EnforceRole-1A2B`,
        { 'iam:PassedToService': 'lambda.amazonaws.com' },
      ],
      ['lambda:CreateEventSourceMapping', '*', { 'lambda:FunctionArn': fn }],
      ['lambda:InvokeFunction', fn],
    ];
    for (const [action, resource, context] of allowed)
      expect(await decide(action, resource, context), `${action} on ${resource}`).toBe('Allowed');
  });

  it('refuses the same actions outside this stack', async () => {
    const refused: [string, string, Record<string, string>?][] = [
      ['cloudformation:DeleteStack', `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/other-stack/1a2b`],
      ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/Admin`],
      [
        'iam:PassRole',
        `arn:aws:iam::${ACCOUNT}:role/logs-kms-guard-prod-EnforceRole-1A2B`,
        { 'iam:PassedToService': 'ec2.amazonaws.com' },
      ],
      [
        'lambda:CreateEventSourceMapping',
        '*',
        { 'lambda:FunctionArn': `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:other` },
      ],
      ['lambda:InvokeFunction', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:other`],
      ['logs:DeleteLogGroup', `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/other`],
      ['s3:PutObject', 'arn:aws:s3:::someone-elses-bucket/x'],
      ['kms:CreateKey', '*'],
    ];
    for (const [action, resource, context] of refused)
      expect(await decide(action, resource, context), `${action} on ${resource}`).toBe('ImplicitlyDenied');
  });
});
