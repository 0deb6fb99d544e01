/**
 * The counts of a CLI run (audit, enforce, rollback), kept in one place: each account × region's counts of the
 * groups it reported, through countReport (core/sweep/report.ts), and how far its listing has got. The
 * progress reads its snapshot from here and each pair's outcome takes its counts from here, so the numbers
 * shown while the run goes and those of the summary after it (interrupted or not) are one counting.
 */
import {
  addCounts,
  countReport,
  emptyCounts,
  type GroupReport,
  type SweepCounts,
} from '../core/sweep/report.ts';
import type { ProgressSnapshot } from './progress.ts';

/** One account × region as the tally sees it. */
interface PairTally {
  counts: SweepCounts;
  listed: number;
  listingDone: boolean;
  /** Groups checked in the open page, whose reports come with the page (the audit's): progress only. */
  checking: number;
}

/** The groups a set of counts changed (or would have, in a dry run). */
export function changedOf(c: SweepCounts): number {
  return c.encrypted + c.wouldEncrypt + c.disassociated + c.wouldDisassociate;
}

/** The counts of a run, pair by pair (key: `account/region`), and the progress snapshot they make. */
export class RunTally {
  private readonly pairs = new Map<string, PairTally>();
  private expected = 0;
  private current: string | undefined;
  private readonly multi: boolean;

  /** @param multi a run across accounts: its progress is the whole run's; else the current region's. */
  constructor(multi: boolean) {
    this.multi = multi;
  }

  /** The counts of every pair so far, summed (what a report cut short by a second Ctrl-C can say). */
  total(): SweepCounts {
    return [...this.pairs.values()].reduce((sum, p) => addCounts(sum, p.counts), emptyCounts());
  }

  /** How many account-regions the run has (its listing has ended once each has). */
  expect(pairs: number): void {
    this.expected = pairs;
  }

  private pair(key: string): PairTally {
    let p = this.pairs.get(key);
    if (!p) {
      p = { counts: emptyCounts(), listed: 0, listingDone: false, checking: 0 };
      this.pairs.set(key, p);
    }
    this.current = key;
    return p;
  }

  /** A page of `groups` listed in the pair; `last`: its listing has ended. */
  listed(key: string, groups: number, last: boolean): void {
    const p = this.pair(key);
    p.listed += groups;
    if (last) p.listingDone = true;
  }

  /** Counts one reported group of the pair (countReport) and returns the pair's counts. */
  add(key: string, report: GroupReport): SweepCounts {
    const p = this.pair(key);
    p.counts = countReport(p.counts, report);
    return p.counts;
  }

  /** A group of the pair's open page was checked; its report comes with the page (pageDone). */
  checked(key: string): void {
    this.pair(key).checking++;
  }

  /** The pair's open page ended: its groups were reported, so none is counted as checking any more. */
  pageDone(key: string): void {
    const p = this.pairs.get(key);
    if (p) p.checking = 0;
  }

  /** The pair ended (done, failed, interrupted): nothing more is listed there, and only reports count. */
  ended(key: string): void {
    const p = this.pairs.get(key);
    if (p) {
      p.listingDone = true;
      p.checking = 0;
    } else this.pairs.set(key, { counts: emptyCounts(), listed: 0, listingDone: true, checking: 0 });
  }

  /** The pair's counts, as its outcome reports them; `pages` from the sweep (countReport counts groups only). */
  countsOf(key: string, pages = 0): SweepCounts {
    return { ...(this.pairs.get(key)?.counts ?? emptyCounts()), pages };
  }

  /** What the progress shows: the current region's counts, or across accounts the whole run's; undefined before any listing. */
  snapshot(): ProgressSnapshot | undefined {
    if (!this.current) return undefined;
    const shown = this.multi ? [...this.pairs.values()] : [this.pairs.get(this.current) as PairTally];
    const counts = shown.reduce((sum, p) => addCounts(sum, p.counts), emptyCounts());
    const listed = shown.reduce((sum, p) => sum + p.listed, 0);
    const checking = shown.reduce((sum, p) => sum + p.checking, 0);
    const listingDone = this.multi
      ? this.pairs.size >= this.expected && shown.every((p) => p.listingDone)
      : shown.every((p) => p.listingDone);
    return {
      label: this.multi ? `${this.expected} account-region(s)` : (this.current.split('/').pop() ?? ''),
      // A group is listed before it is reported; a listing repeated on resume is counted where it was reported.
      listed: Math.max(listed, counts.listed),
      listingDone,
      // Reported groups, and those of an open page already checked (an audit reports its page at once).
      checked: Math.min(Math.max(listed, counts.listed), counts.listed + checking),
      changed: changedOf(counts),
      failed: counts.failed,
    };
  }
}
