/**
 * The Security Hub sink: each finding as an ASFF document (asff.ts) imported with BatchImportFindings into the
 * account's own product (the default product ARN), 100 per call (the API's maximum: BatchImportFindings API
 * reference). The Id is deterministic (core/finding.ts findingId), so a finding seen again, from any run or
 * container, updates the same Security Hub finding instead of adding one; a RESOLVED one closes it. Findings
 * Security Hub refuses (FailedFindings) are retried, then handed back as failures: never dropped silently.
 */
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { findingId, type GuardFinding } from '../finding.ts';
import type { Log } from '../log.ts';
import { type AsffFinding, toAsff } from './asff.ts';
import { documentOfFinding } from './document.ts';
import { type Refusal, sendRetryingRefused } from './retry-refused.ts';
import type { FindingSink, SinkFailure } from './sinks.ts';
import { latestPerId } from './subscription.ts';

/** BatchImportFindings takes at most 100 findings per request (API reference, Findings). */
export const MAX_FINDINGS_PER_CALL = 100;
/** A finding larger than 240 KB is refused (API reference); ours are a few KB, this guards the arithmetic. */
export const MAX_FINDING_BYTES = 240 * 1024;
/** Calls in all for a finding Security Hub keeps refusing (retry-refused.ts). */
const ATTEMPTS = 3;

export interface SecurityHubSinkOptions {
  client: Pick<SecurityHubClient, 'send'>;
  log: Log;
  /** Waits between retries of refused findings (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
  /** Counts what happened, for metrics (imported, failed). */
  count?: (name: 'FindingsImported' | 'FindingsFailed', n: number) => void;
}

/** Splits the documents into BatchImportFindings requests of at most 100. */
export function batchesOf<T>(items: readonly T[], size = MAX_FINDINGS_PER_CALL): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Imports one batch; the documents Security Hub refused, with its reasons (each may succeed later). */
async function importBatch(
  client: SecurityHubSinkOptions['client'],
  batch: AsffFinding[],
): Promise<Refusal<AsffFinding>[]> {
  const out = await client.send(
    new BatchImportFindingsCommand({ Findings: batch satisfies AwsSecurityFinding[] }),
  );
  const byId = new Map(batch.map((d) => [d.Id, d]));
  return (out.FailedFindings ?? []).flatMap((f) => {
    const entry = byId.get(f.Id ?? '');
    const reason = `${f.ErrorCode ?? 'Failed'}: ${f.ErrorMessage ?? ''}`.trim();
    return entry ? [{ entry, reason, retryable: true }] : [];
  });
}

/** The Security Hub sink: BatchImportFindings of every finding, refused ones retried, then returned. */
export function securityHubSink(options: SecurityHubSinkOptions): FindingSink {
  return {
    name: 'security-hub',
    async send(findings: readonly GuardFinding[]): Promise<SinkFailure[]> {
      const failures: SinkFailure[] = [];
      const pending: AsffFinding[] = [];
      for (const f of latestPerId(findings, findingId)) {
        const doc = toAsff(documentOfFinding(f));
        if (Buffer.byteLength(JSON.stringify(doc)) > MAX_FINDING_BYTES)
          failures.push({ findingId: doc.Id, reason: 'larger than 240 KB' });
        else pending.push(doc);
      }
      const refused = await sendRetryingRefused(
        pending,
        async (docs) => {
          const out: Refusal<AsffFinding>[] = [];
          for (const batch of batchesOf(docs)) out.push(...(await importBatch(options.client, batch)));
          options.count?.('FindingsImported', docs.length - out.length);
          return out;
        },
        {
          attempts: ATTEMPTS,
          baseMs: 500,
          ...(options.sleep ? { sleep: options.sleep } : {}),
          onRefused: (attempt, list) =>
            options.log.warn('Security Hub refused findings', {
              attempt,
              refused: list.map((r) => ({ findingId: (r.entry as AsffFinding).Id, reason: r.reason })),
            }),
        },
      );
      failures.push(...refused.map((r) => ({ findingId: r.entry.Id, reason: r.reason })));
      if (failures.length) options.count?.('FindingsFailed', failures.length);
      return failures;
    },
  };
}
