/**
 * What the sweep says about each log group and how groups add up: the report of one listed group, the counts
 * of a run, and every rule that turns one into the other. The sweep's page loop, the CLI's live progress and
 * the audit's at-risk summary all count through here, so a count means the same wherever it is shown. Pure.
 *
 * A run's counts come in two kinds: what was seen (listed, key state, scope; counted when a group is listed,
 * `classifyGroup`) and what was done (ACTION_COUNT; kept even for a page left half-way). One count is neither:
 * `candidates`, an in-scope group whose tags were read; the audit step (audit.ts) adds it, with `outOfScope`
 * for a group its tags opt out.
 */
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import type { GuardConfig } from '../config.ts';
import type { Outcome } from '../enforce.ts';
import { sameKey } from '../key.ts';
import { decideScope } from '../scope.ts';
import type { KeyPolicyVerdict, KeyRisk, KeyRiskFinding } from './key-risk.ts';
import { groupArnOf } from './listing.ts';
import type { SweepMode } from './mode.ts';

/** Where a group's encryption stands. */
export type KeyState = 'guard-key' | 'other-key' | 'no-key' | 'key-unusable';

/** What the sweep did (or would do) with one group. */
export type SweepAction =
  | Outcome
  | 'queued'
  | 'disassociated'
  | 'would-disassociate'
  | 'skipped-duplicate'
  | 'none';

/** One log group as the sweep saw it. */
export interface GroupReport {
  name: string;
  region: string;
  arn: string;
  kmsKeyId?: string;
  keyState: KeyState;
  /** Key state from DescribeKey when audited (`Enabled`, `Disabled`, `PendingDeletion`, …, or `unknown`). */
  keyStatus?: string;
  /** Audited: the key's policy checked for CloudWatch Logs (only for an Enabled key). */
  keyPolicy?: KeyPolicyVerdict;
  /** Audited: why the group's data is at risk, whatever its scope; absent when it is not. */
  atRisk?: KeyRisk;
  /** Audited, key pending deletion: the key's DeletionDate (ISO 8601), from when the data is unreadable. */
  unreadableFrom?: string;
  inScope: boolean;
  scopeReason?: string;
  /** An AWS-reserved name (`aws/…`): CloudWatch Logs refuses any key for it; never acted on. */
  reserved?: boolean;
  /** The audit step found it in scope, its tags read (or skipped): a group to fix, counted as a candidate. */
  candidate?: boolean;
  action: SweepAction;
  detail?: string;
  /**
   * Audited: the infrastructure-as-code tools that keep taking the key from it, from the enforce function's fight
   * records (core/fight-record.ts): `terraform since 2026-12-07 (last 2026-12-09)`.
   */
  foughtBy?: string;
  createdAt?: number;
  storedBytes?: number;
  /** The group's log class as DescribeLogGroups reports it (STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS). */
  logGroupClass?: string;
  /** DescribeLogGroups' deletionProtectionEnabled (PutLogGroupDeletionProtection, 2025-11); set when on. */
  deletionProtection?: true;
}

/** A run's counts (a page's, an invocation's, a whole run's or every region's: they add up). */
export interface SweepCounts {
  pages: number;
  listed: number;
  guardKey: number;
  otherKey: number;
  keyUnusable: number;
  /** Audited groups whose key is pending deletion, disabled, or whose key policy shuts CloudWatch Logs out. */
  atRisk: number;
  noKey: number;
  outOfScope: number;
  /** AWS-reserved groups (`aws/…`): not encryptable, neither a gap nor a failure. */
  reserved: number;
  /** Unencrypted (or, with ALLOW_KEY_OVERRIDE, other-key) groups in scope: the ones to fix. */
  candidates: number;
  encrypted: number;
  wouldEncrypt: number;
  queued: number;
  disassociated: number;
  wouldDisassociate: number;
  gone: number;
  failed: number;
  skippedDuplicate: number;
}

/** Counts of nothing yet. */
export function emptyCounts(): SweepCounts {
  return {
    pages: 0,
    listed: 0,
    guardKey: 0,
    otherKey: 0,
    keyUnusable: 0,
    atRisk: 0,
    noKey: 0,
    outOfScope: 0,
    reserved: 0,
    candidates: 0,
    encrypted: 0,
    wouldEncrypt: 0,
    queued: 0,
    disassociated: 0,
    wouldDisassociate: 0,
    gone: 0,
    failed: 0,
    skippedDuplicate: 0,
  };
}

