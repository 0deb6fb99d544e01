/**
 * The EventBridge sink of the findings function (issue 22 item 4): every finding becomes one event on the
 * account's default bus (or a named one), `source` logs-kms-guard and a detail-type per kind
 * (finding-event.ts; schema docs/events.schema.json). PutEvents takes at most 10 entries and 256 KB a request
 * (EventBridge API Reference, PutEvents: "Entries ... Maximum number of 10 items"; "the total entry size must
 * be less than 256KB"); it answers per entry, so failed entries are retried alone (throttling, internal
 * failures) and the rest reported by one error after every batch was tried. IAM: events:PutEvents on the bus
 * ARN with the condition events:source = logs-kms-guard (docs/EVENTS.md, "Permissions").
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { GuardFinding } from '../finding.ts';
import { type FindingEventEntry, findingEventEntry } from './finding-event.ts';
import { sendRetryingRefused } from './retry-refused.ts';

/** What every sink of the findings function offers (functions/core/findings/sinks.ts FindingSink). */
export interface FindingSinkLike {
  name: string;
  send(findings: GuardFinding[]): Promise<void>;
}

/** PutEvents' limits (API Reference, PutEvents). */
export const MAX_ENTRIES = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;
/** Entry errors worth another try (API Reference, PutEventsResultEntry.ErrorCode). */
const RETRYABLE = new Set(['ThrottlingException', 'InternalFailure', 'InternalException']);
/** Calls in all for an entry EventBridge keeps refusing for a transient reason (retry-refused.ts). */
const ATTEMPTS = 3;

/**
 * An entry's size as EventBridge counts it (EventBridge User Guide, "Calculating PutEvents event entry size"):
 * 14 bytes for Time, plus the UTF-8 bytes of Source, DetailType, Detail and each resource.
 */
export function entrySize(entry: FindingEventEntry): number {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  return (
    14 +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    entry.Resources.reduce((n, r) => n + bytes(r), 0)
  );
}

/** Splits entries into PutEvents requests: at most 10 entries and 256 KB each, in order. */
export function batchEntries(entries: readonly FindingEventEntry[]): FindingEventEntry[][] {
  const batches: FindingEventEntry[][] = [];
  let batch: FindingEventEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const n = entrySize(entry);
    if (batch.length > 0 && (batch.length === MAX_ENTRIES || size + n > MAX_REQUEST_BYTES)) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(entry);
    size += n;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export interface EventBridgeSinkOptions {
  client?: EventBridgeClient;
  /** The bus (name or ARN); the account's default bus when omitted. */
  eventBusName?: string;
  /** Waits between retries of refused entries (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

/** The sink that puts one EventBridge event per finding. */
export function eventBridgeSink(options: EventBridgeSinkOptions = {}): FindingSinkLike {
  const client = options.client ?? new EventBridgeClient({});
  return {
    name: 'eventbridge',
    async send(findings) {
      const entries = findings.map((f) => findingEventEntry(f, options.eventBusName));
      const failures: string[] = [];
      for (const batch of batchEntries(entries)) {
        failures.push(...(await putBatch(client, batch, options.sleep)));
      }
      if (failures.length > 0) {
        throw new Error(`EventBridge PutEvents: ${failures.length} event(s) not put: ${failures.join('; ')}`);
      }
    },
  };
}

/** Puts one batch, retrying (with backoff) the entries that failed for a transient reason; the failures left. */
async function putBatch(
  client: EventBridgeClient,
  batch: FindingEventEntry[],
  sleep?: (ms: number) => Promise<void>,
): Promise<string[]> {
  const refused = await sendRetryingRefused(
    batch,
    async (pending) => {
      const out = await client.send(new PutEventsCommand({ Entries: pending }));
      const results: PutEventsResultEntry[] = out.Entries ?? [];
      return pending.flatMap((entry, i) => {
        const code = results[i]?.ErrorCode;
        if (!code) return [];
        const reason = `${entry.DetailType} ${entry.Resources[0]}: ${code} ${results[i]?.ErrorMessage ?? ''}`;
        return [{ entry, reason: reason.trim(), retryable: RETRYABLE.has(code) }];
      });
    },
    { attempts: ATTEMPTS, baseMs: 200, ...(sleep ? { sleep } : {}) },
  );
  return refused.map((r) => r.reason);
}
