// CI's advisory audit of the lock file (.ci/run, `npm run audit:lockfile`): `npm audit --package-lock-only` over
// every package of package-lock.json, dev tools included (they build what ships; the bundled packages are
// devDependencies too, since nothing is installed at run time).
//
// Level: fails on a high or critical advisory; moderate and low ones are listed but do not fail (most concern
// build-time tools on inputs they never see here; a human reads the list). Where the registry does not answer
// the audit endpoint (no network, a mirror without it: the registry here answers 405), it prints one line
// saying the audit could NOT run and exits 0, or 1 when LOGS_KMS_GUARD_AUDIT_REQUIRED=1 (a release build).
//
//   node scripts/audit-lockfile.ts
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAIL_AT = ['high', 'critical'];

type Advisory = { title: string; url: string };
type AuditReport = {
  message?: string;
  error?: { summary?: string };
  vulnerabilities?: Record<
    string,
    { name: string; severity: string; range: string; via: (string | Advisory)[] }
  >;
  metadata?: { vulnerabilities?: Record<string, number> };
};

/** What CI prints and whether it fails, from `npm audit --json`'s output (and its exit status). */
export function auditVerdict(output: string, required = false): { failed: boolean; lines: string[] } {
  let report: AuditReport | undefined;
  try {
    report = JSON.parse(output);
  } catch {
    report = undefined;
  }
  const counts = report?.metadata?.vulnerabilities;
  if (!report?.vulnerabilities || !counts) {
    const why = report?.message ?? report?.error?.summary ?? (output.trim().split('\n')[0] || 'no answer');
    return {
      failed: required,
      lines: [
        `npm audit: COULD NOT RUN, the lock file's advisories were NOT checked: the registry did not answer the audit (${why})`,
      ],
    };
  }
  const listed = Object.values(report.vulnerabilities).map((v) => {
    const titles = v.via.flatMap((x) => (typeof x === 'object' ? [`${x.title} ${x.url}`] : []));
    const from = titles.length > 0 ? titles.join('; ') : `through ${v.via.join(', ')}`;
    return {
      severity: v.severity as string,
      line: `  ${v.severity}: ${v.name}${v.range ? ` ${v.range}` : ''}: ${from}`,
    };
  });
  const failing = listed.filter((v) => FAIL_AT.includes(v.severity));
  const summary = ['critical', 'high', 'moderate', 'low', 'info']
    .map((s) => `${counts[s] ?? 0} ${s}`)
    .join(', ');
  return {
    failed: failing.length > 0,
    lines: [
      `npm audit of package-lock.json (${counts.total ?? listed.length} vulnerable packages: ${summary}); fails on ${FAIL_AT.join(' or ')}: ${failing.length > 0 ? 'FAILED' : 'passed'}`,
      ...listed.map((v) => v.line),
    ],
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const npm = spawnSync(
    'npm',
    ['audit', '--package-lock-only', '--json', '--fetch-retries=0', '--fetch-timeout=60000'],
    { cwd: path.resolve(import.meta.dirname, '..'), encoding: 'utf8', timeout: 180_000 },
  );
  const output = npm.stdout || npm.stderr || String(npm.error ?? '');
  const verdict = auditVerdict(output, process.env.LOGS_KMS_GUARD_AUDIT_REQUIRED === '1');
  for (const line of verdict.lines) console.log(line);
  process.exitCode = verdict.failed ? 1 : 0;
}
