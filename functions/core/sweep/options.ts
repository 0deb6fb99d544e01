/**
 * What a sweep is asked (SweepOptions: region, mode, pace, resume point, deadlines, callbacks) and what it
 * answers (SweepResult, with the SweepState checkpoint to resume from). Shared by sweep() (sweep.ts), the
 * page loop (page-loop.ts) and the scheduled run (run.ts).
 */
import type { Clients } from '../clients.ts';
import type { Clock } from '../clock.ts';
import type { GuardConfig } from '../config.ts';
import type { KeyCreator } from '../key.ts';
import type { Log } from '../log.ts';
import type { Candidate } from './action.ts';
import type { SweepMode } from './mode.ts';
import type { SweepBuckets } from './quotas.ts';
import type { GroupReport, SweepCounts } from './report.ts';

/** What one sweep() call works on, how fast, in which mode, and until when. */
export interface SweepOptions {
  mode: SweepMode;
  clients: Clients;
  config: GuardConfig;
  region: string;
  /** Used when a listed group carries no ARN to read its account from. */
  account?: string;
  log: Log;
  clock?: Clock;
  buckets?: SweepBuckets;
  /** Groups acted on at once (the buckets, not this, set the call rates). Default 8. */
  concurrency?: number;
  prefix?: string;
  pageSize?: number;
  resume?: SweepState;
  /** Stops between groups: the run returns the token to resume from. */
  signal?: AbortSignal;
  /** Epoch ms after which no new page or group is started. */
  stopAt?: number;
  /** Epoch ms that no group's retries may outlive (the Lambda's end). */
  hardDeadline?: number;
  /** How long one group may take (propagation retries included). Default 120 s. */
  groupTimeoutMs?: number;
  /** mode `enqueue`: receives each page's candidates. */
  enqueue?: (candidates: Candidate[]) => Promise<void>;
  onGroup?: (report: GroupReport) => void;
  /**
   * Called when a group's work ended but its report waits for its page (an audit's tag read): progress only.
   * Every such group is reported with its page (onGroup) unless the run stops half-way through the page.
   */
  onChecked?: () => void;
  /** Called as each listed page is taken up: how many groups it holds, and whether it is the listing's last. */
  onListed?: (page: { groups: number; last: boolean }) => void;
  /** Called after each finished page with the checkpoint. */
  onPage?: (state: SweepState) => void | Promise<void>;
  /** Creates the guard key when it is missing (the CLI's; key.ts KeyStepOptions.creator). */
  keyCreator?: KeyCreator;
  /** The guard's key ARN if known (null: known not to exist); looked up otherwise. */
  guardKeyArn?: string | null;
  /**
   * mode `audit`: DescribeKey every distinct key once, to report unusable keys, and GetKeyPolicy every distinct
   * Enabled key once, to report groups at risk (`GroupReport.atRisk`).
   */
  checkKeys?: boolean;
  /**
   * mode `audit`: no ListTagsForResource (the opt-out tag is not read): every group in scope by its name that
   * would be fixed is a candidate, opted out or not. Enforce always reads the tags.
   */
  skipOptOutCheck?: boolean;
  /** Names already handled in this run; shared across calls to never touch a group twice. */
  seen?: Set<string>;
}

/** A checkpoint: the DescribeLogGroups token of the first page not finished, and what was counted so far. */
export interface SweepState {
  nextToken?: string;
  counts: SweepCounts;
}

/** How a sweep() call ended: the checkpoint, and why it stopped when the listing did not reach its end. */
export interface SweepResult {
  state: SweepState;
  /** True when the listing reached its end. */
  done: boolean;
  stopped?: 'signal' | 'deadline' | 'error';
  error?: Error;
  guardKeyArn: string | undefined;
}
