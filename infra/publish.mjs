// Publishes logs-kms-guard to a whole AWS organization: artifact buckets per region, the function zips, and a
// service-managed CloudFormation StackSet with automatic deployment to the target OUs and regions.
// Where the deployed code comes from: buckets named after the publisher's account (`<prefix>-<account>-<region>`),
// writable by the publisher only (infra/artifact-bucket.yml), every upload checked against that owner
// (`--expected-bucket-owner`) and its SHA-256, and the StackSet template pinned to the object version each upload
// returned, per region (infra/stackset.mjs).
//
//   npm run package
//   node infra/publish.mjs --org-id o-abc123def4 --ous ou-ab12-cdef3456 --regions us-east-1,eu-west-1 \
//     --bucket-prefix acme-logs-kms-guard [--param AlarmEmail=ops@example.com ...] [--call-as DELEGATED_ADMIN] [--dry-run]
//
// Run it with credentials of the management account or of a delegated StackSets administrator. It uses the
// AWS CLI (`aws`); `--dry-run` prints every command instead of running it (it needs no CLI and no credentials,
// only `--account`, the publisher's account id the bucket names carry).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucketName, KEY_PREFIX, readArtifacts, toStackSetTemplate } from './stackset.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

export const HELP = `Usage: node infra/publish.mjs --org-id o-... --ous ou-...[,ou-...] --regions r1[,r2...]
                              --bucket-prefix NAME [options]

Publishes logs-kms-guard to an AWS organization with a service-managed StackSet (automatic deployment to
new accounts in the target OUs). Run \`npm run package\` first.

Steps: (1) the artifact bucket stack <bucket-prefix>-<account>-<region> in each region
(infra/artifact-bucket.yml: only the publisher may write), (2) upload the function zips (content-addressed keys,
checked owner and SHA-256) and note each object's VersionId, (3) generate the StackSet template pinned to those
versions per region and upload it, (4) create the StackSet and its instances, or update it.

Options:
  --org-id o-...            AWS Organizations ID; the buckets are readable by this organization only
  --ous ou-a,ou-b           target organizational units (or the root r-...)
  --regions r1,r2           target regions
  --bucket-prefix NAME      artifact buckets are NAME-<account>-<region> (2-35 characters)
  --account ID              the publisher's account (default: the caller's, from sts get-caller-identity;
                            required with --dry-run)
  --publisher-arn ARN       the role or user allowed to write to the buckets (default: the caller's role or
                            user); give it to hand publishing over to another principal
  --stack-set-name NAME     default logs-kms-guard
  --param Name=Value        a StackSet parameter (CloudFormation names: KmsKeyAlias, IncludeLogGroups,
                            ExcludeLogGroups, DryRun, AlarmEmail, SweepSchedule, CliTrustedPrincipalArn for
                            the optional CLI roles, ...), repeatable
  --call-as SELF|DELEGATED_ADMIN   default SELF (management account)
  --add-targets             the StackSet exists: also add instances for these OUs/regions
  --max-concurrent-percentage N    default 25
  --failure-tolerance-percentage N default 10
  --template FILE           packaged template (default .serverless/cloudformation-template-update-stack.json)
  --artifacts DIR           zips (default dist/artifacts)
  --dry-run                 print the commands, run nothing
  -h, --help                this help`;

