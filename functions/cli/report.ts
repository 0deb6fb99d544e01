/**
 * The audit report people and scripts read: one row per log group (its key state, scope and risk), in a table,
 * CSV or JSON, and the totals line printed after an audit, enforce or rollback.
 */
import { parseArn } from '../core/arn.ts';
import type { GroupState } from '../core/findings/group.ts';
import { logClassLabel } from '../core/log-class.ts';
import type { GroupReport, SweepCounts } from '../core/sweep/report.ts';

/** The output formats of `audit --format`. */
export type Format = 'table' | 'json' | 'csv' | 'html' | 'asff' | 'ocsf';

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
  'logClass',
  'deletionProtection',
  'foughtBy',
] as const;

/** One log group as the report shows it: what a finding needs of it (GroupState), and more. */
export interface AuditRow extends GroupState {
  /** The key policy checked for CloudWatch Logs: `admits-logs`, `excludes-logs`, `unknown` (not readable), or ''. */
  keyPolicy: string;
  /** The log class (`standard`, `infrequent-access`, `delivery`, `essentials`; log-class.ts). */
  logClass: string;
  /** Deletion protection is on: nobody deletes the group (and its retained data) until it is turned off. */
  deletionProtection: boolean;
  /** The infrastructure-as-code tools that keep removing its key (`terraform since 2026-12-07`), or ''. */
  foughtBy: string;
}

/**
 * The NOTE about a group's class and deletion protection, where they matter: a class other than standard, and
 * deletion protection on a group whose retained data is encrypted (it keeps needing its key until retention
 * removes the data: deleting the group is no longer a way out).
 */
export function classNote(r: Pick<GroupReport, 'logGroupClass' | 'deletionProtection' | 'kmsKeyId'>): string {
  const cls =
    r.logGroupClass && r.logGroupClass !== 'STANDARD' ? `log class ${logClassLabel(r.logGroupClass)}` : '';
  const protectedNote =
    r.deletionProtection && r.kmsKeyId
      ? 'deletion protection on: its data needs the key until retention ends'
      : '';
  return [cls, protectedNote].filter(Boolean).join('; ');
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
      classNote(r),
      r.foughtBy ? `fought over: ${r.foughtBy} removes the key at each apply` : '',
    ]
      .filter(Boolean)
      .join('; '),
    atRisk: r.atRisk ?? '',
    unreadableFrom: r.unreadableFrom ?? '',
    keyPolicy: r.keyPolicy ?? '',
    logClass: logClassLabel(r.logGroupClass),
    deletionProtection: r.deletionProtection === true,
    foughtBy: r.foughtBy ?? '',
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

/** How the audit table is laid out: the width to fit, and the guard key's alias where it names the key. */
export interface TableOptions {
  /** Columns to fit (tableWidth); no limit when absent. */
  width?: number;
  /** The guard key's alias (`--key-alias`), shown for groups on the guard key instead of its ARN. */
  guardAlias?: string;
}

/** The table's width: the terminal's columns, else COLUMNS, else 100 (not a terminal, or unknown). */
export function tableWidth(
  stream: { isTTY?: boolean; columns?: number },
  env: Record<string, string | undefined>,
): number {
  if (stream.isTTY && stream.columns && stream.columns > 0) return stream.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 100;
}

/** `s` cut to `max` characters in the middle (`/aws/lambda/ve…-function`), both ends kept. */
export function truncateMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 1) return '…'.slice(0, max);
  const head = Math.ceil((max - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`;
}

/** `s` in lines of at most `max` characters, broken at spaces where it can be (a long word is cut). */
export function wrapText(s: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(' ')) {
    let w = word;
    while (w.length > max) {
      if (line) lines.push(line);
      line = '';
      lines.push(w.slice(0, max));
      w = w.slice(max);
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= max) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * Column widths that fit `width` with `gap` between columns: the `flexible` columns (index and smallest width),
 * in the order given, each narrowed down to its smallest until the line fits; then, if it still does not, each
 * down to its `floor` (when given) in a second pass; wider than `width` only when every one is at its floor. Pure.
 */
export function fitWidths(
  natural: number[],
  flexible: { index: number; min: number; floor?: number }[],
  width: number,
  gap = 2,
): number[] {
  const widths = [...natural];
  const narrow = (index: number, smallest: number) => {
    const total = widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
    if (total <= width) return false;
    const current = widths[index] ?? 0;
    widths[index] = Math.max(Math.min(smallest, current), current - (total - width));
    return true;
  };
  for (const f of flexible) if (!narrow(f.index, f.min)) return widths;
  for (const f of flexible) if (f.floor !== undefined && !narrow(f.index, f.floor)) return widths;
  return widths;
}

/** The key as the table names it: the guard key by its alias, a key of the row's account and region by its id. */
function keyCell(r: AuditRow, guardAlias: string | undefined): string {
  if (!r.kmsKeyId) return '-';
  if (guardAlias && r.keyState === 'guard-key') return guardAlias;
  const arn = parseArn(r.kmsKeyId);
  return arn && arn.account === r.account && arn.region === r.region ? arn.resource : r.kmsKeyId;
}

const AUDIT_HEADERS = ['ACCOUNT', 'REGION', 'LOG GROUP', 'KEY STATE', 'IN SCOPE', 'KMS KEY', 'NOTE'];
const LOG_GROUP = 2;
const KMS_KEY = 5;
const NOTE = 6;

/**
 * The report rows as the terminal table `audit` prints, fitted to `options.width`: the key, then the log group
 * name give way first (cut in the middle), the note last (wrapped onto lines of its own column, never cut).
 * JSON and CSV keep every value whole.
 */
export function auditTable(rows: AuditRow[], options: TableOptions = {}): string {
  const cells = rows.map((r) => [
    r.account,
    r.region,
    r.logGroup,
    r.keyStatus && r.keyState === 'key-unusable' ? `key-unusable (${r.keyStatus})` : r.keyState,
    r.inScope ? 'yes' : 'no',
    keyCell(r, options.guardAlias),
    r.note,
  ]);
  if (!options.width) return toTable(AUDIT_HEADERS, cells);
  const natural = AUDIT_HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const widths = fitWidths(
    natural,
    [
      // A narrow terminal (COLUMNS=80) narrows them further rather than overflow it (a line never wider).
      { index: KMS_KEY, min: 20, floor: 7 },
      { index: LOG_GROUP, min: 24, floor: 9 },
      { index: NOTE, min: 24, floor: 8 },
    ],
    options.width,
  );
  const fitted = cells.flatMap((c) => {
    const [first = '', ...more] = wrapText(c[NOTE] ?? '', widths[NOTE] ?? 24);
    const cut = c.map((cell, i) => (i === NOTE ? first : truncateMiddle(cell, widths[i] ?? cell.length)));
    return [cut, ...more.map((line) => [...AUDIT_HEADERS.slice(0, NOTE).map(() => ''), line])];
  });
  return toTable(AUDIT_HEADERS, fitted);
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
