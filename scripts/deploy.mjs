// Deploys the guard to one or more regions of the current account, one region after the other.
//
//   npm run deploy -- --regions us-east-1,eu-west-1 [--stage prod] [--param name=value ...] [--dry-run]
//
// Events and keys are regional, so every region that should be guarded needs its own stack. The bundles are
// built and zipped once; then `osls deploy` runs per region with the caller's usual AWS credentials
// (environment, profile or SSO: whatever the AWS SDK finds). The first failure stops the run and says which
// regions are done and which are not, so a rerun with the remaining regions picks up from there.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateParams } from './package-params.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

export const HELP = `Usage: npm run deploy -- --regions <r1,r2,...> [--stage prod] [--param name=value ...] [--dry-run]

Deploys logs-kms-guard to each region in turn with \`osls deploy\`, using your AWS credentials.
Stops at the first region that fails.

Options:
  --regions r1,r2     regions to deploy to (required), e.g. us-east-1,eu-west-1
  --stage name        stage name (default: prod); part of the stack and function names
  --param name=value  a deployment parameter, repeatable (see docs/DEPLOY.md), e.g.
                      --param alarmEmail=ops@example.com --param exclude=/aws/lambda/noisy-
  --profile name      AWS profile to use (passed to osls)
  --dry-run           print the commands, run nothing
  -h, --help          this help

Example:
  npm run deploy -- --regions us-east-1,eu-west-1 --param alarmEmail=ops@example.com`;

/** The command line as { regions, stage, params, profile, dryRun, help }; throws with a message on a bad one. */
export function parseArgs(argv) {
  const out = { regions: [], stage: 'prod', params: [], profile: undefined, dryRun: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--regions':
      case '--region':
        out.regions.push(
          ...value()
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
        );
        break;
      case '--stage':
        out.stage = value();
        break;
      case '--param':
        out.params.push(value());
        break;
      case '--profile':
        out.profile = value();
        break;
      case '--dry-run':
        out.dryRun = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new Error(`unknown argument: ${arg} (see --help)`);
    }
  }
  if (out.help) return out;
  if (out.regions.length === 0) throw new Error('--regions is required, e.g. --regions us-east-1,eu-west-1');
  for (const r of out.regions) {
    if (!REGION.test(r)) throw new Error(`not a region name: "${r}"`);
  }
  if (new Set(out.regions).size !== out.regions.length) throw new Error('--regions lists a region twice');
  if (!/^[a-zA-Z0-9-]{1,16}$/.test(out.stage))
    throw new Error(`--stage must be 1-16 of [a-zA-Z0-9-], got "${out.stage}"`);
  const problems = validateParams(out.params);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return out;
}

/** The commands a deployment runs, in order: build + zip once, then one `osls deploy` per region. */
export function plan(args) {
  const steps = [{ label: 'build', cmd: 'npm', args: ['run', 'build'] }];
  steps.push({ label: 'zip', cmd: 'node', args: ['scripts/package.mjs', '--zip-only'] });
  for (const region of args.regions) {
    const a = ['osls', 'deploy', '--stage', args.stage, '--region', region];
    if (args.profile) a.push('--aws-profile', args.profile);
    for (const p of args.params) a.push('--param', p);
    steps.push({ label: region, region, cmd: 'npx', args: a });
  }
  return steps;
}

function quote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A step as the shell line it runs, each argument quoted where it needs to be. */
export function display(step) {
  return [step.cmd, ...step.args].map(quote).join(' ');
}

/** Runs the plan's steps one after the other (or prints them on --dry-run); the exit code. */
export function run(args, { spawn = spawnSync, out = console.log, err = console.error } = {}) {
  const steps = plan(args);
  if (args.dryRun) {
    out(`# dry run: ${args.regions.length} region(s), stage ${args.stage}; nothing is executed`);
    for (const step of steps) out(display(step));
    return 0;
  }
  const done = [];
  for (const step of steps) {
    out(`\n▶ ${step.region ? `deploying to ${step.region}` : step.label}: ${display(step)}`);
    const result = spawn(step.cmd, step.args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
    });
    if (result.status !== 0) {
      const remaining = args.regions.filter((r) => !done.includes(r));
      err(
        `\n✖ ${step.region ? `deployment to ${step.region}` : step.label} failed (exit ${result.status ?? result.signal ?? result.error?.message}).` +
          (done.length ? ` Deployed: ${done.join(', ')}.` : ' Nothing was deployed.') +
          ` Not deployed: ${remaining.join(', ')}.` +
          `\n  Fix the cause above, then rerun with --regions ${remaining.join(',')}`,
      );
      return 1;
    }
    if (step.region) done.push(step.region);
  }
  out(`\n✔ deployed to ${done.join(', ')} (stage ${args.stage})`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`deploy: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(HELP);
  } else {
    process.exit(run(args));
  }
}
