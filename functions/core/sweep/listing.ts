/**
 * The sweep's read calls on CloudWatch Logs: one page of DescribeLogGroups and one group's tags, each paced
 * under its quota's bucket and retried while transient (each attempt through the bucket: the SDK sends a paced
 * call once); and the ARN a listed group goes by.
 */
import {
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { logGroupArn, partitionOf } from '../arn.ts';
import type { Clients } from '../clients.ts';
import { type Clock, systemClock } from '../clock.ts';
import { retryTransient } from '../retry.ts';
import { pacedCall, pacedCommand, type TokenBucket } from '../token-bucket.ts';

/** One page of DescribeLogGroups, paced and retried. */
export async function describePage(
  clients: Clients,
  options: { bucket?: TokenBucket; prefix?: string; nextToken?: string; limit?: number; clock?: Clock },
) {
  const clock = options.clock ?? systemClock;
  return retryTransient(
    () =>
      pacedCall(options.bucket, () =>
        clients.logs.send(
          pacedCommand(
            options.bucket,
            new DescribeLogGroupsCommand({
              limit: options.limit ?? 50,
              ...(options.prefix ? { logGroupNamePrefix: options.prefix } : {}),
              ...(options.nextToken ? { nextToken: options.nextToken } : {}),
            }),
          ),
        ),
      ),
    { deadline: clock.now() + 120_000, clock, maxAttempts: 10 },
  );
}

/** One page of groups as describePage answers it. */
export type LogGroupPage = Awaited<ReturnType<typeof describePage>>;

/** A group's tags, paced under the ListTagsForResource quota; undefined when the group is gone. */
export async function readTags(
  clients: Clients,
  arn: string,
  options: { bucket?: TokenBucket; clock?: Clock; deadline?: number } = {},
): Promise<Record<string, string> | undefined> {
  const clock = options.clock ?? systemClock;
  try {
    const out = await retryTransient(
      () =>
        pacedCall(options.bucket, () =>
          clients.logs.send(
            pacedCommand(options.bucket, new ListTagsForResourceCommand({ resourceArn: arn })),
          ),
        ),
      { deadline: options.deadline ?? clock.now() + 60_000, clock, maxAttempts: 10 },
    );
    return out.tags ?? {};
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** The log group ARN tags and policies use (no trailing `:*`). */
export function groupArnOf(group: LogGroup, region: string, account: string | undefined): string {
  if (group.logGroupArn) return group.logGroupArn;
  if (group.arn) return group.arn.replace(/:\*$/, '');
  return logGroupArn(partitionOf(region), region, account ?? '', group.logGroupName ?? '');
}
