// Packages the service offline: zips each function's bundle with its source map, SBOM and notices, then runs `osls package`
// with no AWS credentials and no network, and prints where the CloudFormation template is.
//
//   npm run package [-- --stage prod] [--region us-east-1] [--param name=value ...]
//
// Why our own zips (package.artifact) instead of osls `package.individually` + patterns: osls keeps the
// directory layout (dist/enforce.mjs → handler `dist/enforce.handler`) and stamps file times into the zip.
// These zips hold exactly `<fn>.mjs`, `<fn>.mjs.map`, `<fn>.cdx.json` (SBOM) and `<fn>.THIRD-PARTY-NOTICES.txt`
// at the root (handler `<fn>.handler`) with fixed timestamps, so the same bundle always gives the same bytes and SHA-256: the StackSet publisher
// (infra/publish.mjs) uses that hash as the artifact's S3 key, and an unchanged function is not re-uploaded.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { validateParams } from './package-params.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACT_DIR = path.join(root, 'dist', 'artifacts');
export const TEMPLATE_PATH = path.join(root, '.serverless', 'cloudformation-template-update-stack.json');
/** Functions the template can hold; a missing optional bundle is left out (see infra/sls/sweep.cjs, findings.cjs). */
export const FUNCTIONS = [
  { name: 'enforce', required: true },
  { name: 'changes', required: true },
  { name: 'sweep', required: false },
  { name: 'findings', required: false },
];

// 1980-01-01 00:00 in DOS time/date: the earliest a zip can say, the same for every build.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * The fields an entry's local header and its central directory record share, in the same order from `at`:
 * version needed, flags (UTF-8 names), method (deflate), time, date, CRC-32, sizes and the name's length.
 */
function writeEntryFields(header, at, { crc, compressedSize, size, nameLength }) {
  header.writeUInt16LE(20, at); // version needed
  header.writeUInt16LE(0x0800, at + 2); // UTF-8 names
  header.writeUInt16LE(8, at + 4); // deflate
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(crc, at + 10);
  header.writeUInt32LE(compressedSize, at + 14);
  header.writeUInt32LE(size, at + 18);
  header.writeUInt16LE(nameLength, at + 22);
}

/** A minimal deterministic ZIP (deflate, no extra fields, fixed times); entries are [name, bytes]. */
export function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const entry = { crc, compressedSize: compressed.length, size: data.length, nameLength: nameBytes.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4, entry);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    writeEntryFields(central, 6, entry);
    central.writeUInt32LE(((0o100644 << 16) >>> 0) >>> 0, 38); // -rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/**
 * What a function's zip holds, at its root, from dist/: the bundle, its source map, and what ships with it
 * (scripts/build.mjs): its CycloneDX SBOM and its third-party notices.
 */
export function zipFiles(name) {
  return [`${name}.mjs`, `${name}.mjs.map`, `${name}.cdx.json`, `${name}.THIRD-PARTY-NOTICES.txt`];
}

/** Zips dist/<fn>.mjs, its .map, SBOM and notices into dist/artifacts/<fn>.zip; returns what was built. */
export function buildArtifacts({ artifactDir = ARTIFACT_DIR, log = console.log } = {}) {
  rmSync(artifactDir, { recursive: true, force: true });
  mkdirSync(artifactDir, { recursive: true });
  const built = [];
  for (const fn of FUNCTIONS) {
    const files = zipFiles(fn.name);
    const missing = files.filter((f) => !existsSync(path.join(root, 'dist', f)));
    if (missing.length > 0) {
      if (fn.required || missing.length < files.length) {
        throw new Error(`dist/${missing.join(', dist/')} missing: run \`npm run build\` first`);
      }
      log(`dist/${fn.name}.mjs not built: the ${fn.name} function is left out of the template`);
      continue;
    }
    const bytes = zip(files.map((f) => [f, readFileSync(path.join(root, 'dist', f))]));
    const file = path.join(artifactDir, `${fn.name}.zip`);
    writeFileSync(file, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    built.push({ name: fn.name, file, sha256, size: bytes.length });
    log(
      `${path.relative(root, file)}  ${(bytes.length / 1024).toFixed(1)} KiB  sha256 ${sha256.slice(0, 12)}`,
    );
  }
  return built;
}

/**
 * The environment `osls package` needs to run with no account and no network: fake static credentials
 * (osls insists on some credentials existing; packaging never calls AWS with them), no profile or SSO from
 * the user's machine, no metadata-service probing.
 */
export function offlineEnv(base = process.env) {
  const env = { ...base };
  for (const k of [
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_SESSION_TOKEN',
    'AWS_ROLE_ARN',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
  ]) {
    delete env[k];
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'placeholder-offline-packaging',
    AWS_SECRET_ACCESS_KEY: 'package-offline-no-aws-call-is-made',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_LOAD_CONFIG: '0',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_TRACKING_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_NOTIFICATION_MODE: 'warn',
  };
}

/** A command line the script refuses before doing anything (exit 2), in the terms the user typed. */
export class UsageError extends Error {}

/**
 * The command line as { stage, region, params, zipOnly, outDir, artifactDir, skipZip, help }; throws a
 * UsageError on a bad one, including an unknown `--param` name or a value it does not allow (package-params.mjs).
 */
export function parseArgs(argv) {
  const out = {
    stage: 'prod',
    region: 'us-east-1',
    params: [],
    zipOnly: false,
    outDir: undefined,
    artifactDir: ARTIFACT_DIR,
    skipZip: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--stage') out.stage = value();
    else if (arg === '--region') out.region = value();
    else if (arg === '--param') out.params.push(value());
    else if (arg.startsWith('--stage=')) out.stage = arg.slice(8);
    else if (arg.startsWith('--region=')) out.region = arg.slice(9);
    else if (arg.startsWith('--param=')) out.params.push(arg.slice(8));
    else if (arg === '--zip-only') out.zipOnly = true;
    else if (arg === '--out') out.outDir = path.resolve(value());
    else if (arg === '--artifacts') out.artifactDir = path.resolve(value());
    else if (arg === '--skip-zip') out.skipZip = true;
    else if (arg === '--help' || arg === '-h') out.help = true;
    else throw new UsageError(`unknown argument: ${arg} (see --help)`);
  }
  const problems = validateParams(out.params);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return out;
}

/** The logical ids `node` references by Ref, Fn::GetAtt or Fn::Sub, outside Fn::If branches. */
function referencedIds(node, out = new Set()) {
  if (Array.isArray(node)) for (const v of node) referencedIds(v, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Fn::If') continue; // a reference under a condition may not exist: keep its DependsOn
      if (key === 'Ref' && typeof value === 'string') out.add(value);
      else if (key === 'Fn::GetAtt')
        out.add((Array.isArray(value) ? value[0] : String(value).split('.')[0]) ?? '');
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? value[0] : value;
        for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) out.add(m[1]);
        if (Array.isArray(value)) referencedIds(value[1], out);
      } else referencedIds(value, out);
    }
  }
  return out;
}

