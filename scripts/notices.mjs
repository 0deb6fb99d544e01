// Third-party notices of one bundle, written at build time (scripts/build.mjs) beside it as
// dist/<bundle>.THIRD-PARTY-NOTICES.txt and shipped with it (npm package, function zips): the bundles inline their
// dependencies (legalComments: 'none'), so the licenses' notice conditions (MIT: the copyright and permission
// notice in every copy; Apache-2.0: a copy of the license and the NOTICE file) are met here.
//
// The packages are those esbuild's metafile says the bundle's output holds bytes of (tree-shaken files count
// for nothing). Each package's text is its own LICENSE/LICENCE/COPYING file(s) from node_modules and, when
// present, its NOTICE file(s); a package that ships no license file takes the text held in scripts/licenses/
// (`<name with / as +>.txt`, e.g. @middy/core ships none). scripts/check-supply-chain.ts checks the result.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const LICENSE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i;
const NOTICE_FILE = /^notice([.-].*)?$/i;
const RULE = '='.repeat(78);

/** The package directories (relative to the build's working directory) whose files put bytes in `output`. */
export function bundledPackageDirs(output) {
  const files = Object.entries(output.inputs).filter(([, { bytesInOutput }]) => bytesInOutput > 0);
  return packageDirsOf(files.map(([file]) => file));
}

/** The package directories of `files` (paths, some under node_modules), sorted. */
function packageDirsOf(files) {
  const dirs = new Set();
  for (const file of files) {
    const at = file.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const rest = file.slice(at + 'node_modules/'.length).split('/');
    const depth = rest[0]?.startsWith('@') ? 2 : 1;
    dirs.add(file.slice(0, at) + ['node_modules', ...rest.slice(0, depth)].join('/'));
  }
  return [...dirs].sort();
}

/** The one output of a single-entry build's metafile (the bundle, not its .map). */
export function bundleOutput(metafile) {
  const out = Object.values(metafile.outputs).find((o) => o.entryPoint);
  if (!out) throw new Error('the metafile has no output with an entry point');
  return out;
}

/** Texts of the files of `dir` whose names match `pattern`, in name order, each trimmed. */
function textsOf(dir, pattern) {
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8').trim());
}

/** The repository-held license text of a package that ships none (scripts/licenses/), or undefined. */
export function fallbackLicensePath(name, root) {
  const file = path.join(root, 'scripts', 'licenses', `${name.replace('/', '+')}.txt`);
  return existsSync(file) ? file : undefined;
}

/** name, version, license, license texts and notice texts of the package in `dir`. */
export function describePackage(dir, root) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
  let licenseTexts = textsOf(dir, LICENSE_FILE);
  if (licenseTexts.length === 0) {
    const fallback = fallbackLicensePath(pkg.name, root);
    if (fallback) licenseTexts = [readFileSync(fallback, 'utf8').trim()];
  }
  if (licenseTexts.length === 0) throw new Error(`${pkg.name}@${pkg.version} (${dir}) has no license text`);
  return {
    name: pkg.name,
    version: pkg.version,
    license,
    licenseTexts,
    noticeTexts: textsOf(dir, NOTICE_FILE),
  };
}

/** The notices file's text for `bundle` (e.g. "dist/enforce.mjs") holding the packages of `metafile`. */
export function noticesText({ bundle, metafile, root, product }) {
  const contained = bundledPackageDirs(bundleOutput(metafile));
  const packages = contained.map((d) => describePackage(path.join(root, d), root));
  // Resolved by esbuild but tree-shaken to nothing (e.g. @middy/util, bowser): not in the bundle, so not in the
  // SBOM; their notices are added at the end all the same, so a reader counting resolved inputs finds them too.
  const resolvedOnly = packageDirsOf(Object.keys(metafile.inputs))
    .filter((d) => !contained.includes(d))
    .map((d) => describePackage(path.join(root, d), root));
  const lines = [
    `THIRD-PARTY NOTICES: ${bundle} of ${product}`,
    '',
    `${bundle} bundles the ${packages.length} third-party packages below (its CycloneDX SBOM is`,
    `${bundle.replace(/\.mjs$/, '.cdx.json')}). Each one's license and notices follow, as the package ships them.`,
    '',
    ...packages.map((p) => `  ${p.name}@${p.version}  ${p.license}`),
  ];
  if (resolvedOnly.length > 0) {
    lines.push(
      '',
      'Resolved during the build but tree-shaken to nothing (no code of them is in the bundle; their',
    );
    lines.push('notices follow the others all the same):', '');
    lines.push(...resolvedOnly.map((p) => `  ${p.name}@${p.version}  ${p.license}`));
  }
  const given = new Map();
  const sections = [
    ...packages.map((p) => [p, 'Package']),
    ...resolvedOnly.map((p) => [p, 'Resolved, not bundled']),
  ];
  for (const [p, heading] of sections) {
    lines.push('', RULE, `${heading}: ${p.name}@${p.version}`, `License: ${p.license}`, RULE);
    for (const text of p.licenseTexts) {
      const first = given.get(text);
      if (first) lines.push('', `(License text identical to the one given above for ${first}.)`);
      else {
        given.set(text, `${p.name}@${p.version}`);
        lines.push('', text);
      }
    }
    for (const text of p.noticeTexts) lines.push('', '--- NOTICE ---', '', text);
  }
  return `${lines.join('\n')}\n`;
}
