/**
 * One subscription delivery, end to end and without SDK imports: decode the finding lines, send them to every
 * sink, log what could not be read or delivered, and fail the invocation when anything was not delivered, so
 * Lambda retries the delivery (an asynchronous invocation: twice) and then parks it in the function's
 * dead-letter queue, where the DLQ alarm sees it. Re-sending is safe: every sink is idempotent by finding id.
 */
import type { Log } from '../log.ts';
import { type FindingSink, sendToSinks } from './sinks.ts';
import { decodeDelivery } from './subscription.ts';

/** The part of a CloudWatch Logs subscription event this reads. */
export interface SubscriptionEvent {
  awslogs?: { data?: string };
}

/** What one delivery did. */
export interface DeliveryResult {
  findings: number;
  rejectedLines: number;
  failed: number;
}

/** Thrown when some finding was not delivered: Lambda retries the delivery, then sends it to the DLQ. */
export class UndeliveredFindingsError extends Error {
  override name = 'UndeliveredFindingsError';
}

/** Handles one delivery: decode, send to every sink, and throw when a finding was not delivered. */
export async function deliver(
  event: SubscriptionEvent,
  sinks: readonly FindingSink[],
  log: Log,
  count: (name: string, n: number) => void = () => {},
): Promise<DeliveryResult> {
  const data = event?.awslogs?.data;
  if (!data) {
    log.warn('not a CloudWatch Logs subscription delivery: ignored', { keys: Object.keys(event ?? {}) });
    return { findings: 0, rejectedLines: 0, failed: 0 };
  }
  const delivery = decodeDelivery(data);
  if (delivery.rejected.length) {
    // A line the filter matched that is not a valid finding: a bug to see, not a reason to retry the others.
    log.error('log lines that are not findings', {
      logGroup: delivery.logGroup,
      rejected: delivery.rejected,
    });
    count('FindingLinesRejected', delivery.rejected.length);
  }
  const { failures } = await sendToSinks(sinks, delivery.findings);
  const result = {
    findings: delivery.findings.length,
    rejectedLines: delivery.rejected.length,
    failed: failures.length,
  };
  log.info('findings delivered', { logGroup: delivery.logGroup, sinks: sinks.map((s) => s.name), ...result });
  if (failures.length) {
    log.error('findings not delivered', { failures });
    throw new UndeliveredFindingsError(
      `${failures.length} finding(s) not delivered (${[...new Set(failures.map((f) => f.sink))].join(', ')}): the delivery is retried, then kept in the dead-letter queue`,
    );
  }
  return result;
}
