// Turns the packaged serverless template into the organization StackSet template.
//
//   node infra/stackset.mjs --sources dist/stackset/sources.json
//                           [--template .serverless/cloudformation-template-update-stack.json]
//                           [--artifacts dist/artifacts] [--out dist/stackset/stackset.json]
//
// The StackSet deploys the same resources as `osls deploy` into every account and region of the target OUs.
// What changes: the function code comes from the publisher's artifact bucket of the stack's own region,
// `<prefix>-<publisher account>-<region>` (infra/artifact-bucket.yml), under a content-addressed key
// (`logs-kms-guard/<fn>-<sha256>.zip`), pinned to the S3 object version infra/publish.mjs uploaded there: the
// `ArtifactSource` mapping names, per published region, the bucket and each function's VersionId. An object
// written later under the same key (by anyone) is never what a stack deploys, and a region the publisher did
// not publish to has no mapping entry, so its stack fails instead of reading a bucket someone else may own.
// The osls deployment bucket and the Lambda versions (which osls retains on every deploy) are left out; optional
// roles for the CLI across accounts are added (below, `cliRoles`).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCTOR_READ, ENFORCE_WRITE, READ, ROLLBACK_WRITE } from './cli-policies.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KEY_PREFIX = 'logs-kms-guard';

/** The mapping that pins each region's code: `{ <region>: { Bucket, EnforceVersion, SweepVersion } }`. */
export const SOURCE_MAPPING = 'ArtifactSource';

/** The artifact bucket of the publisher's account in a region: `<prefix>-<account>-<region>`. */
export function bucketName(prefix, account, region) {
  return `${prefix}-${account}-${region}`;
}

/** S3 key of a function artifact: content-addressed. */
export function artifactKey(fn, sha256) {
  return `${KEY_PREFIX}/${fn}-${sha256}.zip`;
}

/** { enforce: { file, sha256, key }, ... } for the zips present in `artifactDir`. */
export function readArtifacts(artifactDir) {
  const out = {};
  for (const fn of ['enforce', 'changes', 'sweep', 'findings']) {
    const file = path.join(artifactDir, `${fn}.zip`);
    if (!existsSync(file)) continue;
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    out[fn] = { file, sha256, key: artifactKey(fn, sha256) };
  }
  return out;
}

function functionNameOf(logicalId) {
  // osls names function resources <Name>LambdaFunction with the first letter upper-cased.
  const base = logicalId.replace(/LambdaFunction$/, '');
  return base.charAt(0).toLowerCase() + base.slice(1);
}

/** The mapping's second-level key holding a function's object version: `EnforceVersion`, `SweepVersion`. */
export function versionKey(fn) {
  return `${fn.charAt(0).toUpperCase()}${fn.slice(1)}Version`;
}

/**
 * Checks `sources` (`{ <region>: { bucket, versions: { <fn>: VersionId } } }`, as publish.mjs writes it) and turns
 * it into the `ArtifactSource` mapping; every function of `fns` needs a version in every region.
 */
export function sourceMapping(sources, fns) {
  const regions = Object.keys(sources ?? {});
  if (regions.length === 0) throw new Error('no published region: the artifact sources name none');
  const mapping = {};
  for (const region of regions) {
    const { bucket, versions = {} } = sources[region] ?? {};
    if (typeof bucket !== 'string' || !bucket) throw new Error(`no artifact bucket for ${region}`);
    mapping[region] = { Bucket: bucket };
    for (const fn of fns) {
      const version = versions[fn];
      if (typeof version !== 'string' || !version)
        throw new Error(`no S3 object version of the ${fn} code in ${region}: publish uploads it first`);
      mapping[region][versionKey(fn)] = version;
    }
  }
  return mapping;
}

