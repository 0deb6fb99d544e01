/**
 * Handling a change once. EventBridge may deliver an event twice, SQS may redeliver a record, and the copies
 * can reach the same container or two containers within milliseconds; a duplicate must spend no second
 * AssociateKmsKey call of the 5 TPS quota and raise no second alarm. Three layers, cheapest first:
 *
 * 1. In flight, in this container (`shareRunning`): a copy that arrives while the first is still being
 *    handled waits for the first one's result instead of starting its own (creations and changes alike).
 * 2. Handled, in this container (`rememberHandled`): the ids of change events already handled, so a late copy
 *    is ignored; bounded, the oldest forgotten first.
 * 3. Across containers (`claimByLogStream`): a change event is claimed by creating a log stream named after
 *    it in the function's own log group; CreateLogStream is atomic per name, so one container wins.
 *
 * A creation needs only layer 1: encrypting a group twice is harmless (the second finds it encrypted). Not
 * the sweep's lease (sweep/lease.ts): that keeps one sweep run going at a time; this handles one event once.
 */
import { CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from './clients.ts';

/** Change ids remembered per container before the oldest is forgotten. */
const MAX_REMEMBERED = 10_000;

/**
 * One piece of work per key in this container: a concurrent duplicate shares the running one's result instead
 * of spending more calls; `done` runs when it succeeded. Without `inflight`, every call starts its own.
 */
export function shareRunning<T>(
  inflight: Map<string, Promise<T>> | undefined,
  key: string,
  start: () => Promise<T>,
  done?: () => void,
): Promise<T> {
  const running = inflight?.get(key);
  if (running) return running;
  const work = start();
  if (inflight) {
    inflight.set(key, work);
    work.then(
      () => {
        inflight.delete(key);
        done?.();
      },
      () => inflight.delete(key),
    );
  }
  return work;
}

/** Remembers a handled change, bounded (oldest forgotten first). */
export function rememberHandled(handled: Set<string> | undefined, key: string): void {
  if (!handled) return;
  handled.add(key);
  if (handled.size > MAX_REMEMBERED) handled.delete(handled.values().next().value as string);
}

/**
 * Claims change events across containers: true for the first claim of an id, false when another container
 * made it. The claim is a stream `logs-kms-guard-change/<eventID>` in the function's own log group (its
 * OwnLogs grant). Anything else (the group missing, an outage) lets the copy through: an alarm twice is better
 * than none.
 */
export function claimByLogStream(logs: Clients['logs'], logGroupName: string) {
  return async (eventId: string): Promise<boolean> => {
    const logStreamName = `logs-kms-guard-change/${eventId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)}`;
    try {
      await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
      return true;
    } catch (err) {
      return (err as Error).name !== 'ResourceAlreadyExistsException';
    }
  };
}
