/**
 * The Insights query-results note (functions/cli/query-results.ts) said once per state, naming the account-regions,
 * and the HTML report's single note under its pairs table (no longer in every pair's note).
 */
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../functions/cli/html.ts';
import { queryResultsLines } from '../../functions/cli/query-results.ts';
import { fixtureReport, PAIRS } from './fixtures/report.ts';

const OFF = 'not encrypted with the guard key (optional: EncryptQueryResults=true)';

describe('queryResultsLines', () => {
  it('one line per distinct state, naming the regions (one account) or account-regions', () => {
    const pairs = [
      { account: '1', region: 'us-east-1', queryResults: OFF },
      { account: '1', region: 'eu-west-1', queryResults: OFF },
      { account: '2', region: 'us-east-1', queryResults: 'unknown (AccessDeniedException)' },
      { account: '2', region: 'eu-west-1' },
    ];
    expect(queryResultsLines(pairs.slice(0, 2), false)).toEqual([
      `Insights query results (information): ${OFF}: us-east-1, eu-west-1`,
    ]);
    expect(queryResultsLines(pairs, true)).toEqual([
      `Insights query results (information): ${OFF}: 1 us-east-1, 1 eu-west-1`,
      'Insights query results (information): unknown (AccessDeniedException): 2 us-east-1',
    ]);
  });

  it('names at most eight, then how many more', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({
      account: String(i),
      region: 'r',
      queryResults: OFF,
    }));
    expect(queryResultsLines(many, true)[0]).toMatch(/: 0 r, 1 r, 2 r, 3 r, 4 r, 5 r, 6 r, 7 r and 3 more$/);
  });
});

describe('the HTML report', () => {
  it('says it once under the pairs table, not in each pair note', () => {
    const html = renderHtml(fixtureReport({ pairs: PAIRS.map((p) => ({ ...p, queryResults: OFF })) }));
    expect(html.match(/id="query-results"/g)).toHaveLength(1);
    expect(html).toContain(`Insights query results (information): ${OFF}`);
    expect(html).not.toContain("'Insights query results '+p.queryResults");
  });
});
