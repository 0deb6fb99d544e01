/**
 * A sweep of one region in any of its modes, as the CLI, the benchmark and the tests run it: its options and
 * result, and sweep(), which gives the page loop (page-loop.ts) the mode's action (audit.ts, enforce.ts,
 * enqueue.ts, rollback.ts) and, when asked, the audit's key checks (key-risk.ts). The scheduled Lambda runs
 * the page loop with its own modes (run.ts).
 */
import type { Clients } from '../clients.ts';
import type { Clock } from '../clock.ts';
import type { GuardConfig } from '../config.ts';
import type { Log } from '../log.ts';
import { auditGroup, type Candidate } from './audit.ts';
import { enforceGroup } from './enforce.ts';
import { enqueueGroup } from './enqueue.ts';
import { createKeyRiskChecks } from './key-risk.ts';
import { type GroupAction, sweepPages } from './page-loop.ts';
import type { SweepBuckets } from './quotas.ts';
import type { GroupReport, SweepCounts } from './report.ts';
import { rollbackGroup } from './rollback.ts';

/** What the sweep does with the groups it acts on (see the mode files beside this one). */
export type SweepMode = 'audit' | 'enforce' | 'enqueue' | 'rollback';

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
  /** Called after each finished page with the checkpoint. */
  onPage?: (state: SweepState) => void | Promise<void>;
  /** The guard's key ARN if known (null: known not to exist); looked up otherwise. */
  guardKeyArn?: string | null;
  /**
   * mode `audit`: DescribeKey every distinct key once, to report unusable keys, and GetKeyPolicy every distinct
   * Enabled key once, to report groups at risk (`GroupReport.atRisk`).
   */
  checkKeys?: boolean;
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

/** Each mode's action on a group it acts on. */
const MODE_ACTIONS: Record<SweepMode, GroupAction> = {
  audit: auditGroup,
  enforce: enforceGroup,
  enqueue: enqueueGroup,
  rollback: rollbackGroup,
};

/** Lists, classifies and acts in `options.mode`, page by page, until the end, the signal or the deadline. */
export function sweep(options: SweepOptions): Promise<SweepResult> {
  const { clients, region, account, log } = options;
  const risks = options.checkKeys ? createKeyRiskChecks({ clients, region, account, log }) : undefined;
  return sweepPages(options, MODE_ACTIONS[options.mode], risks);
}
