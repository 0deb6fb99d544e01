/**
 * The npm package as a user installs it: `npm pack` of the built dist/, installed from the tarball into an
 * empty folder with no registry and an empty npm cache, then `npx logs-kms-guard` on every Node the package
 * supports (the machine's Node 20 when it has one, the project's Node 22), against the in-process emulator;
 * and what the tarball holds.
 *
 * It packs with --ignore-scripts: prepack would rebuild dist/, which other test files read concurrently (the
 * build empties dist/ first). So dist/ must be built already: `npm test` builds before vitest.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import { startEmulator } from '../../local/emulator/server.ts';
import { handlerEnv, REGION } from '../../local/world.ts';

const root = join(import.meta.dirname, '..', '..');
const BUNDLES = ['dist/cli.mjs', 'dist/enforce.mjs', 'dist/sweep.mjs'];

/** Exactly what the tarball holds (package.json `files` + what npm always adds). */
const EXPECTED_FILES = [
  'CHANGELOG.md',
  'LICENSE',
  'README.md',
  // Each bundle ships with its CycloneDX SBOM and its third-party notices (scripts/build.mjs); not the
  // metafiles they are made from (dist/*.meta.json).
  // The changes function: what happens after creation and the guard key, off the event path (docs/DEPLOY.md).
  'dist/changes.THIRD-PARTY-NOTICES.txt',
  'dist/changes.cdx.json',
  'dist/changes.mjs',
  'dist/changes.mjs.map',
  'dist/cli.THIRD-PARTY-NOTICES.txt',
  'dist/cli.cdx.json',
  'dist/cli.mjs',
  // The Lambda bundles' maps: scripts/package.mjs zips each bundle with its map (the functions run with
  // --enable-source-maps). The CLI has none (build.mjs).
  'dist/enforce.THIRD-PARTY-NOTICES.txt',
  'dist/enforce.cdx.json',
  'dist/enforce.mjs',
  'dist/enforce.mjs.map',
  // The findings function (issue 22): Security Hub, off the enforce function's cold start.
  'dist/findings.THIRD-PARTY-NOTICES.txt',
  'dist/findings.cdx.json',
  'dist/findings.mjs',
  'dist/findings.mjs.map',
  'dist/sweep.THIRD-PARTY-NOTICES.txt',
  'dist/sweep.cdx.json',
  'dist/sweep.mjs',
  'dist/sweep.mjs.map',
  'docs/CLI.md',
  'docs/DEPLOY.md',
  'docs/EVENTS.md',
  'docs/events.schema.json',
  // Deployment from the package: the template, what it includes at package time (infra/sls), the zipper, and
  // the organization StackSet tools.
  'infra/artifact-bucket.yml',
  'infra/cli-policies.mjs',
  'infra/deployer-policy.mjs',
  'infra/publish.mjs',
  'infra/scp-protect-log-keys.mjs',
  'infra/sls/dashboard.cjs',
  'infra/sls/findings.cjs',
  'infra/sls/findings.yml',
  'infra/sls/sweep.cjs',
  'infra/sls/sweep.yml',
  'infra/stackset.mjs',
  'package.json',
  'scripts/package-params.mjs',
  'scripts/package.mjs',
  'serverless.yml',
];
// Raised for the findings function's bundle and map (issue 22): 1.25 MiB packed / 1.28 MiB after it. Raised
// again for the changes function's bundle and map (the enforce function split in two): 1.61 MiB packed.
const MAX_TARBALL_BYTES = 2 * 1024 * 1024; // 0.80 MiB when written
const MAX_UNPACKED_BYTES = 8 * 1024 * 1024; // 3.1 MiB when written; 6.54 MiB with the changes bundle and its map

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous on purpose: the emulator answers from this process's event loop. */
function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const show = (r: Result) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** An executable named `name` on PATH (or in the usual places), not one of a node_modules/.bin. */
function findOnPath(name: string, accept: (file: string) => boolean = () => true): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir || dir.includes('node_modules')) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
    } catch {
      continue;
    }
    const real = realpathSync(file);
    if (accept(real)) return real;
  }
  return undefined;
}