export function parseArgs(argv) {
  const out = {
    orgId: '',
    ous: [],
    regions: [],
    bucketPrefix: '',
    account: '',
    publisherArn: '',
    stackSetName: 'logs-kms-guard',
    params: {},
    callAs: 'SELF',
    addTargets: false,
    maxConcurrentPercentage: 25,
    failureTolerancePercentage: 10,
    template: path.join(root, '.serverless', 'cloudformation-template-update-stack.json'),
    artifacts: path.join(root, 'dist', 'artifacts'),
    dryRun: false,
    help: false,
  };
  const list = (v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--org-id') out.orgId = value();
    else if (flag === '--ous') out.ous.push(...list(value()));
    else if (flag === '--regions') out.regions.push(...list(value()));
    else if (flag === '--bucket-prefix') out.bucketPrefix = value();
    else if (flag === '--account') out.account = value();
    else if (flag === '--publisher-arn') out.publisherArn = value();
    else if (flag === '--stack-set-name') out.stackSetName = value();
    else if (flag === '--param') {
      const v = value();
      const at = v.indexOf('=');
      if (at < 1) throw new Error(`--param must look like Name=Value, got "${v}"`);
      out.params[v.slice(0, at)] = v.slice(at + 1);
    } else if (flag === '--call-as') out.callAs = value();
    else if (flag === '--add-targets') out.addTargets = true;
    else if (flag === '--max-concurrent-percentage') out.maxConcurrentPercentage = Number(value());
    else if (flag === '--failure-tolerance-percentage') out.failureTolerancePercentage = Number(value());
    else if (flag === '--template') out.template = path.resolve(value());
    else if (flag === '--artifacts') out.artifacts = path.resolve(value());
    else if (flag === '--dry-run') out.dryRun = true;
    else if (flag === '--help' || flag === '-h') out.help = true;
    else throw new Error(`unknown argument: ${arg} (see --help)`);
  }
  if (out.help) return out;
  if (!/^o-[a-z0-9]{10,32}$/.test(out.orgId)) throw new Error('--org-id must be an organization ID (o-...)');
  if (out.ous.length === 0) throw new Error('--ous is required (ou-... or the root r-...)');
  for (const ou of out.ous) {
    if (!/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/.test(ou))
      throw new Error(`not an OU or root id: "${ou}"`);
  }
  if (out.regions.length === 0) throw new Error('--regions is required');
  for (const r of out.regions) if (!REGION.test(r)) throw new Error(`not a region name: "${r}"`);
  // S3 names are at most 63 characters: prefix + '-' + 12 digits + '-' + the longest region name (14).
  if (!/^[a-z0-9][a-z0-9.-]{1,34}$/.test(out.bucketPrefix)) {
    throw new Error('--bucket-prefix is required: lower-case letters, digits, dots and hyphens (2-35)');
  }
  if (out.account && !/^\d{12}$/.test(out.account))
    throw new Error('--account must be a 12-digit account id');
  if (out.dryRun && !out.account)
    throw new Error('--dry-run needs --account (the publisher account id that the bucket names carry)');
  if (out.publisherArn && !PRINCIPAL_ARN.test(out.publisherArn))
    throw new Error('--publisher-arn must be an IAM role or user ARN (arn:aws:iam::<account>:role/NAME)');
  if (!['SELF', 'DELEGATED_ADMIN'].includes(out.callAs))
    throw new Error('--call-as is SELF or DELEGATED_ADMIN');
  for (const [name, n] of [
    ['--max-concurrent-percentage', out.maxConcurrentPercentage],
    ['--failure-tolerance-percentage', out.failureTolerancePercentage],
  ]) {
    if (!Number.isInteger(n) || n < 0 || n > 100) throw new Error(`${name} must be 0-100`);
  }
  return out;
}

const PRINCIPAL_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;
const bucketOf = (args, region) => bucketName(args.bucketPrefix, args.account, region);

/**
 * The ARN patterns of the principal allowed to write to the buckets (the bucket policy's `aws:PrincipalArn`, with
 * ArnNotLike): `--publisher-arn`, else the caller's role (an assumed-role ARN carries no role path, so also any
 * path: role names are unique in an account) or user.
 */
export function publisherPatterns(callerArn, publisherArn) {
  if (publisherArn) return [publisherArn];
  const role = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (role) {
    const [, partition, account, name] = role;
    return [
      `arn:${partition}:iam::${account}:role/${name}`,
      `arn:${partition}:iam::${account}:role/*/${name}`,
    ];
  }
  if (PRINCIPAL_ARN.test(callerArn)) return [callerArn];
  throw new Error(
    `cannot tell the publishing role or user from ${callerArn}: give --publisher-arn (the account root is not one)`,
  );
}

/** Every StackSet parameter with its value: given ones, else the template default. */
export function stackSetParameters(template, args) {
  const unknown = Object.keys(args.params).filter((k) => !(k in template.Parameters));
  if (unknown.length) throw new Error(`unknown StackSet parameter(s): ${unknown.join(', ')}`);
  const values = {};
  for (const [name, p] of Object.entries(template.Parameters))
    values[name] = args.params[name] ?? p.Default ?? '';
  return values;
}

/** SHA-256 of an artifact as S3's `--checksum-sha256` wants it (base64). */
const base64Sha = (hex) => Buffer.from(hex, 'hex').toString('base64');

