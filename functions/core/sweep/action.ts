/**
 * What a mode's action on one group is given and gives back: the group and its report, what it may use of
 * its run (clients, config, clock, buckets, deadline, the page's counts and queue), and the candidate an audit
 * finds. The page loop (page-loop.ts) calls an action with these; the modes (audit.ts, enforce.ts,
 * enqueue.ts, rollback.ts) implement them. Types only, so the modes and the loop depend on this, not on each
 * other.
 */
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from '../clients.ts';
import type { Clock } from '../clock.ts';
import type { GuardConfig } from '../config.ts';
import type { KeyCreator } from '../key.ts';
import type { Log } from '../log.ts';
import type { SweepBuckets } from './quotas.ts';
import type { GroupReport, SweepCounts } from './report.ts';

/** An in-scope group the sweep wants fixed. */
export interface Candidate {
  name: string;
  region: string;
  account: string;
  arn: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
}

/** One group a mode acts on: its report (the action is written into it) and the group as listed. */
export interface GroupWork {
  report: GroupReport;
  group: LogGroup;
}

/** What a mode's action on one group needs of its run and its page. */
export interface GroupContext {
  clients: Clients;
  config: GuardConfig;
  region: string;
  /** The run's account, for a group whose ARN names none. */
  account?: string | undefined;
  log: Log;
  clock: Clock;
  buckets: SweepBuckets;
  /** The group's deadline from now: its own timeout, never past the run's hard deadline. */
  deadline(): number;
  /** Adds one to a count of the page (the audit step's candidates and tag opt-outs). */
  count(key: keyof SweepCounts): void;
  /** Creates the guard key when it is missing (SweepOptions.keyCreator). */
  keyCreator?: KeyCreator | undefined;
  /** mode `enqueue`: the page's candidates, handed over once the page is done. */
  queue: Candidate[];
}

/** What a mode does with one group it acts on (audit.ts, enforce.ts, enqueue.ts, rollback.ts). */
export type GroupAction = (work: GroupWork, ctx: GroupContext) => Promise<unknown>;
