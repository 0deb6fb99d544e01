/**
 * The function zips scripts/package.mjs builds (what Lambda runs, and what infra/publish.mjs uploads): each holds
 * its bundle, source map, CycloneDX SBOM and third-party notices at the root, nothing else, byte for byte the
 * dist/ files scripts/check-supply-chain.ts checks; and the SBOM inside describes the bundle inside.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
let dir: string;

/** name → content of every entry of a zip, read through its central directory. */
function unzip(bytes: Buffer): Map<string, Buffer> {
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const compressedSize = bytes.readUInt32LE(at + 20);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extra = bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataAt = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    out.set(name, inflateRawSync(bytes.subarray(dataAt, dataAt + compressedSize)));
    at += 46 + nameLength + extra;
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lkg-artifacts-'));
  const script = path.join(root, 'scripts', 'package.mjs');
  execFileSync(process.execPath, [script, '--zip-only', '--artifacts', dir], { cwd: root, stdio: 'pipe' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('function zips', () => {
  it('are built for every function (the findings function of issue 22, the changes function split from enforce)', () => {
    expect(readdirSync(dir).sort()).toEqual(['changes.zip', 'enforce.zip', 'findings.zip', 'sweep.zip']);
  });

  it.each(['enforce', 'changes', 'sweep', 'findings'])(
    '%s.zip holds the bundle, its map, SBOM and notices: nothing else',
    (fn) => {
      // Act
      const entries = unzip(readFileSync(path.join(dir, `${fn}.zip`)));

      // Assess
      expect([...entries.keys()]).toEqual([
        `${fn}.mjs`,
        `${fn}.mjs.map`,
        `${fn}.cdx.json`,
        `${fn}.THIRD-PARTY-NOTICES.txt`,
      ]);
      // The same files the npm package ships (package.json "files"), for the CLI's users to deploy
      const files: string[] = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).files;
      for (const [name, content] of entries) {
        expect(content.equals(readFileSync(path.join(root, 'dist', name))), name).toBe(true);
        expect(files, name).toContain(`dist/${name}`);
      }
      const sbom = JSON.parse(entries.get(`${fn}.cdx.json`)?.toString('utf8') ?? '{}');
      const bundle = entries.get(`${fn}.mjs`) ?? Buffer.alloc(0);
      expect(sbom.metadata.component.hashes).toEqual([
        { alg: 'SHA-256', content: createHash('sha256').update(bundle).digest('hex') },
      ]);
      expect(sbom.components.length).toBeGreaterThan(10);
      const notices = entries.get(`${fn}.THIRD-PARTY-NOTICES.txt`)?.toString('utf8') ?? '';
      for (const c of sbom.components) {
        expect(notices).toContain(`Package: ${c.group ? `${c.group}/` : ''}${c.name}@${c.version}\n`);
      }
    },
  );
});
