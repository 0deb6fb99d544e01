/**
 * The run's one tally (functions/cli/run-tally.ts): each pair's counts through countReport, what the progress
 * reads of them, and a listing that has ended only once every account-region's has. Without mocks.
 */
import { describe, expect, it } from 'vitest';
import { RunTally } from '../../functions/cli/run-tally.ts';
import type { GroupReport } from '../../functions/core/sweep/report.ts';

const report = (action: GroupReport['action'], name = '/g'): GroupReport => ({
  name,
  region: 'eu-west-1',
  arn: `arn:aws:logs:eu-west-1:123456789012:log-group:${name}`,
  keyState: 'no-key',
  inScope: true,
  action,
});

describe('RunTally', () => {
  it('says nothing before anything is listed', () => {
    expect(new RunTally(false).snapshot()).toBeUndefined();
  });

  it("shows the current region's counts, its listing ended only once its last page is listed", () => {
    const t = new RunTally(false);
    t.listed('/eu-west-1', 50, false);
    t.add('/eu-west-1', report('encrypted'));
    t.add('/eu-west-1', report('failed'));
    t.add('/eu-west-1', report('none'));
    expect(t.snapshot()).toEqual({
      label: 'eu-west-1',
      listed: 50,
      listingDone: false,
      checked: 3,
      changed: 1,
      failed: 1,
    });
    t.listed('/eu-west-1', 20, true);
    expect(t.snapshot()).toMatchObject({ listed: 70, listingDone: true });
    // The next region starts its own.
    t.listed('/us-east-1', 10, false);
    expect(t.snapshot()).toMatchObject({ label: 'us-east-1', listed: 10, checked: 0 });
  });

  it("counts an audit page's groups as checked as their checks end, not only when the page is reported", () => {
    // Prepare: a page of 3, two of them checked (tag read done), their reports still held by the page
    const t = new RunTally(false);
    t.listed('/eu-west-1', 3, true);
    t.checked('/eu-west-1');
    t.checked('/eu-west-1');

    // Assess: the progress moves; the pair's counts (the summary's) hold only what was reported
    expect(t.snapshot()).toMatchObject({ listed: 3, checked: 2 });
    expect(t.countsOf('/eu-west-1').listed).toBe(0);

    // Act: the page is reported and done
    for (const name of ['/a', '/b', '/c']) t.add('/eu-west-1', report('none', name));
    t.pageDone('/eu-west-1');
    expect(t.snapshot()).toMatchObject({ checked: 3 });

    // An interrupted page: what was checked but never reported is no longer shown once the pair ended.
    t.listed('/eu-west-1', 2, false);
    t.checked('/eu-west-1');
    t.ended('/eu-west-1');
    expect(t.snapshot()).toMatchObject({ checked: 3 });
  });

  it('gives each pair the countReport counts of what it reported, with the sweep’s pages', () => {
    const t = new RunTally(false);
    t.add('/eu-west-1', report('encrypted', '/a'));
    t.add('/eu-west-1', report('encrypted', '/b'));
    expect(t.countsOf('/eu-west-1', 3)).toMatchObject({ pages: 3, listed: 2, encrypted: 2, noKey: 2 });
    expect(t.countsOf('/nowhere').listed).toBe(0);
  });

  it('across accounts: the whole run, its listing ended once every account-region has ended', () => {
    const t = new RunTally(true);
    t.expect(3);
    t.listed('111/eu-west-1', 5, true);
    t.add('111/eu-west-1', report('encrypted'));
    t.listed('222/eu-west-1', 7, true);
    expect(t.snapshot()).toMatchObject({ label: '3 account-region(s)', listed: 12, listingDone: false });
    t.ended('333/eu-west-1');
    expect(t.snapshot()).toMatchObject({ listed: 12, listingDone: true, checked: 1, changed: 1 });
  });
});
