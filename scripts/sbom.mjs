// Completes the CycloneDX SBOM @cyclonedx/cyclonedx-esbuild writes for each bundle (scripts/build.mjs) with what
// the plugin leaves out: hashes. Each component gets the SHA-512 of its registry tarball, taken from the
// lock file's `integrity` (what `npm ci` verified when it installed the files that were bundled); the main
// component (this project) gets the SHA-256 of the bundle file the SBOM describes, and a property naming it.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `{ "name@version": "sha512 hex" }` from a package-lock.json (lockfileVersion 2 or 3). */
export function lockHashes(lock) {
  const out = {};
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    const at = key.lastIndexOf('node_modules/');
    if (at < 0 || !entry.version || !entry.integrity?.startsWith('sha512-')) continue;
    const name = entry.name ?? key.slice(at + 'node_modules/'.length);
    out[`${name}@${entry.version}`] = Buffer.from(entry.integrity.slice(7), 'base64').toString('hex');
  }
  return out;
}

/** The full npm name of a CycloneDX component (group/name). */
export function componentName(c) {
  return c.group ? `${c.group}/${c.name}` : c.name;
}

/**
 * Adds the hashes to the SBOM at `sbomPath` (in place): throws when a component has no lock-file integrity,
 * so no SBOM ships with a component whose origin cannot be checked.
 */
export function completeSbom({ sbomPath, bundlePath, lockPath }) {
  const bom = JSON.parse(readFileSync(sbomPath, 'utf8'));
  const hashes = lockHashes(JSON.parse(readFileSync(lockPath, 'utf8')));
  for (const c of bom.components ?? []) {
    const hex = hashes[`${componentName(c)}@${c.version}`];
    if (!hex) throw new Error(`${componentName(c)}@${c.version} has no sha512 integrity in ${lockPath}`);
    c.hashes = [{ alg: 'SHA-512', content: hex }];
  }
  const bundle = readFileSync(bundlePath);
  const main = bom.metadata.component;
  main.hashes = [{ alg: 'SHA-256', content: createHash('sha256').update(bundle).digest('hex') }];
  main.properties = [
    ...(main.properties ?? []),
    { name: 'logs-kms-guard:bundle', value: path.basename(bundlePath) },
  ];
  writeFileSync(sbomPath, `${JSON.stringify(bom, null, 2)}\n`);
  return bom;
}
