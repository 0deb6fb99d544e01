/**
 * The key-dependency record (issue 21 item 1): which previous keys a log group's retained data still needs, and
 * until when. "All previously ingested data remains encrypted with the KMS key … if the key is later disabled,
 * then CloudWatch Logs is unable to read the logs that were encrypted with that key" (CloudWatch Logs user guide,
 * encrypt-log-data-kms): after a group's key changes, the data ingested before stays under the previous key
 * until retention removes it.
 *
 * Where it lives: on the log group itself, one tag per previous key, `logs-kms-guard:prev-key:<key id>` = the
 * ISO time the group stopped using that key. The data written before then needs the key until that time plus
 * the group's CURRENT retention (read when the record is used, so a retention changed later counts); a group
 * without retention needs it forever; a deleted group's tags die with it, and so does its need. Why tags: free,
 * durable (they survive the guard's functions and its stack), no new service or SDK client, and the enforce path
 * already reads a group's tags right before each association. Bounded: a group takes 50 tags (CloudWatch Logs
 * quotas), so at most MAX_RECORDS records are kept; past that the record of the key the group stopped using
 * first is dropped (its data is the oldest, the first that retention removes) and the caller says so.
 *
 * `logs-kms-guard:owner-key` = a key ARN: the key an owner chose at creation (CreateLogGroup with kmsKeyId, an
 * event the guard sees), so that when the key is later removed (a DisassociateKmsKey event, whose record does
 * not name the key) the guard knows which key the old data needs. Emptied once turned into a record.
 *
 * Pure: parsing, planning the tags to write, and deciding whether a group depends on a key; no I/O.
 */

/** The tag key prefix of one record; the rest of the tag key is the key id. */
export const PREV_KEY_TAG_PREFIX = 'logs-kms-guard:prev-key:';

/** The tag holding the key an owner chose at creation (a key ARN), until it is removed. */
export const OWNER_KEY_TAG = 'logs-kms-guard:owner-key';

/** How many records a group keeps at most (of its 50 tags). */
export const MAX_RECORDS = 10;

const DAY_MS = 86_400_000;

/** One previous key of a group: its id and when the group stopped using it (epoch ms). */
export interface KeyRecord {
  keyId: string;
  stoppedAt: number;
}

/** The key id of a key ARN (`arn:…:key/<id>`) or of a bare id; undefined for an alias or anything else. */
export function keyIdOf(key: string): string | undefined {
  const id = key.startsWith('arn:') ? /:key\/([A-Za-z0-9-]+)$/.exec(key)?.[1] : key;
  return id && /^(mrk-)?[A-Za-z0-9-]+$/.test(id) && !id.startsWith('alias') ? id : undefined;
}

/** The records a group's tags hold, oldest first; malformed ones are ignored. */
export function parseRecords(tags: Record<string, string> | undefined): KeyRecord[] {
  const out: KeyRecord[] = [];
  for (const [k, v] of Object.entries(tags ?? {})) {
    if (!k.startsWith(PREV_KEY_TAG_PREFIX)) continue;
    const keyId = keyIdOf(k.slice(PREV_KEY_TAG_PREFIX.length));
    const stoppedAt = Date.parse(v);
    if (keyId && Number.isFinite(stoppedAt)) out.push({ keyId, stoppedAt });
  }
  return out.sort((a, b) => a.stoppedAt - b.stoppedAt);
}

/** The tag of one record. */
export function recordTag(record: KeyRecord): [string, string] {
  return [
    `${PREV_KEY_TAG_PREFIX}${record.keyId}`,
    `${new Date(record.stoppedAt).toISOString().slice(0, 19)}Z`,
  ];
}

/** Until when the data needs the key (epoch ms); undefined = forever (the group keeps its data forever). */
export function neededUntil(record: KeyRecord, retentionInDays: number | undefined): number | undefined {
  return retentionInDays ? record.stoppedAt + retentionInDays * DAY_MS : undefined;
}

/** True while the group's retained data may still need the record's key. */
export function isLive(record: KeyRecord, retentionInDays: number | undefined, now: number): boolean {
  const until = neededUntil(record, retentionInDays);
  return until === undefined || until > now;
}

/** The key an owner chose at creation, from the group's tags (an empty tag: already turned into a record). */
export function ownerKeyOf(tags: Record<string, string> | undefined): string | undefined {
  const v = tags?.[OWNER_KEY_TAG];
  return v && keyIdOf(v) ? v : undefined;
}

/** What to write to a group's tags: `set` in one TagResource, `remove` (if any) in one UntagResource. */
export interface RecordPlan {
  set: Record<string, string>;
  remove: string[];
  /** Live records dropped because the group holds MAX_RECORDS already (the caller logs them). */
  dropped: KeyRecord[];
}

/**
 * The tags that record `add` on a group whose tags are `tags`: a record of the same key keeps the later time;
 * records whose data has expired (by `retentionInDays`, when known) are removed; past MAX_RECORDS the oldest go.
 * Unknown retention never expires a record.
 */
export function planRecord(
  tags: Record<string, string> | undefined,
  add: KeyRecord,
  options: { now: number; retentionInDays?: number | undefined; currentKeyId?: string | undefined },
): RecordPlan {
  const existing = parseRecords(tags);
  const remove: string[] = [];
  const keep: KeyRecord[] = [];
  for (const r of existing) {
    if (r.keyId === add.keyId) continue;
    if (options.retentionInDays !== undefined && !isLive(r, options.retentionInDays, options.now)) {
      remove.push(recordTag(r)[0]);
    } else keep.push(r);
  }
  const previous = existing.find((r) => r.keyId === add.keyId);
  const merged = { keyId: add.keyId, stoppedAt: Math.max(add.stoppedAt, previous?.stoppedAt ?? 0) };
  const dropped: KeyRecord[] = [];
  while (keep.length + 1 > MAX_RECORDS) {
    const oldest = keep.shift() as KeyRecord;
    dropped.push(oldest);
    remove.push(recordTag(oldest)[0]);
  }
  const [k, v] = recordTag(merged);
  const set: Record<string, string> = { [k]: v };
  if (tags?.[OWNER_KEY_TAG] && ownerKeyOf(tags) && keyIdOf(tags[OWNER_KEY_TAG] as string) === add.keyId) {
    set[OWNER_KEY_TAG] = '';
  }
  return { set, remove, dropped };
}

/** A log group as the dependency check sees it. */
export interface DependentCandidate {
  kmsKeyId?: string | undefined;
  retentionInDays?: number | undefined;
  tags?: Record<string, string> | undefined;
}

/**
 * Why the group's data needs `keyArn` now: `current` (its key), `previous` (a live record), or undefined.
 * A deleted group is never asked (its tags are gone with it).
 */
export function dependsOn(
  group: DependentCandidate,
  keyArn: string,
  now: number,
): { kind: 'current' | 'previous'; until?: number } | undefined {
  const id = keyIdOf(keyArn);
  if (group.kmsKeyId && (group.kmsKeyId === keyArn || (id && keyIdOf(group.kmsKeyId) === id))) {
    return { kind: 'current' };
  }
  if (!id) return undefined;
  const record = parseRecords(group.tags).find((r) => r.keyId === id);
  if (!record || !isLive(record, group.retentionInDays, now)) return undefined;
  const until = neededUntil(record, group.retentionInDays);
  return { kind: 'previous', ...(until !== undefined ? { until } : {}) };
}
