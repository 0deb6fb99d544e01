/**
 * Where the findings function sends findings: a list of sinks, each one integration (Security Hub today;
 * AWS Config evaluations and EventBridge events join by adding one entry to the list the entry point builds).
 * A sink gets every finding the function decoded from one subscription delivery and answers which it could
 * not deliver; the function fails the invocation on any undelivered finding so Lambda retries the delivery
 * and, past its retries, sends it to the function's dead-letter queue: no finding is dropped silently.
 */
import { findingId, type GuardFinding } from '../finding.ts';

/** What a sink could not deliver, with the reason; an empty list means all were delivered. */
export interface SinkFailure {
  findingId: string;
  reason: string;
}

/** One integration the findings function sends findings to. */
export interface FindingSink {
  /** Short name for logs and metrics: "security-hub", "config", "eventbridge". */
  name: string;
  /** Delivers the findings (idempotently: the same finding sent twice updates, never duplicates). */
  send(findings: readonly GuardFinding[]): Promise<SinkFailure[]>;
}

/** The result of sending one delivery's findings to every sink. */
export interface SinksResult {
  sent: number;
  failures: (SinkFailure & { sink: string })[];
}

/** Sends the findings to every sink (all of them, even when one fails) and gathers what was not delivered. */
export async function sendToSinks(
  sinks: readonly FindingSink[],
  findings: readonly GuardFinding[],
): Promise<SinksResult> {
  const failures: SinksResult['failures'] = [];
  if (findings.length === 0) return { sent: 0, failures };
  const results = await Promise.allSettled(sinks.map((sink) => sink.send(findings)));
  results.forEach((result, i) => {
    const sink = sinks[i]?.name ?? String(i);
    if (result.status === 'fulfilled') for (const f of result.value) failures.push({ ...f, sink });
    else
      for (const finding of findings)
        failures.push({
          findingId: findingId(finding),
          reason: String(result.reason),
          sink,
        });
  });
  return { sent: findings.length, failures };
}
