// The check CI runs on the built output (test/scripts/check-supply-chain.test.ts): for each bundle in dist/, every
// third-party package it contains is in its SBOM (dist/<b>.cdx.json) with its version and a hash, has its
// license text and NOTICE files in its notices (dist/<b>.THIRD-PARTY-NOTICES.txt), and carries a license of the
// allow-list (scripts/license-allowlist.json); the SBOM names no package the bundle does not contain, and
// describes this very bundle (its SHA-256).
//
// The inventory it compares against is its own, not the generators' (the SBOM plugin, scripts/notices.mjs):
// esbuild's metafile of the build (dist/<b>.meta.json), the output's inputs that put bytes in the bundle, under
// node_modules, mapped to their package directories; each package's name, version, license and license files
// are read from node_modules here.
//
//   node scripts/check-supply-chain.ts [--dist DIR]     exit 0 when complete, 1 with one line per problem
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BUNDLES = ['enforce', 'changes', 'sweep', 'findings', 'cli'];
const ALLOWLIST = path.join(ROOT, 'scripts', 'license-allowlist.json');

/** What the check knows of one bundled package, read from node_modules. */
export interface PackageFacts {
  name: string;
  version: string;
  license: string;
  /** LICENSE/LICENCE/COPYING files, or the text held in scripts/licenses/ for a package that ships none. */
  licenseTexts: string[];
  noticeTexts: string[];
}

type Metafile = {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
};
type Sbom = {
  metadata?: { component?: { hashes?: { alg: string; content: string }[] } };
  components?: {
    group?: string;
    name: string;
    version: string;
    hashes?: { alg: string; content: string }[];
    licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
  }[];
};

/** The allow-list of scripts/license-allowlist.json. */
export function loadAllowlist(file = ALLOWLIST): string[] {
  return JSON.parse(readFileSync(file, 'utf8')).allowed;
}

/** Whether an SPDX id or simple expression is allowed: an OR passes when one branch does, an AND when all do. */
export function licenseAllowed(expression: string, allowed: readonly string[]): boolean {
  const e = expression.trim().replace(/^\((.*)\)$/, '$1');
  if (/ OR /i.test(e)) return e.split(/ OR /i).some((b) => licenseAllowed(b, allowed));
  if (/ AND /i.test(e)) return e.split(/ AND /i).every((t) => licenseAllowed(t, allowed));
  return allowed.includes(e);
}