/**
 * Phase one: the bucket stack and the uploads of each region. An upload step carries `version: { region, fn }`:
 * its answer's VersionId pins that function's code in that region.
 */
export function uploadPlan(args, { artifacts, publisher }) {
  const steps = [];
  for (const region of args.regions) {
    steps.push({
      note: `artifact bucket ${bucketOf(args, region)}`,
      argv: [
        'cloudformation',
        'deploy',
        '--stack-name',
        `${args.stackSetName}-artifacts`,
        '--template-file',
        path.join(root, 'infra', 'artifact-bucket.yml'),
        '--parameter-overrides',
        `BucketPrefix=${args.bucketPrefix}`,
        `OrganizationId=${args.orgId}`,
        `PublisherPrincipalArns=${publisher.join(',')}`,
        '--no-fail-on-empty-changeset',
        '--region',
        region,
      ],
    });
    for (const [fn, a] of Object.entries(artifacts)) {
      steps.push({
        note: `${fn} code`,
        version: { region, fn },
        argv: putObject(args, region, a.key, a.file, a.sha256),
      });
    }
  }
  return steps;
}

/** `s3api put-object` into the publisher's own bucket only, checked by S3 against the file's SHA-256. */
function putObject(args, region, key, file, sha256) {
  return [
    's3api',
    'put-object',
    '--bucket',
    bucketOf(args, region),
    '--key',
    key,
    '--body',
    file,
    '--expected-bucket-owner',
    args.account,
    '--checksum-sha256',
    base64Sha(sha256),
    '--output',
    'json',
    '--region',
    region,
  ];
}

/**
 * Phase two, once the template is pinned to the uploaded versions: its upload and the StackSet calls, as a list of
 * steps `{ argv, note? }`. `exists` says whether the StackSet exists (undefined in a dry run: both branches are
 * listed).
 */
export function plan(args, { template, templateKey, exists }) {
  const steps = [];
  const home = args.regions[0];
  const text = readFileSync(template.file);
  const sha = createHash('sha256').update(text).digest('hex');
  steps.push({
    note: 'StackSet template',
    argv: putObject(args, home, templateKey, template.file, sha),
  });
  const url = `https://${bucketOf(args, home)}.s3.${home}.amazonaws.com/${templateKey}`;
  const parameters = Object.entries(stackSetParameters(template.body, args)).map(
    ([k, v]) => `ParameterKey=${k},ParameterValue=${v.replaceAll(',', '\\,')}`,
  );
  const common = ['--stack-set-name', args.stackSetName, '--call-as', args.callAs];
  const targets = [
    '--deployment-targets',
    `OrganizationalUnitIds=${args.ous.join(',')}`,
    '--regions',
    ...args.regions,
    '--operation-preferences',
    `RegionConcurrencyType=PARALLEL,MaxConcurrentPercentage=${args.maxConcurrentPercentage},FailureTolerancePercentage=${args.failureTolerancePercentage}`,
  ];
  const create = [
    {
      note: 'create the StackSet (service-managed, auto-deployment to new accounts of the OUs)',
      argv: [
        'cloudformation',
        'create-stack-set',
        ...common,
        '--template-url',
        url,
        '--permission-model',
        'SERVICE_MANAGED',
        '--auto-deployment',
        'Enabled=true,RetainStacksOnAccountRemoval=false',
        '--capabilities',
        'CAPABILITY_IAM',
        'CAPABILITY_NAMED_IAM',
        '--parameters',
        ...parameters,
        '--tags',
        'Key=ManagedBy,Value=logs-kms-guard',
        '--region',
        home,
      ],
    },
    {
      note: 'stack instances in every account of the OUs, in every region',
      argv: ['cloudformation', 'create-stack-instances', ...common, ...targets, '--region', home],
    },
  ];
  const update = [
    {
      note: 'update the StackSet and its instances in these OUs and regions',
      argv: [
        'cloudformation',
        'update-stack-set',
        ...common,
        '--template-url',
        url,
        '--capabilities',
        'CAPABILITY_IAM',
        'CAPABILITY_NAMED_IAM',
        '--parameters',
        ...parameters,
        ...targets,
        '--region',
        home,
      ],
    },
  ];
  if (args.addTargets) {
    update.push({
      note: 'add instances for new OUs or regions',
      argv: ['cloudformation', 'create-stack-instances', ...common, ...targets, '--region', home],
    });
  }
  if (exists === undefined) {
    steps.push({
      note: 'does the StackSet exist?',
      argv: ['cloudformation', 'describe-stack-set', ...common, '--region', home],
    });
    steps.push({ branch: 'if it does not exist', steps: create });
    steps.push({ branch: 'if it exists', steps: update });
  } else {
    steps.push(...(exists ? update : create));
  }
  return steps;
}

