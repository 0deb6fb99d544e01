/**
 * The sweep's reference line: the plain way to fix a region, one call after the other with no pacing,
 * retrying each throttled call after a backoff ("retry into the quota" instead of pacing to it). Its own
 * retry schedule on purpose, so the reference does not move when the guard's retry code changes.
 */
import {
  AssociateKmsKeyCommand,
  type CloudWatchLogsClient,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Clock } from '../../functions/core/clock.ts';

/** Exponential from 100 ms, capped at 2 s, equal jitter: the textbook retry-on-throttle schedule. */
export function referenceBackoff(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(2_000, 100 * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

async function retryOnThrottle<T>(call: () => Promise<T>, clock: Clock): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name !== 'ThrottlingException' || attempt >= 30) throw err;
      await clock.sleep(referenceBackoff(attempt));
    }
  }
}

/** Lists every group and associates each unencrypted one, sequentially; `logs` must not retry by itself. */
export async function sequentialRetryLoop(
  logs: CloudWatchLogsClient,
  keyArn: string,
  clock: Clock,
): Promise<{ pages: number; associated: number }> {
  let nextToken: string | undefined;
  let pages = 0;
  let associated = 0;
  do {
    const token = nextToken;
    const page = await retryOnThrottle(
      () => logs.send(new DescribeLogGroupsCommand({ limit: 50, ...(token ? { nextToken: token } : {}) })),
      clock,
    );
    pages++;
    for (const group of page.logGroups ?? []) {
      if (group.kmsKeyId || !group.logGroupName) continue;
      const name = group.logGroupName;
      await retryOnThrottle(
        () => logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId: keyArn })),
        clock,
      );
      associated++;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return { pages, associated };
}
