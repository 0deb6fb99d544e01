/**
 * Writing the key-dependency record (key-record.ts) to a log group's tags: one TagResource, plus one
 * UntagResource only when records have expired or the bound was reached. Called only when a group's key changes
 * away from a key (an override, a rollback or `disassociate`, a seen DisassociateKmsKey): never on the warm path
 * of a new group, which had no key. Written BEFORE the key changes, so a failed write changes nothing (the caller
 * fails and is retried), and a record for a key the group still uses is harmless (counted once).
 */
import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import { keyIdOf, OWNER_KEY_TAG, planRecord } from './key-record.ts';
import type { Log } from './log.ts';
import { retryTransient } from './retry.ts';

/** What one record write needs: the group, the key it stops using, and what is known of its tags and retention. */
export interface RecordWrite {
  clients: Clients;
  /** The group's ARN (no trailing `:*`), as TagResource takes it. */
  arn: string;
  /** The key (ARN or id) the group stops using now. */
  previousKey: string;
  /** The group's tags as read moments ago, when known: expired records are then removed. */
  tags?: Record<string, string> | undefined;
  retentionInDays?: number | undefined;
  /** More tags to set in the same TagResource (the rollback's opt-out tag). */
  extraTags?: Record<string, string>;
  log: Log;
  clock?: Clock;
  deadline?: number;
}

/** Records that the group stops using `previousKey` now; false when the key has no id (nothing to record). */
export async function writeKeyRecord(w: RecordWrite): Promise<boolean> {
  const clock = w.clock ?? systemClock;
  const keyId = keyIdOf(w.previousKey);
  const retry = { deadline: w.deadline ?? clock.now() + 60_000, clock, maxAttempts: 10 };
  if (!keyId) {
    if (w.extraTags) await tag(w, w.extraTags, retry);
    return false;
  }
  const now = clock.now();
  const plan = planRecord(w.tags, { keyId, stoppedAt: now }, { now, retentionInDays: w.retentionInDays });
  if (plan.dropped.length > 0) {
    w.log.warn('key-dependency record: the group holds the most records kept; the oldest were dropped', {
      logGroupArn: w.arn,
      dropped: plan.dropped.map((r) => r.keyId),
    });
  }
  await tag(w, { ...w.extraTags, ...plan.set }, retry);
  if (plan.remove.length > 0) {
    await retryTransient(
      () => w.clients.logs.send(new UntagResourceCommand({ resourceArn: w.arn, tagKeys: plan.remove })),
      retry,
    );
  }
  w.log.info('key-dependency record written', { logGroupArn: w.arn, previousKey: w.previousKey });
  return true;
}

/** One TagResource, retried while transient. */
async function tag(
  w: RecordWrite,
  tags: Record<string, string>,
  retry: { deadline: number; clock: Clock; maxAttempts: number },
): Promise<void> {
  await retryTransient(
    () => w.clients.logs.send(new TagResourceCommand({ resourceArn: w.arn, tags })),
    retry,
  );
}

/**
 * Remembers the key an owner chose at creation (`logs-kms-guard:owner-key`), so that a later DisassociateKmsKey
 * (whose record does not name the key) can be recorded. Best effort: one TagResource on the event of a group
 * created with its own key (never on a new group without one); a failure is logged, the event is not failed.
 */
export async function markOwnerKey(
  w: Omit<RecordWrite, 'tags' | 'retentionInDays' | 'extraTags'>,
): Promise<void> {
  const clock = w.clock ?? systemClock;
  if (!keyIdOf(w.previousKey)) return;
  try {
    await tag(
      w,
      { [OWNER_KEY_TAG]: w.previousKey },
      { deadline: w.deadline ?? clock.now() + 60_000, clock, maxAttempts: 5 },
    );
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return;
    w.log.warn('the key the group was created with could not be noted on it (key-dependency record)', {
      logGroupArn: w.arn,
      error: `${(err as Error).name}: ${(err as Error).message}`,
    });
  }
}
