import cliProgress from 'cli-progress';
import { parseArn } from '../core/arn.ts';
import type { GroupReport, SweepCounts } from '../core/sweep/report.ts';
import type { Io } from './io.ts';

export type Format = 'table' | 'json' | 'csv' | 'html';

export const AUDIT_COLUMNS = [
  'account',
  'region',
  'logGroup',
  'keyState',
  'inScope',
  'kmsKeyId',
  'keyStatus',
  'note',
  'atRisk',
  'unreadableFrom',
  'keyPolicy',
] as const;

export interface AuditRow {
  /** The account of the log group (from its ARN). */
  account: string;
  region: string;
  logGroup: string;
  keyState: string;
  inScope: boolean;
  kmsKeyId: string;
  keyStatus: string;
  note: string;
  /** Why the group's data is at risk (`key-pending-deletion`, `key-disabled`, `key-policy-excludes-logs`), or ''. */
  atRisk: string;
  /** Key pending deletion: its DeletionDate (ISO 8601), from when the group's data is unreadable; or ''. */
  unreadableFrom: string;
  /** The key policy checked for CloudWatch Logs: `admits-logs`, `excludes-logs`, `unknown` (not readable), or ''. */
  keyPolicy: string;
}

/** The NOTE people read for a group at risk. */
export function riskNote(r: Pick<GroupReport, 'atRisk' | 'unreadableFrom'>): string {
  switch (r.atRisk) {
    case 'key-pending-deletion':
      return `at risk: key pending deletion${r.unreadableFrom ? `: unreadable from ${r.unreadableFrom.slice(0, 10)}` : ''}`;
    case 'key-disabled':
      return 'at risk: key disabled: unreadable until it is enabled';
    case 'key-policy-excludes-logs':
      return 'at risk: key policy does not admit CloudWatch Logs';
    default:
      return '';
  }
}

export function auditRow(r: GroupReport): AuditRow {
  return {
    account: parseArn(r.arn)?.account ?? '',
    region: r.region,
    logGroup: r.name,
    // AWS-reserved groups are shown as such: nobody can encrypt them, so they are not a gap.
    keyState: r.reserved ? 'reserved' : r.keyState,
    inScope: r.inScope,
    kmsKeyId: r.kmsKeyId ?? '',
    keyStatus: r.keyStatus ?? '',
    note: [
      riskNote(r),
      r.scopeReason ?? (r.keyState === 'no-key' && r.inScope ? 'unencrypted' : ''),
      r.keyPolicy === 'unknown' ? 'key policy not readable: not checked' : '',
    ]
      .filter(Boolean)
      .join('; '),
    atRisk: r.atRisk ?? '',
    unreadableFrom: r.unreadableFrom ?? '',
    keyPolicy: r.keyPolicy ?? '',
  };
}

function csvCell(value: unknown): string {
  const s = String(value ?? '');
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV header line. */
export function csvHeader(): string {
  return `${AUDIT_COLUMNS.join(',')}\n`;
}

/** One row as a CSV line (cells that a spreadsheet would read as a formula are quoted). */
export function csvLine(row: AuditRow): string {
  return `${AUDIT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\n`;
}

export function toCsv(rows: AuditRow[]): string {
  return csvHeader() + rows.map(csvLine).join('');
}

export function toTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n')}\n`;
}

export function auditTable(rows: AuditRow[]): string {
  return toTable(
    ['ACCOUNT', 'REGION', 'LOG GROUP', 'KEY STATE', 'IN SCOPE', 'KMS KEY', 'NOTE'],
    rows.map((r) => [
      r.account,
      r.region,
      r.logGroup,
      r.keyStatus && r.keyState === 'key-unusable' ? `key-unusable (${r.keyStatus})` : r.keyState,
      r.inScope ? 'yes' : 'no',
      r.kmsKeyId || '-',
      r.note,
    ]),
  );
}

