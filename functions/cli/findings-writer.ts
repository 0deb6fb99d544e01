/**
 * `audit --format asff` and `--format ocsf`: one finding document per log group, its encryption compliance
 * (core/findings/group.ts) in the AWS Security Finding Format or as an OCSF Compliance Finding, written as one
 * JSON array as each row comes (the shape Prowler's json-asff / json-ocsf outputs have, and what
 * `aws securityhub batch-import-findings --findings file://…` takes, 100 at a time).
 */
import { toAsff } from '../core/findings/asff.ts';
import { documentOfGroup } from '../core/findings/group.ts';
import { toOcsf } from '../core/findings/ocsf.ts';
import type { AuditRow } from './report.ts';
import type { Output, RowWriter } from './sink.ts';
import { VERSION } from './version.ts';

/** The finding formats of `audit --format`. */
export type FindingFormat = 'asff' | 'ocsf';

/** A writer of one JSON array of finding documents, one per row; `observedAt` is the run's start. */
export function findingsWriter(format: FindingFormat, out: Output, observedAt: string): RowWriter {
  let first = true;
  out.write('[');
  const close = () => out.write(first ? ']\n' : '\n]\n');
  return {
    add: (row: AuditRow) => {
      const doc = documentOfGroup(row, observedAt);
      const rendered = format === 'asff' ? toAsff(doc, observedAt) : toOcsf(doc, VERSION);
      out.write(`${first ? '\n' : ',\n'}  ${JSON.stringify(rendered)}`);
      first = false;
    },
    // The run's totals and completeness go to stderr and the exit code: the array holds documents only.
    finish: close,
    abandon: close,
  };
}