function quote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

export function render(step) {
  return ['aws', ...step.argv].map(quote).join(' ');
}

/** The packaged template and the zips, checked present. */
export function readInputs(args) {
  if (!existsSync(args.template))
    throw new Error(`${args.template} is missing: run \`npm run package\` first`);
  const artifacts = readArtifacts(args.artifacts);
  if (!artifacts.enforce)
    throw new Error(`${args.artifacts}/enforce.zip is missing: run \`npm run package\` first`);
  return { packaged: JSON.parse(readFileSync(args.template, 'utf8')), artifacts };
}

/**
 * Writes the StackSet template pinned to `versions` (`{ <region>: { <fn>: VersionId } }`) and the sources file
 * (what `node infra/stackset.mjs --sources` reads to make the same template again); returns what `plan` needs.
 */
export function prepare(args, { packaged, artifacts }, versions) {
  const sources = Object.fromEntries(
    args.regions.map((region) => [
      region,
      { bucket: bucketOf(args, region), versions: versions[region] ?? {} },
    ]),
  );
  const body = toStackSetTemplate(packaged, artifacts, sources);
  const text = `${JSON.stringify(body, null, 2)}\n`;
  const sha = createHash('sha256').update(text).digest('hex');
  const dir = path.join(args.artifacts, '..', 'stackset');
  const file = path.join(dir, `stackset-${sha.slice(0, 16)}.json`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  writeFileSync(path.join(dir, 'sources.json'), `${JSON.stringify(sources, null, 2)}\n`);
  return { template: { file, body }, templateKey: `${KEY_PREFIX}/stackset-${sha.slice(0, 16)}.json` };
}

/** Prints every command of a dry run; the template is pinned to placeholders (no upload ran, no version exists). */
function dryRun(args, inputs, out) {
  out(
    `# dry run: StackSet ${args.stackSetName} to OUs ${args.ous.join(', ')} in ${args.regions.join(', ')}; nothing is executed`,
  );
  const publisher = args.publisherArn ? [args.publisherArn] : ['<the caller role ARN>'];
  const steps = uploadPlan(args, { artifacts: inputs.artifacts, publisher });
  const versions = {};
  for (const { version } of steps.filter((s) => s.version)) {
    versions[version.region] = { ...versions[version.region], [version.fn]: 'DRY-RUN-NO-VERSION' };
  }
  const prepared = prepare(args, inputs, versions);
  out(
    `# StackSet template (object versions are placeholders): ${path.relative(process.cwd(), prepared.template.file)}`,
  );
  const print = (list, indent = '') => {
    for (const step of list) {
      if (step.branch) {
        out(`${indent}# ${step.branch}:`);
        print(step.steps, `${indent}  `);
      } else {
        if (step.note)
          out(`${indent}# ${step.note}${step.version ? ' (its VersionId pins the template)' : ''}`);
        out(`${indent}${render(step)}`);
      }
    }
  };
  print(steps);
  print(plan(args, { ...prepared, exists: undefined }));
  return 0;
}

/** The caller's account and the publisher ARN patterns; refuses an --account that is not the caller's. */
function whoPublishes(args, aws) {
  const who = aws(['sts', 'get-caller-identity', '--output', 'json'], true);
  if (who.status !== 0) throw new Error(`cannot read the caller identity:\n${who.stderr ?? ''}`);
  const { Account, Arn } = JSON.parse(who.stdout);
  if (args.account && args.account !== Account)
    throw new Error(
      `--account ${args.account} is not the caller's account (${Account}): the buckets are the caller's`,
    );
  return { account: Account, publisher: publisherPatterns(Arn, args.publisherArn) };
}

/**
 * The oldest AWS CLI releases with every flag publish uses: `s3api put-object --checksum-sha256` arrived with S3's
 * additional checksums (aws-cli CHANGELOG: 1.22.62 and 2.4.21, February 2022); `--expected-bucket-owner` and
 * StackSets' `--call-as` are older.
 */
export const AWS_CLI_MINIMUM = { 1: [1, 22, 62], 2: [2, 4, 21] };

/** What is wrong with the AWS CLI whose `aws --version` printed `text` (undefined: it will do). */
export function awsCliProblem(text) {
  const m = /aws-cli\/(\d+)\.(\d+)\.(\d+)/.exec(text ?? '');
  if (!m) return `cannot tell the AWS CLI's version from \`aws --version\` ("${String(text ?? '').trim()}")`;
  const have = m.slice(1, 4).map(Number);
  if (have[0] > 2) return undefined;
  const need = AWS_CLI_MINIMUM[have[0]];
  const older = need && have.findIndex((n, i) => n !== need[i]);
  if (need && (older === -1 || have[older] > need[older])) return undefined;
  const wanted = `${AWS_CLI_MINIMUM[2].join('.')} or newer (v2), or ${AWS_CLI_MINIMUM[1].join('.')} or newer (v1)`;
  return `AWS CLI ${have.join('.')} is too old for \`s3api put-object --checksum-sha256\`: install ${wanted}`;
}

/** The AWS CLI checked present and recent enough before anything else runs; a message saying what to do, or undefined. */
function checkAwsCli(aws) {
  const probe = aws(['--version'], true);
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.code === 'ENOENT' ? 'no `aws` on PATH' : `\`aws --version\` failed`;
    return `publish: the AWS CLI is needed (${why}): install AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), or use --dry-run to print the commands`;
  }
  const problem = awsCliProblem(`${probe.stdout ?? ''} ${probe.stderr ?? ''}`);
  return problem && `publish: ${problem}`;
}

