/**
 * The audit report people and scripts read: one row per log group (its key state, scope and risk), in a table,
 * CSV or JSON, and the totals line printed after an audit, enforce or rollback.
 */
import { parseArn } from '../core/arn.ts';
import type { GroupReport, SweepCounts } from '../core/sweep/report.ts';

/** The output formats of `audit --format`. */
export type Format = 'table' | 'json' | 'csv' | 'html';

/** The report's columns, in order (the CSV header). */
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

/** One log group as the report shows it. */
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

/** The report row of one group's sweep report. */
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

/**
 * One CSV cell. A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return) gets a leading `'` and is quoted, as the OWASP CSV injection guidance says: quoting alone
 * does not stop a spreadsheet from evaluating it.
 */
export function csvCell(value: unknown): string {
  const raw = String(value ?? '');
  const s = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return s !== raw || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV header line. */
export function csvHeader(): string {
  return `${AUDIT_COLUMNS.join(',')}\n`;
}

/** One row as a CSV line (cells that a spreadsheet would read as a formula are defused: csvCell). */
export function csvLine(row: AuditRow): string {
  return `${AUDIT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\n`;
}

/** Rows as a whole CSV document, header first. */
export function toCsv(rows: AuditRow[]): string {
  return csvHeader() + rows.map(csvLine).join('');
}

/** A plain-text table with padded columns (the last one not padded). */
export function toTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n')}\n`;
}

/** The report rows as the terminal table `audit` prints. */
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
