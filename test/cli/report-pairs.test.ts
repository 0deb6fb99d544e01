/**
 * reportPairs (functions/cli/across.ts): the pairs every report format shows, from a run's outcomes. Without mocks.
 */
import { describe, expect, it } from 'vitest';
import { type AcrossResult, accountsOf, type PairOutcome, reportPairs } from '../../functions/cli/across.ts';
import { emptyCounts } from '../../functions/core/sweep/report.ts';

const outcome = (region: string, account: string, status: PairOutcome['status']): PairOutcome => ({
  account,
  region,
  status,
  counts: emptyCounts(),
});

const result = (multi: boolean, outcomes: PairOutcome[]): AcrossResult => ({
  plan: { multi, caller: '', targets: [], skipped: [], scope: 'this account' },
  outcomes,
});

describe('reportPairs', () => {
  it("one account's interrupted run: the pair never started is the same account (the HTML counted two)", () => {
    // Prepare: Ctrl-C in eu-west-1, before us-east-1 started (no call there, so no account id learned)
    const run = result(false, [
      outcome('eu-west-1', '123456789012', 'interrupted'),
      outcome('us-east-1', '', 'not-started'),
    ]);

    // Act
    const pairs = reportPairs(run, ['eu-west-1', 'us-east-1']);

    // Assess
    expect(pairs.map((p) => `${p.account} ${p.region} ${p.status}`)).toEqual([
      '123456789012 eu-west-1 interrupted',
      '123456789012 us-east-1 interrupted',
    ]);
    expect(accountsOf(pairs)).toHaveLength(1);
  });

  it('across accounts, a blank account is left alone (each pair names its own)', () => {
    const pairs = reportPairs(
      result(true, [outcome('eu-west-1', '111111111111', 'done'), outcome('eu-west-1', '', 'failed')]),
      ['eu-west-1'],
    );
    expect(pairs.map((p) => p.account).sort()).toEqual(['', '111111111111']);
  });
});