/**
 * Drops the DependsOn entries a resource's own Ref/GetAtt/Sub already imply (cfn-lint W3005): osls adds
 * DependsOn: <role> to every function whose `role` it also references by Fn::GetAtt. CloudFormation orders them
 * the same either way; the template `npm run package` writes (and the StackSet template made from it) is lint-clean.
 */
export function dropImpliedDependsOn(template) {
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.DependsOn === undefined) continue;
    const { DependsOn, ...rest } = resource;
    const implied = referencedIds(rest);
    const kept = [].concat(DependsOn).filter((id) => !implied.has(id));
    if (kept.length === 0) delete resource.DependsOn;
    else resource.DependsOn = kept;
  }
  return template;
}

/**
 * Runs `osls package` offline; returns the template path. `outDir` and `artifactDir` let tests package in
 * parallel into their own temporary directories (the defaults are .serverless/ and dist/artifacts/).
 */
export function packageService({
  stage,
  region,
  params = [],
  outDir,
  artifactDir = ARTIFACT_DIR,
  log = console.log,
}) {
  const oslsBin = path.join(root, 'node_modules', 'osls', 'bin', 'serverless.js');
  const args = [oslsBin, 'package', '--stage', stage, '--region', region];
  if (outDir) args.push('--package', outDir);
  for (const p of params) args.push('--param', p);
  const env = { ...offlineEnv(), LOGS_KMS_GUARD_ARTIFACTS: artifactDir };
  const result = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `osls package failed (exit ${result.status}):\n${result.stdout ?? ''}${result.stderr ?? ''}`.trim(),
    );
  }
  const template = outDir ? path.join(outDir, 'cloudformation-template-update-stack.json') : TEMPLATE_PATH;
  if (!existsSync(template)) throw new Error(`osls package succeeded but ${template} is missing`);
  const tidy = dropImpliedDependsOn(JSON.parse(readFileSync(template, 'utf8')));
  writeFileSync(template, `${JSON.stringify(tidy, null, 2)}\n`);
  log(`template: ${path.relative(root, template)}  (stage ${stage}, region ${region})`);
  return template;
}

const HELP = `Usage: npm run package [-- --stage prod] [--region us-east-1] [--param name=value ...]

Zips dist/<fn>.mjs + .map per function into dist/artifacts/ and runs \`osls package\` offline (no AWS
credentials, no network). The CloudFormation template is written to
.serverless/cloudformation-template-update-stack.json. Parameters: see docs/DEPLOY.md.
Options:
  --stage name         stage (default prod)          --region name   region (default us-east-1)
  --param name=value   a deployment parameter (repeatable; see docs/DEPLOY.md); an unknown name or a value
                       the parameter does not allow stops here (exit 2) with the allowed values
  --zip-only           build the zips and stop (used by scripts/deploy.mjs)
  --out DIR            write the packaged template to DIR instead of .serverless/
  --artifacts DIR      zips in DIR instead of dist/artifacts/
  --skip-zip           use the zips already in the artifact directory`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      console.log(HELP);
    } else {
      if (!args.skipZip) buildArtifacts({ artifactDir: args.artifactDir });
      if (!args.zipOnly) packageService(args);
    }
  } catch (err) {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