/** Adds `b` into a copy of `a` (totals over regions or invocations). */
export function addCounts(a: SweepCounts, b: SweepCounts): SweepCounts {
  const out = { ...a };
  for (const key of Object.keys(out) as (keyof SweepCounts)[]) out[key] += b[key] ?? 0;
  return out;
}

/** The count each key state adds to. */
export const KEY_STATE_COUNT = {
  'guard-key': 'guardKey',
  'other-key': 'otherKey',
  'no-key': 'noKey',
  'key-unusable': 'keyUnusable',
} as const satisfies Record<KeyState, keyof SweepCounts>;

/** The count each action adds to; actions without one (`none`, `already-encrypted`, …) add to none. */
export const ACTION_COUNT: Partial<Record<SweepAction, keyof SweepCounts>> = {
  encrypted: 'encrypted',
  'would-encrypt': 'wouldEncrypt',
  queued: 'queued',
  disassociated: 'disassociated',
  'would-disassociate': 'wouldDisassociate',
  'group-gone': 'gone',
  failed: 'failed',
  'skipped-duplicate': 'skippedDuplicate',
};

/** Counts that record what was done (kept even for a page left half-way) versus what was seen. */
const ACTION_KEYS = new Set<keyof SweepCounts>(Object.values(ACTION_COUNT));

/** Only what was done of `counts` (the rest zero): what a page left half-way keeps, as it is listed again. */
export function doneCountsOf(counts: SweepCounts): SweepCounts {
  const out = emptyCounts();
  for (const key of ACTION_KEYS) out[key] = counts[key];
  return out;
}

/** Where a listed group's key stands relative to the guard's key. */
export function keyStateOf(kmsKeyId: string | undefined, guardKeyArn: string | undefined): KeyState {
  if (!kmsKeyId) return 'no-key';
  if (guardKeyArn && sameKey(kmsKeyId, guardKeyArn)) return 'guard-key';
  return 'other-key';
}

/** What classifying a listed group needs to know about the run. */
export interface ClassifyContext {
  mode: SweepMode;
  config: GuardConfig;
  region: string;
  /** The run's account, for a group that carries no ARN. */
  account?: string | undefined;
  guardKeyArn: string | undefined;
  /** The audit's finding on the group's key (key-risk.ts), when keys are checked. */
  risk?: KeyRiskFinding | undefined;
}

/** A listed group before any action: its report, what it adds to the counts, and whether the mode acts on it. */
export interface ClassifiedGroup {
  report: GroupReport;
  /** One count key per count the group adds as listed (its key state, at risk, reserved or out of scope). */
  counts: (keyof SweepCounts)[];
  /** The mode acts on it: the guard key's groups in a rollback, else the fixable ones in scope by name. */
  act: boolean;
}

/** Classifies a listed group by its name, its key and the audit's key finding. */
export function classifyGroup(
  group: LogGroup & { logGroupName: string },
  context: ClassifyContext,
): ClassifiedGroup {
  const { config, region, risk } = context;
  const name = group.logGroupName;
  const kmsKeyId = group.kmsKeyId || undefined;
  let keyState = keyStateOf(kmsKeyId, context.guardKeyArn);
  const status = risk?.facts.status;
  if (status !== undefined && status !== 'Enabled' && status !== 'unknown') keyState = 'key-unusable';
  const scope = decideScope(config, name, undefined);
  const report: GroupReport = {
    name,
    region,
    arn: groupArnOf(group, region, context.account),
    ...(kmsKeyId ? { kmsKeyId } : {}),
    keyState,
    ...(status ? { keyStatus: status } : {}),
    ...(risk?.keyPolicy ? { keyPolicy: risk.keyPolicy } : {}),
    ...(risk?.atRisk ? { atRisk: risk.atRisk } : {}),
    ...(risk?.atRisk === 'key-pending-deletion' && risk.facts.deletionDate
      ? { unreadableFrom: risk.facts.deletionDate }
      : {}),
    inScope: scope.inScope,
    ...(scope.inScope ? {} : { scopeReason: scope.reason }),
    ...(!scope.inScope && scope.reserved ? { reserved: true } : {}),
    action: 'none',
    ...(group.creationTime !== undefined ? { createdAt: group.creationTime } : {}),
    ...(group.storedBytes !== undefined ? { storedBytes: group.storedBytes } : {}),
    ...(group.logGroupClass ? { logGroupClass: group.logGroupClass } : {}),
    ...(group.deletionProtectionEnabled ? { deletionProtection: true as const } : {}),
  };
  const counts: (keyof SweepCounts)[] = ['listed', KEY_STATE_COUNT[keyState]];
  if (report.atRisk) counts.push('atRisk');
  // A rollback takes back the guard's key wherever it is, in scope or not, usable or not.
  if (context.mode === 'rollback')
    return { report, counts, act: keyStateOf(kmsKeyId, context.guardKeyArn) === 'guard-key' };
  if (!scope.inScope) {
    counts.push(scope.reserved ? 'reserved' : 'outOfScope');
    return { report, counts, act: false };
  }
  // Tags matter only where the group would otherwise be acted on (or, in an audit, reported as a gap).
  const fixable = keyState === 'no-key' || (config.allowKeyOverride && keyState !== 'guard-key');
  return { report, counts, act: fixable };
}

