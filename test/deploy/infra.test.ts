/**
 * The organization deployment tools, from the packaged template: the StackSet template infra/stackset.mjs
 * makes (code pinned per region), infra/artifact-bucket.yml (its bucket policy evaluated by iam-simulate),
 * infra/publish.mjs (--dry-run as a process, `run` with a fake AWS CLI) and scripts/deploy.mjs (as processes, and
 * its `run` with a fake spawn). Nothing is deployed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SESSION_POLICIES, sessionPolicy } from '../../functions/cli/session-policy.ts';
import { evaluate } from '../../local/emulator/iam.ts';
import { loadCfnYaml, resolveIntrinsics } from './cfn-yaml.ts';
import { type Packaged, packageTemplate, root } from './template.ts';

const node = process.execPath;
const publish = path.join(root, 'infra', 'publish.mjs');
const stackset = path.join(root, 'infra', 'stackset.mjs');
const deploy = path.join(root, 'scripts', 'deploy.mjs');
const PUBLISHER = '111122223333';
const SOURCES = {
  'us-east-1': {
    bucket: `acme-lkg-${PUBLISHER}-us-east-1`,
    versions: { enforce: 'e1.vErSiOn', changes: 'c1.vErSiOn', sweep: 's1.vErSiOn', findings: 'f1.vErSiOn' },
  },
  'eu-west-1': {
    bucket: `acme-lkg-${PUBLISHER}-eu-west-1`,
    versions: { enforce: 'e2.vErSiOn', changes: 'c2.vErSiOn', sweep: 's2.vErSiOn', findings: 'f2.vErSiOn' },
  },
};

let packaged: Packaged;
let template: any;

beforeAll(() => {
  packaged = packageTemplate({ withSweep: true });
  const out = path.join(packaged.dir, 'stackset.json');
  const sources = path.join(packaged.dir, 'sources.json');
  writeFileSync(sources, JSON.stringify(SOURCES));
  execFileSync(
    node,
    [
      stackset,
      '--template',
      packaged.templatePath,
      '--artifacts',
      packaged.artifactDir,
      '--sources',
      sources,
      '--out',
      out,
    ],
    {
      cwd: root,
      stdio: 'pipe',
    },
  );
  template = JSON.parse(readFileSync(out, 'utf8'));
}, 120_000);

function publishDryRun(extra: string[] = []) {
  return spawnSync(
    node,
    [
      publish,
      '--org-id',
      'o-abc123def4',
      '--ous',
      'ou-ab12-cdef3456,ou-ab12-ghij7890',
      '--regions',
      'us-east-1,eu-west-1',
      '--bucket-prefix',
      'acme-lkg',
      '--account',
      PUBLISHER,
      '--template',
      packaged.templatePath,
      '--artifacts',
      packaged.artifactDir,
      '--dry-run',
      ...extra,
    ],
    { cwd: root, encoding: 'utf8' },
  );
}

describe('StackSet template', () => {
  it('deploys the same pipeline as the serverless template', () => {
    // Prepare
    const serverless = packaged.template;
    const expected = Object.keys(serverless.Resources).filter(
      (id) =>
        !id.startsWith('ServerlessDeploymentBucket') &&
        serverless.Resources[id]?.Type !== 'AWS::Lambda::Version',
    );

    // Assess: the same resources, plus the optional CLI roles (off unless CliTrustedPrincipalArn is set).
    expect(Object.keys(template.Resources).sort()).toEqual(
      [...expected, 'CliAuditRole', 'CliEnforceRole'].sort(),
    );
    expect(template.Resources.CreateLogGroupRule).toEqual(serverless.Resources.CreateLogGroupRule);
    expect(template.Resources.EnforceRole).toEqual(serverless.Resources.EnforceRole);
    const { CreateCliRoles: _cli, ...conditions } = template.Conditions;
    expect(conditions).toEqual(serverless.Conditions);
  });

  it("reads each function from its own region's publisher bucket, content-addressed and pinned to the uploaded object version", () => {
    // Prepare
    const fns = [
      'EnforceLambdaFunction',
      'ChangesLambdaFunction',
      'SweepLambdaFunction',
      'FindingsLambdaFunction',
    ].map((id) => template.Resources[id].Properties.Code);
    const inMap = (key: string) => ({ 'Fn::FindInMap': ['ArtifactSource', { Ref: 'AWS::Region' }, key] });

    // Assess: the bucket and each version come from the region's entry of the mapping publish.mjs wrote.
    for (const [i, code] of fns.entries()) {
      const fn = (['Enforce', 'Changes', 'Sweep', 'Findings'] as const)[i] ?? '';
      expect(code.S3Bucket).toEqual(inMap('Bucket'));
      expect(code.S3ObjectVersion).toEqual(inMap(`${fn}Version`));
      expect(code.S3Key).toMatch(new RegExp(`^logs-kms-guard/${fn.toLowerCase()}-[0-9a-f]{64}\\.zip$`));
    }
    expect(template.Mappings.ArtifactSource).toEqual({
      'us-east-1': {
        Bucket: `acme-lkg-${PUBLISHER}-us-east-1`,
        EnforceVersion: 'e1.vErSiOn',
        ChangesVersion: 'c1.vErSiOn',
        SweepVersion: 's1.vErSiOn',
        FindingsVersion: 'f1.vErSiOn',
      },
      'eu-west-1': {
        Bucket: `acme-lkg-${PUBLISHER}-eu-west-1`,
        EnforceVersion: 'e2.vErSiOn',
        ChangesVersion: 'c2.vErSiOn',
        SweepVersion: 's2.vErSiOn',
        FindingsVersion: 'f2.vErSiOn',
      },
    });
    // No bucket-name parameter: a region without an entry (not published) fails, it never reads a guessed name.
    expect(template.Parameters.ArtifactBucketPrefix).toBeUndefined();
  });

  it('refuses sources without an object version for every function in every region', async () => {
    // Prepare
    const { toStackSetTemplate, readArtifacts } = await import('../../infra/stackset.mjs' as string);
    const artifacts = readArtifacts(packaged.artifactDir);
    const noSweep = { 'us-east-1': { bucket: 'b', versions: { enforce: 'v', changes: 'v' } } };
    const noChanges = { 'us-east-1': { bucket: 'b', versions: { enforce: 'v', sweep: 'v', findings: 'v' } } };

    // Act / Assess
    expect(() => toStackSetTemplate(packaged.template, artifacts, noSweep)).toThrow(
      'no S3 object version of the sweep code in us-east-1',
    );
    expect(() => toStackSetTemplate(packaged.template, artifacts, noChanges)).toThrow(
      'no S3 object version of the changes code in us-east-1',
    );
    expect(() => toStackSetTemplate(packaged.template, artifacts, {})).toThrow('no published region');
  });

  it('has no osls deployment bucket, no retained versions, no dangling references and no key', () => {
    // Prepare
    const text = JSON.stringify(template);
    const types = Object.values(template.Resources).map((r: any) => r.Type);

    // Assess
    expect(text).not.toContain('ServerlessDeploymentBucket');
    expect(types).not.toContain('AWS::Lambda::Version');
    expect(types).not.toContain('AWS::KMS::Key');
    expect(types).not.toContain('AWS::S3::Bucket');
    for (const out of Object.values(template.Outputs ?? {})) expect((out as any).Export).toBeUndefined();
    const refs = [...text.matchAll(/"(?:Ref|Condition)":"([^"]+)"|"Fn::GetAtt":\["([^"]+)"/g)].map(
      (m) => m[1] ?? m[2],
    );
    const known = new Set([
      ...Object.keys(template.Mappings),
      ...Object.keys(template.Resources),
      ...Object.keys(template.Parameters),
      ...Object.keys(template.Conditions),
    ]);
    for (const ref of refs) if (!ref?.startsWith('AWS::')) expect(known.has(ref as string), ref).toBe(true);
  });
});

describe('StackSet template: the optional CLI roles', () => {
  it('creates a read-only audit role and an enforce role with predictable names, in one region, trusting one principal', () => {
    // Prepare
    const audit = template.Resources.CliAuditRole;
    const enforce = template.Resources.CliEnforceRole;

    // Assess
    expect(audit.Properties.RoleName).toBe('logs-kms-guard-cli-audit');
    expect(enforce.Properties.RoleName).toBe('logs-kms-guard-cli-enforce');
    for (const role of [audit, enforce]) {
      expect(role.Condition).toBe('CreateCliRoles');
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Sid: 'TrustedCaller',
          Effect: 'Allow',
          Principal: { AWS: { Ref: 'CliTrustedPrincipalArn' } },
          Action: 'sts:AssumeRole',
        },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    expect(template.Parameters.CliTrustedPrincipalArn.Default).toBe('');
    expect(template.Conditions.CreateCliRoles).toEqual({
      'Fn::And': [
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'CliTrustedPrincipalArn' }, ''] }] },
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'CliRolesRegion' }] },
      ],
    });
  });

  it("grants exactly the statements of the CLI's session policies: audit and doctor, or enforce and rollback", () => {
    // Prepare: both sides with the same values (partition, guard alias, opt-out tag key).
    const values = { partition: 'aws', keyAlias: 'alias/logs-kms-guard', skipTagKey: 'logs-kms-guard:skip' };
    const refs = { 'AWS::Partition': 'aws', KmsKeyAlias: values.keyAlias, SkipTagKey: values.skipTagKey };
    const granted = (id: string) =>
      resolveIntrinsics(template.Resources[id].Properties.Policies[0].PolicyDocument.Statement, {
        refs,
        attributes: {},
      });
    const union = (...commands: (keyof typeof SESSION_POLICIES)[]) => {
      const bySid = new Map<string, unknown>();
      for (const c of commands)
        for (const st of JSON.parse(sessionPolicy(c, values)).Statement) bySid.set(st.Sid, st);
      return [...bySid.values()];
    };

    // Assess
    expect(granted('CliAuditRole')).toEqual(union('audit', 'doctor'));
    expect(granted('CliEnforceRole')).toEqual(union('enforce', 'rollback'));
  });
});

describe('artifact bucket template', () => {
  it('is readable by the organization only, encrypted, versioned, not public, and retained', () => {
    // Prepare
    const text = readFileSync(path.join(root, 'infra', 'artifact-bucket.yml'), 'utf8');

    // Assess
    expect(text).toMatch(
      /BucketName: !Sub ["']\$\{BucketPrefix\}-\$\{AWS::AccountId\}-\$\{AWS::Region\}["']/,
    );
    expect(text).toMatch(/["']aws:PrincipalOrgID["']: !Ref OrganizationId/);
    expect(text).toMatch(/Action: \[s3:GetObject, s3:GetObjectVersion\]/);
    expect(text).toMatch(/SSEAlgorithm: AES256/);
    expect(text).toMatch(/VersioningConfiguration: \{ Status: Enabled \}/);
    expect(text).toMatch(/RestrictPublicBuckets: true/);
    expect(text).toMatch(/DeletionPolicy: Retain/);
    expect(text).not.toMatch(/s3:PutObject/);
  });
});

describe('artifact bucket policy, as iam-simulate evaluates it', () => {
  const ORG = 'o-abc123def4';
  const bucket = `acme-lkg-${PUBLISHER}-us-east-1`;
  const object = `arn:aws:s3:::${bucket}/logs-kms-guard/enforce-0.zip`;
  const s3All = [
    {
      name: 's3',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
    },
  ];
  let policy: unknown;

  beforeAll(async () => {
    const t = await loadCfnYaml(path.join(root, 'infra', 'artifact-bucket.yml'));
    policy = resolveIntrinsics(t.Resources.ArtifactBucketPolicy.Properties.PolicyDocument, {
      refs: {
        OrganizationId: ORG,
        // What publish.mjs passes for a caller of the role Publisher (any path).
        PublisherPrincipalArns: [
          `arn:aws:iam::${PUBLISHER}:role/Publisher`,
          `arn:aws:iam::${PUBLISHER}:role/*/Publisher`,
        ],
      },
      attributes: { 'ArtifactBucket.Arn': `arn:aws:s3:::${bucket}` },
    });
  });

  /** One request by a role with s3:* in its identity policy, against the deployed bucket policy. */
  const decide = (roleArn: string, action: string, resource: string, org = ORG) =>
    evaluate({
      principal: { arn: roleArn, policies: s3All },
      accessKeyId: 'ASIATEST',
      account: PUBLISHER,
      action,
      resource,
      resourcePolicy: policy,
      context: { 'aws:PrincipalOrgID': org, 'aws:SecureTransport': 'true' },
    }).then((r) => r.decision);

  it('lets the publisher (any role path) write, and denies writes to every other principal, of its account or another', async () => {
    // Prepare
    const publisher = `arn:aws:iam::${PUBLISHER}:role/Publisher`;
    const ssoPublisher = `arn:aws:iam::${PUBLISHER}:role/aws-reserved/sso.amazonaws.com/Publisher`;
    const neighbour = `arn:aws:iam::${PUBLISHER}:role/Admin`;
    const member = 'arn:aws:iam::444455556666:role/OrganizationAccountAccessRole';
    const writes: [string, string][] = [
      ['s3:PutObject', object],
      ['s3:DeleteObject', object],
      ['s3:DeleteObjectVersion', object],
      ['s3:PutBucketPolicy', `arn:aws:s3:::${bucket}`],
      ['s3:DeleteBucketPolicy', `arn:aws:s3:::${bucket}`],
      ['s3:PutBucketVersioning', `arn:aws:s3:::${bucket}`],
      ['s3:PutLifecycleConfiguration', `arn:aws:s3:::${bucket}`],
    ];

    // Act / Assess
    for (const [action, resource] of writes) {
      expect(await decide(publisher, action, resource), `${action} by the publisher`).toBe('Allowed');
      expect(await decide(ssoPublisher, action, resource), `${action} by the publisher (SSO path)`).toBe(
        'Allowed',
      );
      expect(await decide(neighbour, action, resource), `${action} by another role of the account`).toBe(
        'ExplicitlyDenied',
      );
      expect(await decide(member, action, resource), `${action} by a member account`).not.toBe('Allowed');
    }
  });

  it('keeps the code readable by the organization only', async () => {
    // Prepare
    const member = 'arn:aws:iam::444455556666:role/stackset-execution';
    const outsider = 'arn:aws:iam::999988887777:role/Attacker';

    // Act / Assess
    expect(await decide(member, 's3:GetObject', object)).toBe('Allowed');
    expect(await decide(member, 's3:GetObjectVersion', object)).toBe('Allowed');
    expect(await decide(outsider, 's3:GetObject', object, 'o-otherorg123')).not.toBe('Allowed');
  });
});

/** What `aws --version` prints for the fake AWS CLI: a release with every flag publish uses. */
const AWS_CLI_VERSION = 'aws-cli/2.22.0 Python/3.12.6 Linux/6.1.0 exe/x86_64.ubuntu.24';

describe('publish.mjs', () => {
  it('uploads into the buckets of its own account and pins the template to the VersionId each region returned', async () => {
    // Prepare: a fake AWS CLI; every put-object answers a VersionId naming its bucket and key.
    const { parseArgs, run } = await import('../../infra/publish.mjs' as string);
    const calls: string[][] = [];
    const spawn = (_cmd: string, argv: string[]) => {
      calls.push(argv);
      const [service, op] = argv;
      if (service === '--version') return { status: 0, stdout: AWS_CLI_VERSION };
      if (service === 'sts')
        return {
          status: 0,
          stdout: JSON.stringify({
            Account: PUBLISHER,
            Arn: `arn:aws:sts::${PUBLISHER}:assumed-role/Publisher/me`,
          }),
        };
      if (op === 'describe-stack-set')
        return { status: 254, stderr: 'An error occurred (StackSetNotFoundException)' };
      if (op === 'put-object') {
        const at = (flag: string) => argv[argv.indexOf(flag) + 1];
        return {
          status: 0,
          stdout: JSON.stringify({ VersionId: `v-${at('--bucket')}-${at('--key')?.slice(15, 20)}` }),
        };
      }
      return { status: 0, stdout: '' };
    };
    const args = parseArgs([
      '--org-id',
      'o-abc123def4',
      '--ous',
      'ou-ab12-cdef3456',
      '--regions',
      'us-east-1,eu-west-1',
      '--bucket-prefix',
      'acme-lkg',
      '--template',
      packaged.templatePath,
      '--artifacts',
      packaged.artifactDir,
    ]);

    // Act
    const code = run(args, { spawn, out: () => {}, err: (m: string) => console.error(m) });

    // Assess
    expect(code).toBe(0);
    const puts = calls.filter((a) => a[1] === 'put-object');
    expect(puts).toHaveLength(9); // four zips per region (enforce, changes, sweep, findings), then the template
    for (const argv of puts) {
      expect(argv.join(' ')).toContain(`--expected-bucket-owner ${PUBLISHER}`);
      expect(argv.join(' ')).toMatch(/--checksum-sha256 [A-Za-z0-9+/]{43}=/);
      expect(argv[argv.indexOf('--bucket') + 1]).toMatch(
        new RegExp(`^acme-lkg-${PUBLISHER}-(us-east-1|eu-west-1)$`),
      );
    }
    const bucketStack = calls.find((a) => a[1] === 'deploy') as string[];
    expect(bucketStack).toContain(
      `PublisherPrincipalArns=arn:aws:iam::${PUBLISHER}:role/Publisher,arn:aws:iam::${PUBLISHER}:role/*/Publisher`,
    );
    const templateKey = (puts.at(-1) as string[])[(puts.at(-1) as string[]).indexOf('--key') + 1] as string;
    const file = path.join(packaged.artifactDir, '..', 'stackset', path.basename(templateKey));
    const pinned = JSON.parse(readFileSync(file, 'utf8'));
    expect(pinned.Mappings.ArtifactSource['eu-west-1']).toEqual({
      Bucket: `acme-lkg-${PUBLISHER}-eu-west-1`,
      EnforceVersion: `v-acme-lkg-${PUBLISHER}-eu-west-1-enfor`,
      ChangesVersion: `v-acme-lkg-${PUBLISHER}-eu-west-1-chang`,
      SweepVersion: `v-acme-lkg-${PUBLISHER}-eu-west-1-sweep`,
      FindingsVersion: `v-acme-lkg-${PUBLISHER}-eu-west-1-findi`,
    });
    expect(pinned.Mappings.ArtifactSource['us-east-1'].EnforceVersion).toBe(
      `v-acme-lkg-${PUBLISHER}-us-east-1-enfor`,
    );
    const created = calls.find((a) => a[1] === 'create-stack-set') as string[];
    expect(created.join(' ')).toContain(
      `https://acme-lkg-${PUBLISHER}-us-east-1.s3.us-east-1.amazonaws.com/${templateKey}`,
    );
  });

  it("refuses an --account that is not the caller's, and a dry run without --account", async () => {
    // Prepare
    const { parseArgs, run } = await import('../../infra/publish.mjs' as string);
    const spawn = (_cmd: string, argv: string[]) =>
      argv[0] === '--version'
        ? { status: 0, stdout: AWS_CLI_VERSION }
        : argv[0] === 'sts'
          ? {
              status: 0,
              stdout: JSON.stringify({
                Account: '999999999999',
                Arn: 'arn:aws:sts::999999999999:assumed-role/R/s',
              }),
            }
          : { status: 0, stdout: '' };
    const base = [
      '--org-id',
      'o-abc123def4',
      '--ous',
      'ou-ab12-cdef3456',
      '--regions',
      'us-east-1',
      '--bucket-prefix',
      'acme-lkg',
    ];
    const args = parseArgs([
      ...base,
      '--account',
      PUBLISHER,
      '--template',
      packaged.templatePath,
      '--artifacts',
      packaged.artifactDir,
    ]);

    // Act / Assess
    expect(() => run(args, { spawn, out: () => {}, err: () => {} })).toThrow(
      `--account ${PUBLISHER} is not the caller's account (999999999999)`,
    );
    expect(() => parseArgs([...base, '--dry-run'])).toThrow('--dry-run needs --account');
  });
});

describe('publish.mjs --dry-run', () => {
  it('prints the buckets, uploads, and a service-managed StackSet with auto-deployment', () => {
    // Act
    const result = publishDryRun([
      '--param',
      'AlarmEmail=ops@example.com',
      '--param',
      'IncludeLogGroups=/aws/lambda/,/ecs/',
    ]);

    // Assess
    expect(result.status).toBe(0);
    const out = result.stdout;
    for (const region of ['us-east-1', 'eu-west-1']) {
      expect(out).toContain(
        `--parameter-overrides BucketPrefix=acme-lkg OrganizationId=o-abc123def4 'PublisherPrincipalArns=<the caller role ARN>' --no-fail-on-empty-changeset --region ${region}`,
      );
      for (const fn of ['enforce', 'changes', 'sweep', 'findings'])
        expect(out).toMatch(
          new RegExp(
            `s3api put-object --bucket acme-lkg-${PUBLISHER}-${region} --key logs-kms-guard/${fn}-[0-9a-f]{64}\\.zip --body \\S+ --expected-bucket-owner ${PUBLISHER} --checksum-sha256 \\S+ --output json --region ${region}`,
          ),
        );
    }
    expect(out).toContain(
      'aws cloudformation create-stack-set --stack-set-name logs-kms-guard --call-as SELF',
    );
    expect(out).toContain(
      '--permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false',
    );
    expect(out).toContain('--capabilities CAPABILITY_IAM');
    expect(out).not.toContain('ArtifactBucketPrefix');
    expect(out).toContain('ParameterKey=AlarmEmail,ParameterValue=ops@example.com');
    expect(out).toContain(`'ParameterKey=IncludeLogGroups,ParameterValue=/aws/lambda/\\,/ecs/'`);
    expect(out).toContain(
      'create-stack-instances --stack-set-name logs-kms-guard --call-as SELF --deployment-targets OrganizationalUnitIds=ou-ab12-cdef3456,ou-ab12-ghij7890 --regions us-east-1 eu-west-1',
    );
    expect(out).toContain('aws cloudformation update-stack-set --stack-set-name logs-kms-guard');
    expect(out).toMatch(
      /--template-url https:\/\/acme-lkg-111122223333-us-east-1\.s3\.us-east-1\.amazonaws\.com\/logs-kms-guard\/stackset-[0-9a-f]{16}\.json/,
    );
  });

  it('refuses unknown parameters and bad identifiers before doing anything', () => {
    // Act
    const unknown = publishDryRun(['--param', 'NoSuchThing=1']);
    const badOrg = spawnSync(node, [publish, '--org-id', 'acme', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
    });

    // Assess
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('unknown StackSet parameter(s): NoSuchThing');
    expect(badOrg.status).toBe(2);
    expect(badOrg.stderr).toContain('--org-id must be an organization ID');
  });

  it('supports delegated administrators', () => {
    // Act
    const result = publishDryRun(['--call-as', 'DELEGATED_ADMIN']);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('--call-as SELF');
    expect(result.stdout).toContain('--call-as DELEGATED_ADMIN');
  });
});

describe('deploy.mjs', () => {
  it('--dry-run prints one sequential osls deploy per region', () => {
    // Act
    const result = spawnSync(
      node,
      [
        deploy,
        '--regions',
        'us-east-1,eu-west-1',
        '--stage',
        'prod',
        '--param',
        'alarmEmail=ops@example.com',
        '--dry-run',
      ],
      { cwd: root, encoding: 'utf8' },
    );

    // Assess
    expect(result.status).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    expect(lines).toEqual([
      'npm run build',
      'node scripts/package.mjs --zip-only',
      'npx osls deploy --stage prod --region us-east-1 --param alarmEmail=ops@example.com',
      'npx osls deploy --stage prod --region eu-west-1 --param alarmEmail=ops@example.com',
    ]);
  });

  it('stops at the first failing region and names what is done and what is not', async () => {
    // Prepare
    const { run } = await import('../../scripts/deploy.mjs' as string);
    const calls: string[] = [];
    const spawn = (_cmd: string, argv: string[]) => {
      const region = argv.includes('--region') ? (argv[argv.indexOf('--region') + 1] ?? '') : '';
      calls.push(region || argv.join(' '));
      return { status: region === 'eu-west-1' ? 1 : 0 };
    };
    const errors: string[] = [];

    // Act
    const code = run(
      { regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'], stage: 'prod', params: [], dryRun: false },
      { spawn, out: () => {}, err: (m: string) => errors.push(m) },
    );

    // Assess
    expect(code).toBe(1);
    expect(calls).toEqual(['run build', 'scripts/package.mjs --zip-only', 'us-east-1', 'eu-west-1']);
    expect(errors.join('\n')).toContain('deployment to eu-west-1 failed');
    expect(errors.join('\n')).toContain('Deployed: us-east-1.');
    expect(errors.join('\n')).toContain('rerun with --regions eu-west-1,ap-southeast-2');
  });

  it('requires --regions and prints help', () => {
    // Act
    const missing = spawnSync(node, [deploy], { cwd: root, encoding: 'utf8' });
    const help = spawnSync(node, [deploy, '--help'], { cwd: root, encoding: 'utf8' });

    // Assess
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--regions is required');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: npm run deploy -- --regions');
  });
});