/** The totals people read after an audit or a run. */
export function totalsText(c: SweepCounts, kind: 'audit' | 'enforce' | 'rollback', dryRun: boolean): string {
  const parts = [
    `${c.listed} log group(s) listed`,
    `${c.guardKey} on the guard key`,
    `${c.otherKey} on another key`,
    ...(c.keyUnusable ? [`${c.keyUnusable} on an unusable key`] : []),
    `${c.noKey} without a key`,
    `${c.outOfScope} out of scope`,
    ...(c.reserved ? [`${c.reserved} reserved for AWS (not encryptable)`] : []),
  ];
  if (kind === 'audit') parts.push(`${c.candidates} unencrypted in scope`, `${c.atRisk ?? 0} at risk`);
  if (kind === 'enforce') {
    parts.push(dryRun ? `${c.wouldEncrypt} would be encrypted` : `${c.encrypted} encrypted`);
  }
  if (kind === 'rollback') {
    parts.push(dryRun ? `${c.wouldDisassociate} would be disassociated` : `${c.disassociated} disassociated`);
  }
  if (c.gone) parts.push(`${c.gone} gone meanwhile`);
  if (c.failed) parts.push(`${c.failed} failed`);
  return parts.join(', ');
}

/** Progress on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise. */
export interface Progress {
  update(region: string, counts: SweepCounts): void;
  stop(): void;
}

export function makeProgress(io: Io, options: { enabled: boolean; verb: string }): Progress {
  if (!options.enabled) return { update() {}, stop() {} };
  const now = () => io.clock?.now() ?? Date.now();
  const done = (c: SweepCounts) =>
    c.encrypted + c.wouldEncrypt + c.disassociated + c.wouldDisassociate + c.failed + c.gone;
  const todo = (c: SweepCounts) => (options.verb === 'disassociated' ? c.guardKey : c.candidates);
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream,
        format: `{region} [{bar}] {value}/{total} ${options.verb} | {listed} listed | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let region = '';
    let since = now();
    let base = 0;
    return {
      update(r, c) {
        if (!started || r !== region) {
          if (started) bar.stop();
          bar.start(Math.max(1, todo(c)), done(c), { region: r, listed: c.listed, rate: '0.0' });
          started = true;
          region = r;
          since = now();
          base = done(c);
        }
        const secs = Math.max(0.001, (now() - since) / 1000);
        bar.setTotal(Math.max(1, todo(c)));
        bar.update(done(c), { listed: c.listed, rate: ((done(c) - base) / secs).toFixed(1) });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let since = now();
  let region = '';
  let base = 0;
  return {
    update(r, c) {
      if (r !== region) {
        region = r;
        since = now();
        base = done(c);
      }
      if (now() - last < 5_000) return;
      last = now();
      const secs = Math.max(0.001, (now() - since) / 1000);
      io.stderr.write(
        `${r}: ${c.listed} listed, ${done(c)}/${todo(c)} ${options.verb} (${((done(c) - base) / secs).toFixed(1)}/s)\n`,
      );
    },
    stop() {},
  };
}

/** The opaque `--resume-token`: region, DescribeLogGroups token, the regions still to do. */
export interface ResumePoint {
  command: string;
  region: string;
  nextToken?: string;
  rest: string[];
}

export function encodeResume(point: ResumePoint): string {
  const raw = { v: 1, c: point.command, r: point.region, t: point.nextToken, rest: point.rest };
  return Buffer.from(JSON.stringify(raw)).toString('base64url');
}

export function decodeResume(token: string, command: string): ResumePoint {
  let raw: { v?: number; c?: string; r?: string; t?: string; rest?: unknown };
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new UsageError('--resume-token is not a token this tool printed');
  }
  if (raw.v !== 1 || typeof raw.r !== 'string' || !Array.isArray(raw.rest)) {
    throw new UsageError('--resume-token is not a token this tool printed');
  }
  if (raw.c !== command) throw new UsageError(`--resume-token was printed by "${raw.c}", not "${command}"`);
  return {
    command,
    region: raw.r,
    ...(typeof raw.t === 'string' ? { nextToken: raw.t } : {}),
    rest: raw.rest.filter((r): r is string => typeof r === 'string'),
  };
}

/** A mistake in the command line or configuration (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line to resume: the original arguments, without any old token, plus the new one. */
export function resumeCommand(argv: string[], token: string): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--resume-token') {
      i++;
      continue;
    }
    if (a.startsWith('--resume-token=')) continue;
    kept.push(a);
  }
  return ['logs-kms-guard', ...kept, '--resume-token', token].map(shellQuote).join(' ');
}
