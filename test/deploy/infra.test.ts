/**
 * The organization deployment tools, from the packaged template: the StackSet template infra/stackset.mjs
 * makes, infra/artifact-bucket.yml, infra/publish.mjs --dry-run and scripts/deploy.mjs (as processes, and its
 * `run` with a fake spawn). Nothing is deployed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Packaged, packageTemplate, root } from './template.ts';

const node = process.execPath;
const publish = path.join(root, 'infra', 'publish.mjs');
const stackset = path.join(root, 'infra', 'stackset.mjs');
const deploy = path.join(root, 'scripts', 'deploy.mjs');

let packaged: Packaged;
let template: any;

beforeAll(() => {
  packaged = packageTemplate({ withSweep: true });
  const out = path.join(packaged.dir, 'stackset.json');
  execFileSync(
    node,
    [stackset, '--template', packaged.templatePath, '--artifacts', packaged.artifactDir, '--out', out],
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

    // Assess
    expect(Object.keys(template.Resources).sort()).toEqual(expected.sort());
    expect(template.Resources.CreateLogGroupRule).toEqual(serverless.Resources.CreateLogGroupRule);
    expect(template.Resources.EnforceRole).toEqual(serverless.Resources.EnforceRole);
    expect(template.Conditions).toEqual(serverless.Conditions);
  });

  it('reads each function from the artifact bucket of its own region, content-addressed', () => {
    // Prepare
    const fns = ['EnforceLambdaFunction', 'SweepLambdaFunction'].map(
      (id) => template.Resources[id].Properties.Code,
    );

    // Assess
    for (const [i, code] of fns.entries()) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      expect(code.S3Bucket).toEqual({ 'Fn::Sub': '${ArtifactBucketPrefix}-${AWS::Region}' });
      expect(code.S3Key).toMatch(
        new RegExp(`^logs-kms-guard/${i === 0 ? 'enforce' : 'sweep'}-[0-9a-f]{64}\\.zip$`),
      );
    }
    expect(template.Parameters.ArtifactBucketPrefix.Type).toBe('String');
    expect(template.Parameters.ArtifactBucketPrefix.Default).toBeUndefined();
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
      ...Object.keys(template.Resources),
      ...Object.keys(template.Parameters),
      ...Object.keys(template.Conditions),
    ]);
    for (const ref of refs) if (!ref?.startsWith('AWS::')) expect(known.has(ref as string), ref).toBe(true);
  });
});

describe('artifact bucket template', () => {
  it('is readable by the organization only, encrypted, versioned, not public, and retained', () => {
    // Prepare
    const text = readFileSync(path.join(root, 'infra', 'artifact-bucket.yml'), 'utf8');

    // Assess
    expect(text).toMatch(/BucketName: !Sub ["']\$\{BucketPrefix\}-\$\{AWS::Region\}["']/);
    expect(text).toMatch(/["']aws:PrincipalOrgID["']: !Ref OrganizationId/);
    expect(text).toMatch(/Action: \[s3:GetObject, s3:GetObjectVersion\]/);
    expect(text).toMatch(/SSEAlgorithm: AES256/);
    expect(text).toMatch(/VersioningConfiguration: \{ Status: Enabled \}/);
    expect(text).toMatch(/RestrictPublicBuckets: true/);
    expect(text).toMatch(/DeletionPolicy: Retain/);
    expect(text).not.toMatch(/s3:PutObject/);
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
        `--parameter-overrides BucketPrefix=acme-lkg OrganizationId=o-abc123def4 --no-fail-on-empty-changeset --region ${region}`,
      );
      expect(out).toMatch(
        new RegExp(
          `s3://acme-lkg-${region}/logs-kms-guard/enforce-[0-9a-f]{64}\\.zip --only-show-errors --region ${region}`,
        ),
      );
      expect(out).toMatch(new RegExp(`s3://acme-lkg-${region}/logs-kms-guard/sweep-[0-9a-f]{64}\\.zip`));
    }
    expect(out).toContain(
      'aws cloudformation create-stack-set --stack-set-name logs-kms-guard --call-as SELF',
    );
    expect(out).toContain(
      '--permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false',
    );
    expect(out).toContain('--capabilities CAPABILITY_IAM');
    expect(out).toContain('ParameterKey=ArtifactBucketPrefix,ParameterValue=acme-lkg');
    expect(out).toContain('ParameterKey=AlarmEmail,ParameterValue=ops@example.com');
    expect(out).toContain(`'ParameterKey=IncludeLogGroups,ParameterValue=/aws/lambda/\\,/ecs/'`);
    expect(out).toContain(
      'create-stack-instances --stack-set-name logs-kms-guard --call-as SELF --deployment-targets OrganizationalUnitIds=ou-ab12-cdef3456,ou-ab12-ghij7890 --regions us-east-1 eu-west-1',
    );
    expect(out).toContain('aws cloudformation update-stack-set --stack-set-name logs-kms-guard');
    expect(out).toMatch(
      /--template-url https:\/\/acme-lkg-us-east-1\.s3\.us-east-1\.amazonaws\.com\/logs-kms-guard\/stackset-[0-9a-f]{16}\.json/,
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