/** Actions on a group the run set out to change: counted as candidates by `countReport`. */
const CANDIDATE_ACTIONS = new Set<SweepAction>([
  'encrypted',
  'would-encrypt',
  'queued',
  'disassociated',
  'would-disassociate',
  'failed',
  'group-gone',
]);

/**
 * Counts one finished report (as `onGroup` hands it over) into a copy of `counts`: listed, its key state, at
 * risk, reserved or out of scope when left alone, and what was done. A report the run set out to change
 * (encrypted, queued, disassociated, their dry-run forms, gone or failed) is a candidate too, and so is one an
 * audit found to fix (`candidate`, action `none`). The CLI's progress and its summaries count through here.
 */
export function countReport(counts: SweepCounts, report: GroupReport): SweepCounts {
  const out = { ...counts };
  out.listed++;
  out[KEY_STATE_COUNT[report.keyState]]++;
  if (report.atRisk) out.atRisk++;
  if (report.action === 'none' && !report.inScope) out[report.reserved ? 'reserved' : 'outOfScope']++;
  const done = ACTION_COUNT[report.action];
  if (done) out[done]++;
  // An audit changes nothing: its candidates keep the action `none`.
  if (CANDIDATE_ACTIONS.has(report.action) || (report.action === 'none' && report.candidate))
    out.candidates++;
  return out;
}

/** The counts of finished reports, as `countReport` counts each. */
export function countReports(reports: Iterable<GroupReport>): SweepCounts {
  let counts = emptyCounts();
  for (const report of reports) counts = countReport(counts, report);
  return counts;
}

/** Groups at risk by reason, and the earliest date a key pending deletion makes data unreadable. */
export type RiskCounts = Record<KeyRisk, number> & { earliest?: string };

/** Risk counts of nothing yet. */
export function emptyRiskCounts(): RiskCounts {
  return { 'key-pending-deletion': 0, 'key-disabled': 0, 'key-policy-excludes-logs': 0 };
}

/** Counts one report's risk into a copy of `counts` (every report: a summary must not depend on a capped list). */
export function countRisk(
  counts: RiskCounts,
  report: Pick<GroupReport, 'atRisk' | 'unreadableFrom'>,
): RiskCounts {
  if (!report.atRisk) return counts;
  const out: RiskCounts = { ...counts, [report.atRisk]: counts[report.atRisk] + 1 };
  if (report.unreadableFrom && (!counts.earliest || report.unreadableFrom < counts.earliest)) {
    out.earliest = report.unreadableFrom;
  }
  return out;
}

/**
 * What an audit counts of every report besides `countReport`'s counts: the groups reported, the groups at risk
 * by reason (`countRisk`), and the groups whose key policy could not be read (not checked for CloudWatch Logs).
 */
export interface AuditTally {
  listed: number;
  unchecked: number;
  risks: RiskCounts;
}

/** An audit tally of nothing yet. */
export function emptyAuditTally(): AuditTally {
  return { listed: 0, unchecked: 0, risks: emptyRiskCounts() };
}

/** Counts one audited report into a copy of `tally` (every report: the audit's gap list is capped, this is not). */
export function countAudited(
  tally: AuditTally,
  report: Pick<GroupReport, 'keyPolicy' | 'atRisk' | 'unreadableFrom'>,
): AuditTally {
  return {
    listed: tally.listed + 1,
    unchecked: tally.unchecked + (report.keyPolicy === 'unknown' ? 1 : 0),
    risks: countRisk(tally.risks, report),
  };
}