function nodeVersion(node: string): string {
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

// The Nodes to run the installed CLI on: the machine's Node 20 (skipped, loudly, when it has none) and the
// project's pinned Node 22 (the `node` dev dependency).
const systemNode20 = findOnPath(
  'node',
  (f) => !f.includes('/node_modules/') && /^v20\./.test(nodeVersion(f)),
);
const projectNode = join(root, 'node_modules', '.bin', 'node');
const node22 = existsSync(projectNode) ? realpathSync(projectNode) : undefined;
const npmCli = findOnPath('npm');
const npxCli = findOnPath('npx');
if (!systemNode20) {
  console.warn(
    '\n[test/e2e/package] WARNING: no system Node 20 found on PATH (outside node_modules): the Node 20 half of the ' +
      'package test is SKIPPED. CI machines have one; install Node 20 to run it here.\n',
  );
}

let tmp: string;
let home: string;
let installDir: string;
let tarball: string;
let packed: { size: number; unpackedSize: number; entryCount: number; files: { path: string }[] };
let installResult: Result;
let emulator: Emulator;
let org: OrgEmulator;
let keyArn: string;

/** A clean environment: no inherited npm_* variables (they would point npm at the repo), no AWS config. */
function cleanEnv(node: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    // The chosen node's directory first (/usr/bin, or node_modules/node/bin: the real file behind
    // node_modules/.bin/node, with no other bin beside it): npx runs the bin through `#!/usr/bin/env node`.
    PATH: [dirname(node), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    npm_config_cache: join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

describe('the npm package (npm pack, installed from the tarball)', () => {
  beforeAll(async () => {
    const missing = BUNDLES.filter((b) => !existsSync(join(root, b)));
    if (missing.length > 0) {
      throw new Error(
        `${missing.join(', ')} not built: run \`npm run build\` first (\`npm test\` builds before vitest; ` +
          'this test packs with --ignore-scripts and does not build, other test files read dist/ meanwhile)',
      );
    }
    if (!npmCli || !npxCli) throw new Error('npm/npx not found on PATH');
    if (!node22)
      throw new Error('node_modules/.bin/node (the `node` dev dependency) is missing: run `npm ci`');
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'lkg-pack-')));
    home = join(tmp, 'home');
    installDir = join(tmp, 'install');
    mkdirSync(home);
    mkdirSync(installDir);
    const installer = systemNode20 ?? node22;

    const pack = await run(
      installer,
      [npmCli, 'pack', '--ignore-scripts', '--json', '--pack-destination', tmp],
      { cwd: root, env: cleanEnv(installer), timeoutMs: 30_000 },
    );
    if (pack.code !== 0) throw new Error(`npm pack failed: ${show(pack)}`);
    const json = JSON.parse(pack.stdout) as (typeof packed & { filename: string })[];
    packed = json[0] as typeof packed & { filename: string };
    tarball = join(tmp, (json[0] as { filename: string }).filename);

    // --offline with an empty cache: anything the package needed from the registry would fail the install.
    installResult = await run(
      installer,
      [npmCli, 'install', '--offline', '--no-audit', '--no-fund', tarball],
      {
        cwd: installDir,
        env: cleanEnv(installer),
        timeoutMs: 30_000,
      },
    );
    if (installResult.code !== 0)
      throw new Error(`npm install of the tarball failed: ${show(installResult)}`);

    emulator = await startEmulator();
    keyArn = emulator.state.createKeyDirect(REGION).arn;
    for (const name of ['/pack/app-1', '/pack/app-2', '/pack/app-3', 'aws/spans']) {
      emulator.state.putLogGroup(REGION, name);
    }
    emulator.state.putLogGroup(REGION, '/pack/own-key', { kmsKeyId: keyArn });
    // An organization: the management account, a member, and a member whose role refuses.
    org = await startOrgEmulator({
      management: '111111111111',
      accounts: [
        { id: '222222222222', name: 'member' },
        { id: '333333333333', name: 'locked', refuseRole: true },
      ],
    });
    for (const [account, groups] of [
      ['111111111111', 2],
      ['222222222222', 3],
    ] as const) {
      for (let i = 0; i < groups; i++) org.account(account).state.putLogGroup(REGION, `/org/${account}-${i}`);
    }
  }, 60_000);

  afterAll(async () => {
    await emulator?.stop();
    await org?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('holds the bundles, the deployment template, docs, README, LICENSE: nothing else', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual(EXPECTED_FILES);
    expect(files.filter((f) => /\.(ts|mts|cts)$/.test(f))).toEqual([]);
    expect(
      files.filter((f) => /^(test|local|functions|node_modules)\//.test(f) || f.includes('/node_modules/')),
    ).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([
      'dist/changes.mjs.map',
      'dist/enforce.mjs.map',
      'dist/findings.mjs.map',
      'dist/sweep.mjs.map',
    ]);
    expect(packed.size).toBeLessThan(MAX_TARBALL_BYTES);
    expect(packed.unpackedSize).toBeLessThan(MAX_UNPACKED_BYTES);
  });

  it('installs offline and pulls nothing: no dependencies, Node >= 20, the bin', () => {
    const installed = join(installDir, 'node_modules');
    expect(readdirSync(installed).filter((f) => !f.startsWith('.'))).toEqual(['logs-kms-guard']);
    expect(installResult.stderr).not.toMatch(/EBADENGINE|deprecated/i);
    const manifest = JSON.parse(readFileSync(join(installed, 'logs-kms-guard', 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ 'logs-kms-guard': 'dist/cli.mjs' });
    expect(manifest.engines.node).toMatch(/^>=20(\.|$)/);
    expect(manifest.private).toBeUndefined();
    // The build-time constant (esbuild in the bundles, vitest `define` here) is the version that was packed.
    expect(__LOGS_KMS_GUARD_VERSION__).toBe(manifest.version);
  });

  const nodes = [
    { label: 'the system Node 20', node: systemNode20 },
    { label: "the project's Node 22 (node_modules/.bin/node)", node: node22 },
  ];
  for (const { label, node } of nodes) {
    describe.skipIf(!node)(
      `npx logs-kms-guard on ${label}${node ? '' : ': SKIPPED, not on this machine'}`,
      () => {
        const npx = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
          run(node as string, [npxCli as string, '--no-install', 'logs-kms-guard', ...args], {
            cwd: installDir,
            env: cleanEnv(node as string, extra),
          });

        it('runs the bin on that Node', async () => {
          const r = await run('sh', ['-c', 'node --version'], {
            cwd: installDir,
            env: cleanEnv(node as string),
          });
          expect(r.stdout.trim()).toBe(nodeVersion(node as string));
        });

        it('--help: exit 0 and the usage', async () => {
          const r = await npx(['--help']);
          expect(r.code, show(r)).toBe(0);
          expect(r.stdout).toContain('Usage: logs-kms-guard');
          for (const command of ['audit', 'enforce', 'rollback', 'doctor'])
            expect(r.stdout).toContain(command);
          expect(r.stderr).not.toMatch(/Warning/);
        });

        it('audit --org --json against an organization: every account, the refusing one failed, incomplete (exit 3)', async () => {
          const r = await npx(
            ['audit', '--org', '--region', REGION, '--json', '-q'],
            handlerEnv(org, REGION),
          );
          expect(r.code, show(r)).toBe(3);
          const report = JSON.parse(r.stdout);
          expect(
            report.pairs.map((p: { account: string; status: string; counts: { listed: number } }) => [
              p.account,
              p.status,
              p.counts.listed,
            ]),
          ).toEqual([
            ['111111111111', 'done', 2],
            ['222222222222', 'done', 3],
            // A refused role is a failure of the run (was `skipped`, like a suspended account: issue 20).
            ['333333333333', 'failed', 0],
          ]);
          expect(report.complete).toBe(false);
          expect(report.errors.map((e: { account: string }) => e.account)).toEqual(['333333333333']);
          expect(report.totals).toMatchObject({ candidates: 5, complete: false });
        });

        it('audit against an endpoint that refuses connections: incomplete in every format, exit 3', async () => {
          const endpoint = 'http://127.0.0.1:1';
          const env = { ...handlerEnv(emulator, REGION), AWS_ENDPOINT_URL: endpoint };
          for (const format of ['json', 'csv', 'table']) {
            const r = await npx(['audit', '--region', REGION, '--format', format], env);
            expect(r.code, show(r)).toBe(3);
            expect(r.stderr).toMatch(/INCOMPLETE: 1 of 1 account-region\(s\) not audited/);
            expect(r.stderr).toContain(`AWS_ENDPOINT_URL=${endpoint}`);
            expect(r.stderr).not.toMatch(/resume with/);
            if (format === 'json') expect(JSON.parse(r.stdout)).toMatchObject({ complete: false });
            else expect(r.stdout).toMatch(/INCOMPLETE/);
          }
        }, 120_000);

        it('audit --json against the emulator: the seeded groups, exit 1 (findings)', async () => {
          const r = await npx(['audit', '--region', REGION, '--json'], handlerEnv(emulator, REGION));
          // 3 groups in scope without a key: findings.
          expect(r.code, show(r)).toBe(1);
          // The AWS SDK's Node 20 deprecation warning is kept off the CLI's stderr (scripts/esbuild-options.mjs).
          expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|ExperimentalWarning/);
          const report = JSON.parse(r.stdout);
          expect(report.regions).toEqual([REGION]);
          expect(report.totals).toMatchObject({
            listed: 5,
            noKey: 4,
            otherKey: 1,
            guardKey: 0,
            reserved: 1,
            candidates: 3,
            failed: 0,
          });
          const groups = report.groups as { logGroup: string; keyState: string; kmsKeyId: string }[];
          expect(groups.map((g) => g.logGroup).sort()).toEqual([
            '/pack/app-1',
            '/pack/app-2',
            '/pack/app-3',
            '/pack/own-key',
            'aws/spans',
          ]);
          expect(groups.find((g) => g.logGroup === '/pack/own-key')).toMatchObject({
            keyState: 'other-key',
            kmsKeyId: keyArn,
          });
        });
      },
    );
  }
});