/** The package directories (as the metafile spells them) whose files put bytes in the bundle. */
export function bundledPackages(metafile: Metafile): string[] {
  const bundle = Object.values(metafile.outputs).find((o) => o.entryPoint);
  if (!bundle) throw new Error('metafile: no output with an entry point');
  const dirs = new Set<string>();
  for (const [file, { bytesInOutput }] of Object.entries(bundle.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m?.[1] && bytesInOutput > 0) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

/** Packages esbuild resolved (metafile inputs) that put nothing in the bundle: tree-shaken, not shipped. */
export function treeShakenPackages(metafile: Metafile & { inputs: Record<string, unknown> }): string[] {
  const contained = new Set(bundledPackages(metafile));
  const dirs = new Set<string>();
  for (const file of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m?.[1] && !contained.has(m[1])) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

function texts(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .map((f) => readFileSync(path.join(dir, f), 'utf8').trim());
}

/** Name, version, license and license/NOTICE texts of the package in `dir` (relative to `root`). */
export function readPackageFacts(dir: string, root = ROOT): PackageFacts {
  const abs = path.resolve(root, dir);
  const pkg = JSON.parse(readFileSync(path.join(abs, 'package.json'), 'utf8'));
  const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? '(none declared)');
  let licenseTexts = texts(abs, /^(licen[cs]e|copying)([.-].*)?$/i);
  const held = path.join(root, 'scripts', 'licenses', `${String(pkg.name).replace('/', '+')}.txt`);
  if (licenseTexts.length === 0 && existsSync(held)) licenseTexts = [readFileSync(held, 'utf8').trim()];
  return {
    name: pkg.name,
    version: pkg.version,
    license,
    licenseTexts,
    noticeTexts: texts(abs, /^notice([.-].*)?$/i),
  };
}

/** The license ids/expressions an SBOM component declares. */
function sbomLicenses(c: NonNullable<Sbom['components']>[number]): string[] {
  return (c.licenses ?? []).map((l) => l.expression ?? l.license?.id ?? l.license?.name ?? '(unnamed)');
}

/** Every problem of one bundle, as a line each (empty when complete). */
export function checkBundle(input: {
  bundle: string;
  packages: PackageFacts[];
  sbom: Sbom;
  notices: string;
  bundleSha256: string;
  allowed: readonly string[];
}): string[] {
  const { bundle, packages, sbom, notices, allowed } = input;
  const problems: string[] = [];
  const components = new Map(
    (sbom.components ?? []).map((c) => [`${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`, c]),
  );
  const contained = new Set(packages.map((p) => `${p.name}@${p.version}`));
  for (const p of packages) {
    const id = `${p.name}@${p.version}`;
    const c = components.get(id);
    if (!c) problems.push(`${bundle}: ${id} is bundled but missing from the SBOM`);
    else if (!c.hashes?.some((h) => h.content)) problems.push(`${bundle}: ${id} has no hash in the SBOM`);
    if (!licenseAllowed(p.license, allowed)) {
      problems.push(
        `${bundle}: ${id} is licensed ${p.license}, outside the allow-list (${allowed.join(', ')})`,
      );
    }
    for (const l of c ? sbomLicenses(c) : []) {
      if (!licenseAllowed(l, allowed))
        problems.push(`${bundle}: the SBOM says ${id} is licensed ${l}, outside the allow-list`);
    }
    if (!notices.includes(`Package: ${id}\n`))
      problems.push(`${bundle}: ${id} is bundled but missing from the notices`);
    else if (p.licenseTexts.length === 0)
      problems.push(`${bundle}: ${id} ships no license text (see scripts/licenses/)`);
    else if (!p.licenseTexts.every((t) => notices.includes(t)))
      problems.push(`${bundle}: the notices lack ${id}'s license text`);
    if (!p.noticeTexts.every((t) => notices.includes(t)))
      problems.push(`${bundle}: the notices lack ${id}'s NOTICE file`);
  }
  for (const id of components.keys()) {
    if (!contained.has(id))
      problems.push(`${bundle}: the SBOM lists ${id}, which the bundle does not contain`);
  }
  const described = sbom.metadata?.component?.hashes?.find((h) => h.alg === 'SHA-256')?.content;
  if (described !== input.bundleSha256)
    problems.push(`${bundle}: the SBOM's SHA-256 is not the bundle's (stale SBOM?)`);
  return problems;
}

/** Checks every built bundle of `dist`; returns each one's package count and problems. */
export function checkDist({ dist = path.join(ROOT, 'dist'), root = ROOT, allowed = loadAllowlist() } = {}) {
  return BUNDLES.map((b) => {
    const file = (suffix: string) => path.join(dist, `${b}${suffix}`);
    const bundle = `dist/${b}.mjs`;
    const missing = ['.mjs', '.meta.json', '.cdx.json', '.THIRD-PARTY-NOTICES.txt'].filter(
      (s) => !existsSync(file(s)),
    );
    if (missing.length > 0) {
      return {
        bundle,
        packages: [],
        treeShaken: [],
        problems: [`${bundle}: ${missing.map((s) => `${b}${s}`).join(', ')} missing (npm run build)`],
      };
    }
    const metafile = JSON.parse(readFileSync(file('.meta.json'), 'utf8'));
    const packages = bundledPackages(metafile).map((d) => readPackageFacts(d, root));
    const problems = checkBundle({
      bundle,
      packages,
      sbom: JSON.parse(readFileSync(file('.cdx.json'), 'utf8')),
      notices: readFileSync(file('.THIRD-PARTY-NOTICES.txt'), 'utf8'),
      bundleSha256: createHash('sha256')
        .update(readFileSync(file('.mjs')))
        .digest('hex'),
      allowed,
    });
    const treeShaken = treeShakenPackages(metafile).map((d) => readPackageFacts(d, root));
    return { bundle, packages, treeShaken, problems };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const given = process.argv[process.argv.indexOf('--dist') + 1];
  const dist = process.argv.includes('--dist') && given ? path.resolve(given) : undefined;
  const results = checkDist(dist ? { dist } : {});
  for (const r of results) {
    if (r.problems.length === 0) {
      console.log(
        `${r.bundle}: ${r.packages.length} bundled packages, all in the SBOM and the notices, all licenses allowed`,
      );
    }
    if (r.treeShaken.length > 0) {
      const names = r.treeShaken.map((p) => `${p.name}@${p.version}`).join(', ');
      console.log(`  resolved but tree-shaken to nothing (not in the bundle, so not in its SBOM): ${names}`);
    }
    for (const p of r.problems) console.error(`supply-chain check FAILED: ${p}`);
  }
  process.exitCode = results.some((r) => r.problems.length > 0) ? 1 : 0;
}
