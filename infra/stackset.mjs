// Turns the packaged serverless template into the organization StackSet template.
//
//   node infra/stackset.mjs [--template .serverless/cloudformation-template-update-stack.json]
//                           [--artifacts dist/artifacts] [--out dist/stackset/stackset.json]
//
// The StackSet deploys the same resources as `osls deploy` into every account and region of the target OUs.
// What changes: the function code comes from the organization's artifact bucket of the stack's own region,
// `<ArtifactBucketPrefix>-<region>` (infra/artifact-bucket.yml), under a content-addressed key
// (`logs-kms-guard/<fn>-<sha256>.zip`, so a new build never overwrites what running stacks point at), and the
// osls deployment bucket and the Lambda versions (which osls retains on every deploy) are left out.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KEY_PREFIX = 'logs-kms-guard';

/** S3 key of a function artifact: content-addressed. */
export function artifactKey(fn, sha256) {
  return `${KEY_PREFIX}/${fn}-${sha256}.zip`;
}

/** { enforce: { file, sha256, key }, ... } for the zips present in `artifactDir`. */
export function readArtifacts(artifactDir) {
  const out = {};
  for (const fn of ['enforce', 'sweep']) {
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

/** Pure: packaged template + artifact keys → StackSet template (a new object). */
export function toStackSetTemplate(packaged, artifacts) {
  const t = structuredClone(packaged);
  t.Description = `${t.Description ?? 'logs-kms-guard'} (organization StackSet)`;
  t.Parameters = {
    ...t.Parameters,
    ArtifactBucketPrefix: {
      Type: 'String',
      AllowedPattern: '^[a-z0-9][a-z0-9.-]{1,40}$',
      Description:
        'Prefix of the per-region artifact buckets (infra/artifact-bucket.yml): code is read from <prefix>-<region>.',
    },
  };
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
  for (const [id, res] of Object.entries(t.Resources)) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const fn = functionNameOf(id);
    const artifact = artifacts[fn];
    if (!artifact) throw new Error(`no artifact for function ${fn} (${id}): run \`npm run package\` first`);
    res.Properties.Code = {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      S3Bucket: { 'Fn::Sub': '${ArtifactBucketPrefix}-${AWS::Region}' },
      S3Key: artifact.key,
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? path.resolve(args[i + 1]) : fallback;
  };
  if (args.includes('--help') || args.includes('-h')) {
    console.log(
      'Usage: node infra/stackset.mjs [--template FILE] [--artifacts DIR] [--out FILE]\n' +
        'Writes the organization StackSet template generated from the packaged serverless template.',
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
    if (!existsSync(templatePath))
      throw new Error(`${templatePath} is missing: run \`npm run package\` first`);
    const template = toStackSetTemplate(
      JSON.parse(readFileSync(templatePath, 'utf8')),
      readArtifacts(artifactDir),
    );
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(template, null, 2)}\n`);
    console.log(`StackSet template: ${path.relative(process.cwd(), out)}`);
  } catch (err) {
    console.error(`stackset: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