/** Runs the publication: buckets and uploads (noting each VersionId), then the pinned template and the StackSet. */
export function run(args, { spawn = spawnSync, out = console.log, err = console.error } = {}) {
  if (args.dryRun) return dryRun(args, readInputs(args), out);
  const aws = (argv, capture = false) =>
    spawn('aws', argv, {
      cwd: root,
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      encoding: 'utf8',
    });
  const missing = checkAwsCli(aws);
  if (missing) {
    err(missing);
    return 1;
  }
  const inputs = readInputs(args);
  const { account, publisher } = whoPublishes(args, aws);
  const pinned = { ...args, account };
  const described = aws(
    [
      'cloudformation',
      'describe-stack-set',
      '--stack-set-name',
      args.stackSetName,
      '--call-as',
      args.callAs,
    ].concat(['--region', args.regions[0]]),
    true,
  );
  const exists = described.status === 0;
  if (!exists && !/StackSetNotFound/.test(`${described.stderr ?? ''}`)) {
    err(`publish: cannot tell whether the StackSet exists:\n${described.stderr ?? ''}`);
    return 1;
  }
  const versions = {};
  const execute = (step) => {
    out(`▶ ${step.note ?? ''}\n  ${render(step)}`);
    const result = aws(step.argv, Boolean(step.version));
    if (result.status !== 0) {
      err(
        `${result.stderr ?? ''}✖ failed: ${render(step)}\n  Fix the cause above and rerun: every step is idempotent.`,
      );
      return false;
    }
    if (step.version) {
      const { region, fn } = step.version;
      const id = JSON.parse(result.stdout || '{}').VersionId;
      if (!id) {
        err(
          `✖ ${bucketOf(pinned, region)} returned no VersionId: its versioning is off; redeploy its bucket stack`,
        );
        return false;
      }
      versions[region] = { ...versions[region], [fn]: id };
    }
    return true;
  };
  for (const step of uploadPlan(pinned, { artifacts: inputs.artifacts, publisher }))
    if (!execute(step)) return 1;
  const prepared = prepare(pinned, inputs, versions);
  for (const step of plan(pinned, { ...prepared, exists })) if (!execute(step)) return 1;
  out(
    `✔ published. Follow the operation: aws cloudformation list-stack-set-operations --stack-set-name ${args.stackSetName} --call-as ${args.callAs} --region ${args.regions[0]}`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`publish: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    process.exit(2);
  }
  if (args.help) console.log(HELP);
  else {
    try {
      process.exit(run(args));
    } catch (e) {
      console.error(`publish: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    }
  }
}
