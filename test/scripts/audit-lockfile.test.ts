/**
 * scripts/audit-lockfile.ts, CI's `npm audit` of the lock file: the verdict from npm's JSON as a pure function,
 * and the script as CI runs it (real npm) against a fake registry that answers the audit with a high or a
 * moderate advisory for a package of the lock file, and against a registry that does not answer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditVerdict } from '../../scripts/audit-lockfile.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const script = path.join(root, 'scripts', 'audit-lockfile.ts');
const COMMANDER = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages[
  'node_modules/commander'
].version as string;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** npm audit's JSON with one advisory of `severity` on commander. */
function report(severity: string) {
  const counts = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, [severity]: 1, total: 1 };
  const advisory = { title: 'Prototype pollution', url: 'https://github.com/advisories/GHSA-x', severity };
  return JSON.stringify({
    vulnerabilities: { commander: { name: 'commander', severity, via: [advisory], range: '<99.0.0' } },
    metadata: { vulnerabilities: counts },
  });
}

/** A registry answering the bulk advisory endpoint with one `severity` advisory on commander. */
async function fakeRegistry(severity: string): Promise<string> {
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        const advisory = { id: 1, url: 'https://github.com/advisories/GHSA-x', title: 'Prototype pollution' };
        const entry = { ...advisory, severity, vulnerable_versions: '<99.0.0', cwe: [], cvss: { score: 0 } };
        res.end(JSON.stringify({ commander: [entry] }));
      } else {
        const name = decodeURIComponent(req.url?.slice(1) ?? '');
        res.end(JSON.stringify({ name, versions: { [COMMANDER]: { name, version: COMMANDER } } }));
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** The script as CI runs it, with npm pointed at `registry` and an empty cache (npm caches advisories). */
function runAudit(registry: string, env: Record<string, string> = {}) {
  const cache = mkdtempSync(path.join(tmpdir(), 'lkg-npm-cache-'));
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [script], {
      cwd: root,
      env: { ...process.env, npm_config_registry: registry, npm_config_cache: cache, ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => {
      rmSync(cache, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

describe('auditVerdict', () => {
  it('fails on a high or critical advisory, naming it', () => {
    for (const severity of ['high', 'critical']) {
      const verdict = auditVerdict(report(severity));
      expect(verdict.failed).toBe(true);
      expect(verdict.lines[0]).toContain('FAILED');
      expect(verdict.lines).toContain(
        `  ${severity}: commander <99.0.0: Prototype pollution https://github.com/advisories/GHSA-x`,
      );
    }
  });

  it('lists moderate and low advisories without failing', () => {
    const verdict = auditVerdict(report('moderate'));
    expect(verdict.failed).toBe(false);
    expect(verdict.lines[0]).toMatch(/1 moderate.*passed$/);
    expect(verdict.lines[1]).toContain('moderate: commander');
  });

  it('says it could not run when the registry does not answer; fails then only when required', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry/-/npm/v1/security',
    });
    for (const output of [refused, '', 'npm error network']) {
      const verdict = auditVerdict(output);
      expect(verdict.failed).toBe(false);
      expect(verdict.lines).toHaveLength(1);
      expect(verdict.lines[0]).toMatch(
        /^npm audit: COULD NOT RUN, the lock file's advisories were NOT checked/,
      );
    }
    expect(auditVerdict(refused).lines[0]).toContain('405 Method Not Allowed');
    expect(auditVerdict(refused, true).failed).toBe(true);
  });
});

describe('npm run audit:lockfile', () => {
  it('fails CI on a high advisory the registry reports', async () => {
    const run = await runAudit(await fakeRegistry('high'));
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain('fails on high or critical: FAILED');
    expect(run.out).toContain('high: commander');
  }, 60_000);

  it('passes on a moderate one, listing it', async () => {
    const run = await runAudit(await fakeRegistry('moderate'));
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('passed');
    expect(run.out).toContain('moderate: commander');
  }, 60_000);

  it('says it could not run when the registry refuses connections (exit 1 when required)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));

    const run = await runAudit(`http://127.0.0.1:${port}/`);
    const required = await runAudit(`http://127.0.0.1:${port}/`, { LOGS_KMS_GUARD_AUDIT_REQUIRED: '1' });

    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/^npm audit: COULD NOT RUN, the lock file's advisories were NOT checked/);
    expect(required.code).toBe(1);
  }, 60_000);
});