/** Pure: packaged template + artifact keys + per-region sources (bucket, object versions) → StackSet template. */
export function toStackSetTemplate(packaged, artifacts, sources) {
  const t = structuredClone(packaged);
  t.Description = `${t.Description ?? 'logs-kms-guard'} (organization StackSet)`;
  const removed = new Set();
  for (const [id, res] of Object.entries(t.Resources)) {
    if (
      id === 'ServerlessDeploymentBucket' ||
      id === 'ServerlessDeploymentBucketPolicy' ||
      res.Type === 'AWS::Lambda::Version'
    ) {
      removed.add(id);
      delete t.Resources[id];
    }
  }
  const functions = Object.entries(t.Resources).filter(([, res]) => res.Type === 'AWS::Lambda::Function');
  t.Mappings = {
    ...t.Mappings,
    [SOURCE_MAPPING]: sourceMapping(
      sources,
      functions.map(([id]) => functionNameOf(id)),
    ),
  };
  // The optional roles for the CLI across accounts (`cliRoles`, below).
  const roles = cliRoles();
  for (const part of ['Parameters', 'Conditions', 'Resources', 'Outputs'])
    t[part] = { ...t[part], ...roles[part] };
  const pick = (key) => ({ 'Fn::FindInMap': [SOURCE_MAPPING, { Ref: 'AWS::Region' }, key] });
  for (const [id, res] of functions) {
    const fn = functionNameOf(id);
    const artifact = artifacts[fn];
    if (!artifact) throw new Error(`no artifact for function ${fn} (${id}): run \`npm run package\` first`);
    res.Properties.Code = {
      S3Bucket: pick('Bucket'),
      S3Key: artifact.key,
      S3ObjectVersion: pick(versionKey(fn)),
    };
  }
  for (const [id, out] of Object.entries(t.Outputs ?? {})) {
    const text = JSON.stringify(out);
    if ([...removed].some((r) => text.includes(`"${r}"`))) delete t.Outputs[id];
    else delete out.Export; // exports named after the osls stack would collide with nothing, but mean nothing here
  }
  const left = JSON.stringify(t);
  for (const r of removed) {
    if (left.includes(`"${r}"`))
      throw new Error(`the StackSet template still refers to removed resource ${r}`);
  }
  return t;
}

// --- The optional CLI roles ------------------------------------------------------------------------------
// The optional roles for the CLI across accounts, added to the organization StackSet template:
// `logs-kms-guard-cli-audit` (read-only: what `audit` and `doctor` call) and `logs-kms-guard-cli-enforce` (what
// `enforce` and `rollback` call), each trusting one principal of the management or security account
// (`CliTrustedPrincipalArn`), created in one region of each account (`CliRolesRegion`: IAM is global, a second
// stack instance in the same account would collide on the name). Off unless `CliTrustedPrincipalArn` is set.
// The statements are those of the CLI's session policies, from one source (infra/cli-policies.mjs), which the CLI
// passes on every AssumeRole anyway (functions/cli/session-policy.ts).

/** The role names the CLI's `--role-name` gives. */
export const CLI_ROLE_NAMES = { audit: 'logs-kms-guard-cli-audit', enforce: 'logs-kms-guard-cli-enforce' };

/** Every string with a placeholder becomes an Fn::Sub of the stack's own partition, guard alias and opt-out tag. */
function substitute(value) {
  if (Array.isArray(value)) return value.map(substitute);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
  if (typeof value !== 'string' || !value.includes('{{')) return value;
  const sub = (name) => `\${${name}}`; // a CloudFormation Fn::Sub reference
  return {
    'Fn::Sub': value
      .replaceAll('{{Partition}}', sub('AWS::Partition'))
      .replaceAll('{{KeyAlias}}', sub('KmsKeyAlias'))
      .replaceAll('{{SkipTagKey}}', sub('SkipTagKey')),
  };
}

