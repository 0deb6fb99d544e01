/**
 * What a dry run of `enforce` or `rollback` shows, and what the confirmation prompt says: the groups the run
 * would change (one row each: account, region, group, action and key, by alias where known), the guard keys it
 * would create (once per account-region), and the prompt that names the account(s), region(s) and count. Pure:
 * bulk.ts gathers the reports and the keys, this turns them into rows and words.
 */
import { parseArn } from '../core/arn.ts';
import type { GroupReport } from '../core/sweep/report.ts';
import { keyLabel } from './key-label.ts';
import { type AuditRow, auditRow, toTable } from './report.ts';

/** The guard key of one account-region as a dry run found it: its ARN, or absent (it would be created). */
export interface PlanKey {
  /** The key's ARN; undefined when it does not exist yet (enforce would create it). */
  arn?: string;
  /** The alias it goes by (the guard alias for the guard's own key), when known. */
  alias?: string;
}

/** One group a dry run would change: the audit row of the group, what would be done, and with which key. */
export interface PlannedGroup extends AuditRow {
  /** `would-encrypt` (associate the key; replaces `kmsKeyId` when set) or `would-disassociate`. */
  action: 'would-encrypt' | 'would-disassociate';
  /** The key associated (enforce) or taken back (rollback); null when it would be created first. */
  keyArn: string | null;
  /** The key's alias, when known. */
  keyAlias?: string;
}

/** The planned group of a report whose action is a dry run's change; undefined for any other report. */
export function plannedGroup(report: GroupReport, account: string, key: PlanKey): PlannedGroup | undefined {
  if (report.action !== 'would-encrypt' && report.action !== 'would-disassociate') return undefined;
  const row = auditRow(report);
  return {
    ...row,
    account: account || row.account || parseArn(report.arn)?.account || '',
    action: report.action,
    keyArn: key.arn ?? null,
    ...(key.alias ? { keyAlias: key.alias } : {}),
  };
}

/** How a person reads the key of a planned group: alias and key id, else the ARN, else "alias (to be created)". */
export function planKeyText(group: Pick<PlannedGroup, 'keyArn' | 'keyAlias'>): string {
  if (!group.keyArn) return `${group.keyAlias ?? 'the guard key'} (to be created)`;
  return keyLabel(group.keyArn, group.keyAlias);
}

/** What a planned group's ACTION column says. */
function actionText(group: PlannedGroup): string {
  if (group.action === 'would-disassociate') return 'disassociate from';
  return group.kmsKeyId ? `re-encrypt (now ${group.kmsKeyId}) with` : 'encrypt with';
}

/** The planned groups as the table a dry run prints: one row per group. */
export function planTable(groups: PlannedGroup[]): string {
  return toTable(
    ['ACCOUNT', 'REGION', 'LOG GROUP', 'WOULD', 'KEY'],
    groups.map((g) => [g.account || '-', g.region, g.logGroup, actionText(g), planKeyText(g)]),
  );
}

/** A guard key a dry run of enforce would create: once per account-region, whatever its groups. */
export interface PlannedKey {
  account: string;
  region: string;
  keyAlias: string;
}

/** The line that says, once, which guard key a dry run would create where. */
export function wouldCreateLine(k: PlannedKey): string {
  return `would create the guard key ${k.keyAlias} in ${k.account || 'this account'} ${k.region}`;
}

/** What the prompt counts: per account-region, the groups the run would change (from a dry run). */
export interface PromptCount {
  account: string;
  region: string;
  groups: number;
}

/** How many names a prompt lists before it only counts them. */
const PROMPT_LIST_MAX = 5;

/** "a, b and c", or "7 accounts (a, b, …)" past PROMPT_LIST_MAX. */
function namesText(names: string[], noun: string): string {
  if (names.length === 1) return `${noun} ${names[0]}`;
  const shown =
    names.length <= PROMPT_LIST_MAX ? names.join(', ') : `${names.slice(0, PROMPT_LIST_MAX).join(', ')}, …`;
  return `${names.length} ${noun}s (${shown})`;
}

/**
 * The confirmation question: what would be done, to how many groups, in which account(s) and region(s), as a
 * dry run counted them just before; the guard keys it would create, and what could not be counted. One
 * statement a line, the question last.
 */
export function promptText(input: {
  /** "associate alias/… (key …) with" or "disassociate … from". */
  what: string;
  counts: PromptCount[];
  /** What could not be counted ("account region: reason", or "account: reason" for a refused role). */
  uncounted: string[];
  /** The guard keys the run would create. */
  creates: PlannedKey[];
}): string {
  const { counts, uncounted, creates } = input;
  const total = counts.reduce((sum, c) => sum + c.groups, 0);
  const accounts = [...new Set(counts.map((c) => c.account || 'this account'))];
  const regions = [...new Set(counts.map((c) => c.region))];
  const first = counts[0];
  const account = (a: string) => (a === 'this account' ? a : `account ${a}`);
  const where = !first
    ? 'no account-region'
    : counts.length === 1
      ? `${account(first.account || 'this account')}, region ${first.region}`
      : `${counts.length} account-regions: ${accounts.length === 1 ? account(accounts[0] ?? '') : namesText(accounts, 'account')} × ${namesText(regions, 'region')}`;
  const lines = [`This will ${input.what} ${total} log group(s) in ${where}.`];
  if (creates.length)
    lines.push(
      `It would first create the guard key ${creates[0]?.keyAlias} in ${creates.length === 1 ? 'that account-region' : `the ${creates.length} account-regions that have none`}.`,
    );
  if (uncounted.length) {
    const shown = uncounted.slice(0, PROMPT_LIST_MAX);
    const more = uncounted.length > shown.length ? [`… and ${uncounted.length - shown.length} more`] : [];
    lines.push(`Not counted (the run tries them too):`, ...[...shown, ...more].map((u) => `  ${u}`));
  }
  lines.push(
    '(Counted by a dry run just now; a group created since is changed too if the run lists it.)',
    'Proceed? [y/N] ',
  );
  return lines.join('\n');
}
