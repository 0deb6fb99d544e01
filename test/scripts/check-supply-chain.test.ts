/**
 * scripts/check-supply-chain.ts, the CI check of what ships with each bundle: it passes on the built dist/
 * (whose SBOMs and notices scripts/build.mjs generated), and fails, naming the package, on doctored copies of it:
 * a bundled package missing from the SBOM or the notices, a GPL-licensed package in a bundle, an SBOM that says
 * GPL, a stale SBOM. Needs `npm run build` (npm test builds first; test/e2e/global-setup.ts builds a missing dist/).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLES, checkDist, licenseAllowed, loadAllowlist } from '../../scripts/check-supply-chain.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const script = path.join(root, 'scripts', 'check-supply-chain.ts');
const SUFFIXES = ['.mjs', '.meta.json', '.cdx.json', '.THIRD-PARTY-NOTICES.txt'];
const temps: string[] = [];

afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

/** The check as CI runs it, on `dist`. */
function runCheck(dist = path.join(root, 'dist')) {
  const r = spawnSync(process.execPath, [script, '--dist', dist], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the built dist/ (the files the check reads) in a temporary directory, to doctor. */
function distCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lkg-supply-'));
  temps.push(dir);
  for (const b of BUNDLES)
    for (const s of SUFFIXES) copyFileSync(path.join(root, 'dist', `${b}${s}`), path.join(dir, `${b}${s}`));
  return dir;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file: string, value: unknown) => writeFileSync(file, JSON.stringify(value));

describe('licenseAllowed', () => {
  it('takes the allow-list ids, OR when a branch is allowed, AND when every term is', () => {
    const allowed = loadAllowlist();
    expect(allowed).toEqual(['MIT', 'Apache-2.0', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD']);
    expect(licenseAllowed('MIT', allowed)).toBe(true);
    expect(licenseAllowed('(MIT OR GPL-3.0-only)', allowed)).toBe(true);
    expect(licenseAllowed('MIT AND GPL-3.0-only', allowed)).toBe(false);
    expect(licenseAllowed('GPL-3.0-only', allowed)).toBe(false);
    expect(licenseAllowed('AGPL-3.0-or-later', allowed)).toBe(false);
    expect(licenseAllowed('(none declared)', allowed)).toBe(false);
  });
});

describe('the built dist/', () => {
  it('passes: every bundled package is in its SBOM and notices, under an allowed license', () => {
    // Act
    const run = runCheck();

    // Assess
    expect(run.code, run.stderr).toBe(0);
    for (const b of BUNDLES) expect(run.stdout).toMatch(new RegExp(`dist/${b}\\.mjs: \\d+ bundled packages`));
    expect(run.stdout).toMatch(
      /resolved but tree-shaken to nothing \(not in the bundle, so not in its SBOM\): .*@middy\/util@/,
    );
  });

  it('lists exactly what each bundle contains: the SDK in all three, middy in the functions, commander in the CLI', () => {
    // Act
    const results = Object.fromEntries(checkDist().map((r) => [r.bundle, r.packages.map((p) => p.name)]));

    // Assess
    expect(results['dist/enforce.mjs']).toEqual(
      expect.arrayContaining(['@aws-sdk/client-kms', '@middy/core']),
    );
    expect(results['dist/sweep.mjs']).toEqual(expect.arrayContaining(['@aws-sdk/client-kms', '@middy/core']));
    expect(results['dist/cli.mjs']).toEqual(expect.arrayContaining(['commander', '@aws-sdk/client-sts']));
    // The progress line is the CLI's own since cli-progress was dropped: nothing of it may be left in the bundle.
    expect(results['dist/cli.mjs']).not.toContain('cli-progress');
    expect(results['dist/cli.mjs']).not.toContain('@middy/core');
    // Resolved by esbuild but tree-shaken to nothing: not contained, so not in the SBOM; the notices still
    // carry their license, after the bundled packages'.
    for (const names of Object.values(results)) expect(names).not.toContain('@middy/util');
    const shaken = checkDist()
      .find((r) => r.bundle === 'dist/enforce.mjs')
      ?.treeShaken.map((p) => p.name);
    expect(shaken).toEqual(expect.arrayContaining(['@middy/util', 'bowser']));
    const notices = readFileSync(path.join(root, 'dist', 'enforce.THIRD-PARTY-NOTICES.txt'), 'utf8');
    expect(notices).toMatch(/\nResolved, not bundled: @middy\/util@[\d.]+\n/);
    expect(notices).toMatch(/\nResolved, not bundled: bowser@[\d.]+\n/);
    for (const b of BUNDLES) {
      const sbom = readJson(path.join(root, 'dist', `${b}.cdx.json`));
      expect(sbom.components.length).toBe(results[`dist/${b}.mjs`]?.length);
      expect(sbom.components.every((c: any) => c.hashes?.[0]?.alg === 'SHA-512')).toBe(true);
    }
  });
});

describe('a doctored dist/ fails the check', () => {
  it('when a bundled package is missing from the SBOM', () => {
    // Prepare
    const dist = distCopy();
    const sbom = readJson(path.join(dist, 'enforce.cdx.json'));
    sbom.components = sbom.components.filter((c: any) => c.name !== 'core' || c.group !== '@middy');
    writeJson(path.join(dist, 'enforce.cdx.json'), sbom);

    // Act
    const run = runCheck(dist);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /dist\/enforce\.mjs: @middy\/core@[\d.]+ is bundled but missing from the SBOM/,
    );
  });

  it('when a bundled package is missing from the notices', () => {
    // Prepare
    const dist = distCopy();
    const file = path.join(dist, 'cli.THIRD-PARTY-NOTICES.txt');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/Package: commander@/, 'Package: (removed)'));

    // Act
    const run = runCheck(dist);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/dist\/cli\.mjs: commander@[\d.]+ is bundled but missing from the notices/);
  });

  it('when a GPL package is bundled (and is in neither the SBOM nor the notices)', () => {
    // Prepare: a GPL package whose file the metafile says put bytes in the bundle.
    const dist = distCopy();
    const pkg = path.join(dist, 'node_modules', 'gpl-thing');
    mkdirSync(pkg, { recursive: true });
    writeJson(path.join(pkg, 'package.json'), {
      name: 'gpl-thing',
      version: '1.0.0',
      license: 'GPL-3.0-only',
    });
    writeFileSync(path.join(pkg, 'LICENSE'), 'GNU GENERAL PUBLIC LICENSE Version 3');
    const meta = readJson(path.join(dist, 'sweep.meta.json'));
    const output: any = Object.values(meta.outputs).find((o: any) => o.entryPoint);
    output.inputs[path.join(pkg, 'index.js')] = { bytesInOutput: 120 };
    writeJson(path.join(dist, 'sweep.meta.json'), meta);

    // Act
    const run = runCheck(dist);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'dist/sweep.mjs: gpl-thing@1.0.0 is licensed GPL-3.0-only, outside the allow-list',
    );
    expect(run.stderr).toContain('dist/sweep.mjs: gpl-thing@1.0.0 is bundled but missing from the SBOM');
    expect(run.stderr).toContain('dist/sweep.mjs: gpl-thing@1.0.0 is bundled but missing from the notices');
    expect(run.stdout).toContain('dist/enforce.mjs: '); // the other bundles still pass
  });

  it('when the SBOM gives a package a license outside the allow-list', () => {
    // Prepare
    const dist = distCopy();
    const sbom = readJson(path.join(dist, 'cli.cdx.json'));
    const commander = sbom.components.find((c: any) => c.name === 'commander');
    commander.licenses = [{ license: { id: 'GPL-2.0-or-later' } }];
    writeJson(path.join(dist, 'cli.cdx.json'), sbom);

    // Act
    const run = runCheck(dist);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /the SBOM says commander@[\d.]+ is licensed GPL-2\.0-or-later, outside the allow-list/,
    );
  });

  it('when the SBOM lists a package the bundle lacks, or describes another bundle', () => {
    // Prepare
    const dist = distCopy();
    const sbom = readJson(path.join(dist, 'enforce.cdx.json'));
    sbom.components.push({ name: 'left-pad', version: '1.3.0', hashes: [{ alg: 'SHA-512', content: 'ab' }] });
    writeJson(path.join(dist, 'enforce.cdx.json'), sbom);
    writeFileSync(
      path.join(dist, 'sweep.mjs'),
      `${readFileSync(path.join(dist, 'sweep.mjs'), 'utf8')}\n// changed`,
    );

    // Act
    const run = runCheck(dist);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'dist/enforce.mjs: the SBOM lists left-pad@1.3.0, which the bundle does not contain',
    );
    expect(run.stderr).toContain("dist/sweep.mjs: the SBOM's SHA-256 is not the bundle's");
  });
});
