/**
 * The groups of one region whose retained data depends on a PREVIOUS key that is disabled or pending deletion
 * (issue 21 item 1): what `audit`'s at-risk view and `doctor`'s `key-dependencies` check show. Two sources: the
 * key-dependency record the guard writes on each group's tags (core/key-record.ts; one ListTagsForResource per
 * group, paced under its 5 TPS quota), and, best effort, CloudTrail's last 90 days (LookupEvents, 2 TPS, at most
 * TRAIL_PAGES pages of each event name; key-trail.ts) for groups the guard never saw change key. Only the records
 * need every group listed (with --key-records); CloudTrail's groups are described one by one. Each record
 * counts while the group's current retention keeps the data written before it (none = forever); a deleted group
 * is never listed. One DescribeKey per distinct previous key. Reads only.
 */
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { type Clock, systemClock } from '../core/clock.ts';
import { isLive, keyIdOf, parseRecords } from '../core/key-record.ts';
import { describePage, groupArnOf, readTags } from '../core/sweep/listing.ts';
import { sweepBuckets } from '../core/sweep/quotas.ts';
import { type CliClients, describeAwsError } from './aws.ts';
import { parseTrailEvent, type TrailKeyEvent, trailRecords } from './key-trail.ts';

/** One group whose old data needs a previous key that is not usable. */
export interface PreviousKeyRisk {
  group: string;
  /** The previous key (ARN when known, else its id). */
  key: string;
  /** `Disabled`, `PendingDeletion`, `PendingReplicaDeletion`. */
  keyState: string;
  /** Pending deletion: when the data becomes unreadable for good (ISO 8601). */
  deletionDate?: string;
  /** Where the dependency was found: the guard's record on the group, or CloudTrail (best effort). */
  source: 'record' | 'cloudtrail';
}

/** What the look-up found, and how complete it is. */
export interface PreviousKeyView {
  risks: PreviousKeyRisk[];
  /** Groups whose tags were read (their records seen). */
  groupsRead: number;
  /** Groups listed but not read before the deadline (their records unseen). */
  groupsUnread: number;
  /** CloudTrail: read (with `truncated` when pages were left), or why not. */
  trail: { read: true; truncated: boolean } | { read: false; error: string };
}

/** Pages of LookupEvents read per event name (50 events each). */
const TRAIL_PAGES = 20;
/** The events that set or end a group's key. */
const TRAIL_EVENTS = ['CreateLogGroup', 'AssociateKmsKey', 'DisassociateKmsKey', 'DeleteLogGroup'];
const UNUSABLE = new Set(['Disabled', 'PendingDeletion', 'PendingReplicaDeletion']);

/** The region's groups that depend on a previous key now disabled or pending deletion. */
export async function previousKeyRisks(input: {
  clients: CliClients;
  region: string;
  account?: string | undefined;
  prefix?: string | undefined;
  /** False: no tags are read (`audit --skip-opt-out-check`): CloudTrail only. */
  readTags: boolean;
  clock?: Clock | undefined;
  /** Epoch ms after which no more tags are read (doctor's bounded check). */
  deadline?: number | undefined;
  /** The run's Ctrl-C: no more reads once aborted (what was not read is counted unread). */
  signal?: AbortSignal | undefined;
}): Promise<PreviousKeyView> {
  const stopped = () => input.signal?.aborted === true;
  const clock = input.clock ?? systemClock;
  const buckets = sweepBuckets({}, clock);
  const trail = stopped() ? { read: false as const, error: 'interrupted' } : await readTrail(input.clients);
  const lookup = { ...input, clock, buckets, stopped };
  // The records live on every group's tags: all are listed. CloudTrail alone names its few groups: only those
  // are described (a region of a million groups is not listed a second time after the audit's own listing).
  const groups = input.readTags
    ? await listGroups(lookup)
    : await describeGroups(lookup, trail.read ? trailRecords(trail.events).map((r) => r.group) : []);

  const now = clock.now();
  const found: { group: Group; key: string; source: PreviousKeyRisk['source'] }[] = [];
  const consider = (group: Group, key: string, stoppedAt: number, source: PreviousKeyRisk['source']) => {
    const id = keyIdOf(key);
    if (!id || (group.kmsKeyId && keyIdOf(group.kmsKeyId) === id)) return; // its key now: the audit's own check
    if (!isLive({ keyId: id, stoppedAt }, group.retentionInDays, now)) return;
    if (found.some((f) => f.group === group && keyIdOf(f.key) === id)) return;
    found.push({ group, key, source });
  };
  let groupsRead = 0;
  let groupsUnread = 0;
  if (input.readTags) {
    for (const group of groups.values()) {
      if (stopped() || (input.deadline !== undefined && clock.now() >= input.deadline)) {
        groupsUnread++;
        continue;
      }
      const tags = await readTags(input.clients, group.arn, { bucket: buckets.tags, clock });
      if (tags === undefined) continue;
      groupsRead++;
      for (const r of parseRecords(tags)) consider(group, r.keyId, r.stoppedAt, 'record');
    }
  }
  if (trail.read) {
    for (const r of trailRecords(trail.events)) {
      const group = groups.get(r.group);
      if (group) consider(group, r.key, r.stoppedAt, 'cloudtrail');
    }
  }
  const risks = await unusableOnly(input.clients, found);
  return {
    risks,
    groupsRead,
    groupsUnread,
    trail: trail.read ? { read: true, truncated: trail.truncated } : { read: false, error: trail.error },
  };
}

/** A group as the look-up needs it. */
type Group = { name: string; arn: string; kmsKeyId?: string; retentionInDays?: number };

