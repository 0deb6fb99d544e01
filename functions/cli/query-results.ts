/**
 * The Insights query-results note of a report, said once: the account's query results are encrypted with the
 * guard key only when the deployment chose it (optional, EncryptQueryResults=true), so it is information about
 * each account-region, never a finding about a log group nor a doctor warning. One line per distinct state,
 * naming the account-regions in that state. Pure.
 */

/** An account-region and its query-results state, as the audit read it. */
export interface QueryResultsOf {
  account: string;
  region: string;
  queryResults?: string;
}

/** How many account-regions a line names before "and N more". */
const NAMED_MAX = 8;

/** The note's lines: "Insights query results (information): <state> in <where>", one per distinct state. */
export function queryResultsLines(pairs: QueryResultsOf[], multi: boolean): string[] {
  const by = new Map<string, string[]>();
  for (const p of pairs) {
    if (!p.queryResults) continue;
    const where = multi ? `${p.account} ${p.region}` : p.region;
    by.set(p.queryResults, [...(by.get(p.queryResults) ?? []), where]);
  }
  return [...by.entries()].map(([state, where]) => {
    const named = where.slice(0, NAMED_MAX).join(', ');
    const more = where.length > NAMED_MAX ? ` and ${where.length - NAMED_MAX} more` : '';
    return `Insights query results (information): ${state}: ${named}${more}`;
  });
}