function role(name, description, statements) {
  return {
    Type: 'AWS::IAM::Role',
    Condition: 'CreateCliRoles',
    Properties: {
      RoleName: name,
      Description: description,
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'TrustedCaller',
            Effect: 'Allow',
            Principal: { AWS: { Ref: 'CliTrustedPrincipalArn' } },
            Action: 'sts:AssumeRole',
          },
        ],
      },
      Policies: [
        { PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: substitute(statements) } },
      ],
      Tags: [{ Key: 'ManagedBy', Value: 'logs-kms-guard' }],
    },
  };
}

/** The parameters, condition, roles and outputs the StackSet template gains (a new object each call). */
export function cliRoles() {
  return {
    Parameters: {
      CliTrustedPrincipalArn: {
        Type: 'String',
        Default: '',
        AllowedPattern: '^$|^arn:aws(-cn|-us-gov)?:iam::\\d{12}:(root|role/[\\w+=,.@/-]+)$',
        Description:
          'Optional: the role (or account root) of the management or security account that may assume the CLI roles ' +
          `${CLI_ROLE_NAMES.audit} (read-only) and ${CLI_ROLE_NAMES.enforce}; empty: no CLI roles.`,
      },
      CliRolesRegion: {
        Type: 'String',
        Default: 'us-east-1',
        Description:
          'The one region (of the StackSet) whose stack creates the CLI roles: IAM roles are global.',
      },
    },
    Conditions: {
      CreateCliRoles: {
        'Fn::And': [
          { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'CliTrustedPrincipalArn' }, ''] }] },
          { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'CliRolesRegion' }] },
        ],
      },
    },
    Resources: {
      CliAuditRole: role(
        CLI_ROLE_NAMES.audit,
        'logs-kms-guard CLI: audit and doctor across accounts (read-only)',
        [READ, DOCTOR_READ],
      ),
      CliEnforceRole: role(
        CLI_ROLE_NAMES.enforce,
        'logs-kms-guard CLI: enforce and rollback across accounts (no deletion of keys or log groups)',
        [READ, ...ENFORCE_WRITE, ...ROLLBACK_WRITE],
      ),
    },
    Outputs: {
      CliAuditRoleArn: { Condition: 'CreateCliRoles', Value: { 'Fn::GetAtt': ['CliAuditRole', 'Arn'] } },
      CliEnforceRoleArn: { Condition: 'CreateCliRoles', Value: { 'Fn::GetAtt': ['CliEnforceRole', 'Arn'] } },
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]) : fallback;
  };
  if (args.includes('--help') || args.includes('-h')) {
    console.log(
      'Usage: node infra/stackset.mjs --sources FILE [--template FILE] [--artifacts DIR] [--out FILE]\n' +
        'Writes the organization StackSet template generated from the packaged serverless template.\n' +
        'FILE: { "<region>": { "bucket": "...", "versions": { "enforce": "<VersionId>", "sweep": "..." } } },\n' +
        'as infra/publish.mjs writes it (dist/stackset/sources.json) after uploading the code.',
    );
    process.exit(0);
  }
  try {
    const templatePath = opt(
      '--template',
      path.join(root, '.serverless', 'cloudformation-template-update-stack.json'),
    );
    const artifactDir = opt('--artifacts', path.join(root, 'dist', 'artifacts'));
    const out = opt('--out', path.join(root, 'dist', 'stackset', 'stackset.json'));
    const sourcesPath = opt('--sources', path.join(root, 'dist', 'stackset', 'sources.json'));
    if (!existsSync(sourcesPath))
      throw new Error(`${sourcesPath} is missing: infra/publish.mjs writes it when it uploads the code`);
    if (!existsSync(templatePath))
      throw new Error(`${templatePath} is missing: run \`npm run package\` first`);
    const template = toStackSetTemplate(
      JSON.parse(readFileSync(templatePath, 'utf8')),
      readArtifacts(artifactDir),
      JSON.parse(readFileSync(sourcesPath, 'utf8')),
    );
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(template, null, 2)}\n`);
    console.log(`StackSet template: ${path.relative(process.cwd(), out)}`);
  } catch (err) {
    console.error(`stackset: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
