/**
 * Whether a run finished every account × region it was asked for, and the errors of those it did not: what
 * JSON's `complete` and `errors`, CSV's trailing `#` lines, the table's and the HTML's "incomplete" headline
 * read. A suspended account or a Region not enabled is a skip (nothing there to do), not a gap in the run;
 * a failed pair, a refused role and an interrupted pair are.
 */
import type { SweepCounts } from '../core/sweep/report.ts';

/** One account × region the run did not finish: where, how, why, and what to check. */
export interface RunError {
  account: string;
  accountName?: string;
  region: string;
  status: 'failed' | 'interrupted';
  error: string;
  check?: string;
}

/** How complete a run is: how many pairs it was asked for, how many it did not finish, and why. */
export interface Completeness {
  complete: boolean;
  /** Account × region pairs of the run. */
  pairs: number;
  /** Pairs not finished (failed, refused role, interrupted). */
  notDone: number;
  errors: RunError[];
}

/** The completeness of a run from its pairs (failed or interrupted pairs make it incomplete). */
export function completenessOf(pairs: PairSummary[]): Completeness {
  const errors: RunError[] = pairs
    .filter((p) => p.status === 'failed' || p.status === 'interrupted')
    .map((p) => ({
      account: p.account,
      ...(p.accountName ? { accountName: p.accountName } : {}),
      region: p.region,
      status: p.status as RunError['status'],
      error:
        p.reason ??
        (p.status === 'interrupted'
          ? 'stopped before it finished (the resume command continues it)'
          : 'failed'),
      ...(p.check ? { check: p.check } : {}),
    }));
  return { complete: errors.length === 0, pairs: pairs.length, notDone: errors.length, errors };
}

/** The headline of an incomplete run ("INCOMPLETE: 2 of 4 account-region(s) not audited …"), or ''. */
export function incompleteHeadline(c: Completeness, verb = 'audited'): string {
  if (c.complete) return '';
  const failed = c.errors.filter((e) => e.status === 'failed').length;
  const interrupted = c.notDone - failed;
  const how = [
    ...(failed ? [`${failed} failed`] : []),
    ...(interrupted ? [`${interrupted} interrupted`] : []),
  ].join(', ');
  return `INCOMPLETE: ${c.notDone} of ${c.pairs} account-region(s) not ${verb} (${how}); the totals cover only what was listed`;
}

/** CSV's summary of an incomplete run: `#` lines after the rows (one headline, one per error); '' if complete. */
export function csvTrailer(c: Completeness): string {
  if (c.complete) return '';
  const line = (s: string) => `# ${s.replace(/[\r\n]+/g, ' ')}\n`;
  return [
    line(incompleteHeadline(c)),
    ...c.errors.map((e) =>
      line(
        `${e.status}: account ${e.account || '(this account)'} region ${e.region}: ${e.error}${e.check && !e.error.includes(e.check) ? `; check ${e.check}` : ''}`,
      ),
    ),
  ].join('');
}

/** One account × region of the run, as the report's pair table shows it. */
export interface PairSummary {
  account: string;
  accountName?: string;
  region: string;
  status: 'done' | 'skipped' | 'failed' | 'interrupted';
  /** Why skipped/failed (e.g. 'AssumeRole denied: ...', 'region not enabled'). */
  reason?: string;
  /** For a failed pair: what to check (the endpoint, the profile/credentials, the role). */
  check?: string;
  counts: SweepCounts;
  /** Insights query results state line. */
  queryResults?: string;
}