/** What listing or describing groups needs of previousKeyRisks' input. */
interface GroupLookup {
  clients: CliClients;
  region: string;
  account?: string | undefined;
  prefix?: string | undefined;
  clock: Clock;
  buckets: ReturnType<typeof sweepBuckets>;
  stopped: () => boolean;
}

/** The group as the look-up keeps it, from a DescribeLogGroups entry. */
function groupOf(g: LogGroup, where: GroupLookup): Group | undefined {
  if (!g.logGroupName) return undefined;
  return {
    name: g.logGroupName,
    arn: groupArnOf(g, where.region, where.account),
    ...(g.kmsKeyId ? { kmsKeyId: g.kmsKeyId } : {}),
    ...(g.retentionInDays ? { retentionInDays: g.retentionInDays } : {}),
  };
}

/** Every group of the region (under the prefix), paced under DescribeLogGroups' quota. */
async function listGroups(where: GroupLookup): Promise<Map<string, Group>> {
  const groups = new Map<string, Group>();
  let nextToken: string | undefined;
  do {
    const page = await describePage(where.clients, {
      bucket: where.buckets.describe,
      clock: where.clock,
      ...(where.prefix ? { prefix: where.prefix } : {}),
      ...(nextToken ? { nextToken } : {}),
    });
    for (const g of page.logGroups ?? []) {
      const group = groupOf(g, where);
      if (group) groups.set(group.name, group);
    }
    nextToken = page.nextToken;
  } while (nextToken && !where.stopped());
  return groups;
}

/** The named groups that exist (under the prefix): one DescribeLogGroups each, paced; a deleted one is left out. */
async function describeGroups(where: GroupLookup, names: string[]): Promise<Map<string, Group>> {
  const groups = new Map<string, Group>();
  for (const name of new Set(names)) {
    if (where.stopped()) break;
    if (where.prefix && !name.startsWith(where.prefix)) continue;
    // The exact group, if it exists, is the first result of its own prefix (names sort lexicographically).
    const page = await describePage(where.clients, {
      bucket: where.buckets.describe,
      clock: where.clock,
      prefix: name,
      limit: 1,
    });
    const found = page.logGroups?.[0];
    const group = found?.logGroupName === name ? groupOf(found, where) : undefined;
    if (group) groups.set(name, group);
  }
  return groups;
}

/** The dependencies whose key is disabled or pending deletion (one DescribeKey per key). */
async function unusableOnly(
  clients: CliClients,
  found: { group: { name: string }; key: string; source: PreviousKeyRisk['source'] }[],
): Promise<PreviousKeyRisk[]> {
  const states = new Map<string, Promise<{ state: string; arn?: string; deletionDate?: string }>>();
  const stateOf = (key: string) => {
    const id = keyIdOf(key) as string;
    let p = states.get(id);
    if (!p) {
      p = clients.kms
        .send(new DescribeKeyCommand({ KeyId: key }))
        .then((out) => ({
          state: out.KeyMetadata?.KeyState ?? 'unknown',
          ...(out.KeyMetadata?.Arn ? { arn: out.KeyMetadata.Arn } : {}),
          ...(out.KeyMetadata?.DeletionDate
            ? { deletionDate: new Date(out.KeyMetadata.DeletionDate).toISOString() }
            : {}),
        }))
        .catch((err: Error) => ({ state: err.name === 'NotFoundException' ? 'NotFound' : 'unknown' }));
      states.set(id, p);
    }
    return p;
  };
  const risks: PreviousKeyRisk[] = [];
  for (const f of found) {
    const s = await stateOf(f.key);
    if (!UNUSABLE.has(s.state)) continue;
    risks.push({
      group: f.group.name,
      key: s.arn ?? f.key,
      keyState: s.state,
      ...(s.deletionDate ? { deletionDate: s.deletionDate } : {}),
      source: f.source,
    });
  }
  return risks.sort((a, b) => a.group.localeCompare(b.group));
}

/** The trail's key events of the last 90 days, bounded; or why they could not be read. */
async function readTrail(
  clients: CliClients,
): Promise<{ read: true; events: TrailKeyEvent[]; truncated: boolean } | { read: false; error: string }> {
  const events: TrailKeyEvent[] = [];
  let truncated = false;
  try {
    for (const name of TRAIL_EVENTS) {
      let token: string | undefined;
      let pages = 0;
      do {
        const out = await clients.cloudtrail().send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }],
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const e of out.Events ?? []) {
          const parsed = parseTrailEvent(e.CloudTrailEvent);
          if (parsed && parsed.eventName === name) events.push(parsed);
        }
        token = out.NextToken;
        pages++;
      } while (token && pages < TRAIL_PAGES);
      if (token) truncated = true;
    }
  } catch (err) {
    return { read: false, error: describeAwsError(err) };
  }
  return { read: true, events, truncated };
}

/** The at-risk view's lines: one per group at risk, and notes on what the view could not see. */
export function previousKeyLines(view: PreviousKeyView, where = ''): { risks: string[]; notes: string[] } {
  const risks = view.risks.map(
    (r) =>
      `${where}${r.group}: its data from before its key changed needs ${r.key}, which is ${r.keyState}${r.deletionDate ? ` (unreadable from ${r.deletionDate})` : ''} [${r.source === 'record' ? 'guard record' : 'CloudTrail, best effort'}]`,
  );
  const notes: string[] = [];
  if (!view.trail.read) {
    notes.push(
      `${where}CloudTrail not read (${view.trail.error}): groups the guard never saw change key are not covered`,
    );
  } else if (view.trail.truncated) {
    notes.push(`${where}CloudTrail read in part (the most recent ${TRAIL_PAGES * 50} events of each kind)`);
  }
  if (view.groupsUnread > 0)
    notes.push(`${where}${view.groupsUnread} group(s) not read in time: their records unseen`);
  return { risks, notes };
}
