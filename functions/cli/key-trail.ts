/**
 * Reconstructing, best effort, the previous keys of log groups the guard never saw change key, from CloudTrail's
 * event history (LookupEvents: the last 90 days of the region): CreateLogGroup with a kmsKeyId and
 * AssociateKmsKey set a group's key, a later AssociateKmsKey with another key or a DisassociateKmsKey ends it
 * (CloudWatch Logs user guide: "All previously ingested data remains encrypted with the KMS key"), and a
 * DeleteLogGroup ends what the group needed. What happened
 * before the 90 days, or a DisassociateKmsKey of a key associated before them, cannot be reconstructed: the
 * record the guard writes on the group (core/key-record.ts) is what covers those. Pure: events in, records out.
 */

/** One CloudTrail record as LookupEvents returns it (its CloudTrailEvent, parsed), reduced to what is used. */
export interface TrailKeyEvent {
  eventName: string;
  /** Epoch ms. */
  at: number;
  /** The log group name (logGroupName, or the name in a resourceIdentifier ARN). */
  group: string;
  /** The key the call named (CreateLogGroup, AssociateKmsKey). */
  kmsKeyId?: string;
}

/** A previous key of a group, from the trail: the key (as the call named it) and when the group stopped using it. */
export interface TrailRecord {
  group: string;
  key: string;
  stoppedAt: number;
}

/** The event's fields from a CloudTrailEvent JSON; undefined for a failed call or another shape. */
export function parseTrailEvent(json: string | undefined): TrailKeyEvent | undefined {
  let record: Record<string, any>;
  try {
    record = JSON.parse(json ?? '');
  } catch {
    return undefined;
  }
  if (!record || typeof record !== 'object' || record.errorCode) return undefined;
  const params = record.requestParameters ?? {};
  const at = Date.parse(String(record.eventTime));
  const fromArn = /:log-group:([^:]+)(?::\*)?$/.exec(String(params.resourceIdentifier ?? ''))?.[1];
  const group = typeof params.logGroupName === 'string' ? params.logGroupName : fromArn;
  if (!group || !Number.isFinite(at) || typeof record.eventName !== 'string') return undefined;
  return {
    eventName: record.eventName,
    at,
    group,
    ...(typeof params.kmsKeyId === 'string' ? { kmsKeyId: params.kmsKeyId } : {}),
  };
}

/** Within one second (CloudTrail's precision), the order a group's life allows. */
const ORDER = ['CreateLogGroup', 'AssociateKmsKey', 'DisassociateKmsKey', 'DeleteLogGroup'];

/** The previous keys the events show, per group, in the order the groups changed key. */
export function trailRecords(events: readonly TrailKeyEvent[]): TrailRecord[] {
  const current = new Map<string, string>();
  const out: TrailRecord[] = [];
  // CloudTrail times have second precision: within one second, the order a group's life allows.
  const rank = (e: TrailKeyEvent) => ORDER.indexOf(e.eventName);
  for (const e of [...events].sort((a, b) => a.at - b.at || rank(a) - rank(b))) {
    const was = current.get(e.group);
    if (e.eventName === 'DeleteLogGroup') {
      // A deleted group's data went with it: what it needed before is needed no more (a new group of the name
      // starts afresh).
      for (let i = out.length - 1; i >= 0; i--) if (out[i]?.group === e.group) out.splice(i, 1);
      current.delete(e.group);
    } else if (e.eventName === 'CreateLogGroup') {
      if (e.kmsKeyId) current.set(e.group, e.kmsKeyId);
      else current.delete(e.group);
    } else if (e.eventName === 'AssociateKmsKey' && e.kmsKeyId) {
      if (was && was !== e.kmsKeyId) out.push({ group: e.group, key: was, stoppedAt: e.at });
      current.set(e.group, e.kmsKeyId);
    } else if (e.eventName === 'DisassociateKmsKey') {
      if (was) out.push({ group: e.group, key: was, stoppedAt: e.at });
      current.delete(e.group);
    }
  }
  return out;
}
