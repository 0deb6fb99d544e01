/**
 * The log groups infrastructure as code keeps taking the key from, as `audit` reports them: read back from the
 * changes function's fight records (core/fight-record.ts), the `logs-kms-guard-fight/…` streams of its own log
 * group `/aws/lambda/logs-kms-guard-<stage>-changes` (the name the template gives the function; before the
 * changes function existed the enforce function wrote them, in `…-enforce`, and those are still read). A few calls
 * per account-region: the function's log group by prefix, then its fight streams by prefix. Nothing is
 * written; a refusal or an account without the deployment reads as "no records", with the reason kept.
 */
import { DescribeLogGroupsCommand, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from '../core/clients.ts';
import { FIGHT_PREFIX, type FightRecord, parseFightStream } from '../core/fight-record.ts';
import { fixFor } from '../core/iac-fix.ts';
import type { AuditRow } from './report.ts';

/** The function log groups that hold fight records, for every stage: `/aws/lambda/logs-kms-guard-<stage>-changes`. */
const FUNCTION_GROUPS = '/aws/lambda/logs-kms-guard-';
const RECORD_SUFFIXES = ['-changes', '-enforce'];

/** The fight records of one account-region, by log group; `error` when they could not be read. */
export interface FightsRead {
  byGroup: Map<string, FightRecord[]>;
  error?: string;
}

/**
 * Reads every fight record of the account-region `clients` point at, with the SDK's own retries only: an
 * endpoint that cannot be reached costs the audit a moment here, not a minute (its listing then reports it).
 */
export async function readFights(clients: Clients): Promise<FightsRead> {
  const byGroup = new Map<string, FightRecord[]>();
  const retry = <T>(call: () => Promise<T>) => call();
  try {
    const functionGroups: string[] = [];
    let token: string | undefined;
    do {
      const page = await retry(() =>
        clients.logs.send(
          new DescribeLogGroupsCommand({
            logGroupNamePrefix: FUNCTION_GROUPS,
            ...(token ? { nextToken: token } : {}),
          }),
        ),
      );
      for (const g of page.logGroups ?? []) {
        if (RECORD_SUFFIXES.some((s) => g.logGroupName?.endsWith(s)))
          functionGroups.push(g.logGroupName as string);
      }
      token = page.nextToken;
    } while (token);
    for (const logGroupName of functionGroups) {
      let next: string | undefined;
      do {
        const page = await retry(() =>
          clients.logs.send(
            new DescribeLogStreamsCommand({
              logGroupName,
              logStreamNamePrefix: FIGHT_PREFIX,
              ...(next ? { nextToken: next } : {}),
            }),
          ),
        );
        for (const s of page.logStreams ?? []) {
          const record = parseFightStream(s);
          if (record) byGroup.set(record.logGroupName, [...(byGroup.get(record.logGroupName) ?? []), record]);
        }
        next = page.nextToken;
      } while (next);
    }
    return { byGroup };
  } catch (err) {
    return { byGroup, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** A group's records as a report cell: `terraform since 2026-12-07 (last 2026-12-09)`, several joined by `; `. */
export function fightsText(records: readonly FightRecord[] | undefined): string {
  return (records ?? [])
    .map((r) => {
      const last =
        r.last && r.last.slice(0, 10) !== r.since.slice(0, 10) ? ` (last ${r.last.slice(0, 10)})` : '';
      return `${r.tool} since ${r.since.slice(0, 10)}${last}`;
    })
    .join('; ');
}

/** A fought-over group as the audit saw it: its report row and its records. */
export interface FoughtGroup {
  row: AuditRow;
  records: readonly FightRecord[];
}

/** The key the fix names: the group's key when it is on one (the guard put it back), else a placeholder. */
function keyOf(row: AuditRow): string {
  return row.kmsKeyId || '<the guard key ARN>';
}

/** A fought-over group in the JSON summary: where, which tools since when, and the fix for each tool. */
export function foughtSummary({ row, records }: FoughtGroup) {
  return {
    account: row.account,
    region: row.region,
    logGroup: row.logGroup,
    tools: records.map((r) => ({ tool: r.tool, since: r.since, ...(r.last ? { last: r.last } : {}) })),
    fixes: records.map((r) => fixFor(r.tool, row.logGroup, keyOf(row))),
  };
}

/** The lines after the report: how many groups are fought over, then each with its fix (at most 20). */
export function foughtLines(fought: readonly FoughtGroup[], max = 20): string[] {
  if (fought.length === 0) return [];
  const lines = [
    `${fought.length} log group(s) fought over by infrastructure as code (the tool removes the key at each apply; the guard puts it back, and logs written in between are under the AWS-owned key):`,
  ];
  for (const { row, records } of fought.slice(0, max)) {
    for (const r of records) {
      lines.push(
        `  ${row.account ? `${row.account} ` : ''}${row.region} ${row.logGroup}: ${fixFor(r.tool, row.logGroup, keyOf(row))}`,
      );
    }
  }
  if (fought.length > max)
    lines.push(`  … and ${fought.length - max} more (the report lists them all: foughtBy)`);
  return lines;
}
