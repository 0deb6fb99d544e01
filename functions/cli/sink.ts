/**
 * Report output that streams: an audit of a million log groups writes each row as it is listed instead of
 * holding them all (CSV and JSON); only the table, whose column widths need every row, is buffered.
 */
import { closeSync, constants, fchmodSync, openSync, writeSync } from 'node:fs';
import { type Completeness, csvTrailer, incompleteHeadline } from './completeness.ts';
import { UsageError } from './errors.ts';
import { findingsWriter } from './findings-writer.ts';
import type { Io } from './io.ts';
import { type AuditRow, auditTable, csvHeader, csvLine, type Format, type TableOptions } from './report.ts';

/** Where a report goes: a file (`--out`) or stdout. */
export interface Output {
  write(text: string): void;
  close(): Promise<void>;
}

/**
 * Opens `--out` (streamed; through `io.writeFile` when a test gives one) or stdout. The file is readable by its
 * owner only (0600: a report lists every log group and key), never opened through a symbolic link, and an
 * existing one is kept unless `overwrite`: validate.ts said so before any AWS call, the open itself makes sure.
 */
export function openOutput(io: Io, path: string | undefined, options: { overwrite?: boolean } = {}): Output {
  if (!path) return { write: (t) => void io.stdout.write(t), close: async () => {} };
  if (io.writeFile) {
    const parts: string[] = [];
    const writeFile = io.writeFile;
    return { write: (t) => void parts.push(t), close: () => writeFile(path, parts.join('')) };
  }
  // Written synchronously: what was written is in the file even when a second Ctrl-C quits at once.
  const fd = openReportFile(path, Boolean(options.overwrite));
  let failed: Error | undefined;
  return {
    write: (t) => {
      if (failed) return;
      try {
        writeSync(fd, t);
      } catch (err) {
        failed = err as Error;
      }
    },
    close: async () => {
      closeSync(fd);
      if (failed) throw failed;
    },
  };
}

/** The file descriptor of a new report file: 0600, no symbolic link followed, no existing file unless `overwrite`. */
export function openReportFile(path: string, overwrite: boolean): number {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_EXCL, O_NOFOLLOW = 0 } = constants;
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_CREAT | O_NOFOLLOW | (overwrite ? O_TRUNC : O_EXCL), 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new UsageError(
        `--out ${path}: the file exists; pass --force to overwrite it, or name another file`,
      );
    if (code === 'ELOOP')
      throw new UsageError(`--out ${path}: is a symbolic link; a report is never written through one`);
    throw err;
  }
  try {
    // An overwritten file keeps its mode on O_TRUNC: the report is the owner's only all the same.
    fchmodSync(fd, 0o600);
  } catch {}
  return fd;
}

/** Rows in, a report out: `add` each row, then `finish` with the summary (JSON's other fields) and completeness. */
export interface RowWriter {
  add(row: AuditRow): void;
  /** Ends the report; an incomplete run says so (CSV: `#` lines after the rows; table: a last line). */
  finish(summary: Record<string, unknown>, completeness?: Completeness): void;
  /**
   * Ends the report at once (a second Ctrl-C, the process quits next): JSON closes its document with the rows
   * written so far and `fields` (interrupted, incomplete, the totals so far); CSV adds a `#` line; others nothing.
   */
  abandon(fields: Record<string, unknown>): void;
}

/** A writer of `format` on `out`; `html` is rendered by the caller from its own summary, so it writes no rows. */
export function rowWriter(
  format: Format,
  out: Output,
  regionOrder: string[] = [],
  table: TableOptions & { observedAt?: string } = {},
): RowWriter {
  if (format === 'asff' || format === 'ocsf')
    return findingsWriter(format, out, table.observedAt ?? new Date().toISOString());
  if (format === 'csv') {
    out.write(csvHeader());
    return {
      add: (row) => out.write(csvLine(row)),
      finish: (_summary, completeness) => {
        if (completeness) out.write(csvTrailer(completeness));
      },
      abandon: () =>
        out.write('# interrupted (second Ctrl-C): INCOMPLETE, the rows above are what was listed\n'),
    };
  }
  if (format === 'json') {
    // `groups` first so each row can be written as it comes; the summary's fields follow it.
    let first = true;
    out.write('{\n  "groups": [');
    const finish = (summary: Record<string, unknown>) => {
      const rest = JSON.stringify(summary, null, 2).slice(1, -1).trim();
      out.write(`${first ? '' : '\n  '}]${rest ? `,\n  ${rest}` : ''}\n}\n`);
    };
    return {
      add: (row) => {
        out.write(`${first ? '\n' : ',\n'}    ${JSON.stringify(row)}`);
        first = false;
      },
      finish,
      abandon: finish,
    };
  }
  if (format === 'table') {
    const rows: AuditRow[] = [];
    return {
      add: (row) => void rows.push(row),
      finish: (_summary, completeness) => {
        rows.sort(
          (a, b) =>
            a.account.localeCompare(b.account) ||
            regionOrder.indexOf(a.region) - regionOrder.indexOf(b.region) ||
            compareNames(a, b),
        );
        out.write(auditTable(rows, table));
        if (completeness && !completeness.complete) out.write(`${incompleteHeadline(completeness)}\n`);
      },
      abandon: () => {},
    };
  }
  return { add: () => {}, finish: () => {}, abandon: () => {} };
}

function compareNames(a: AuditRow, b: AuditRow): number {
  return a.logGroup < b.logGroup ? -1 : a.logGroup > b.logGroup ? 1 : 0;
}
