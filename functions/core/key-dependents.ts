/**
 * Which log groups of a region a key's loss makes unreadable (the KeyAtRisk alarm, its finding): the groups whose
 * key it is now, PLUS the groups whose retained data was written under it before their key changed (the
 * key-dependency record on their tags, key-record.ts; a deleted group needs nothing).
 *
 * Cost, and why this way: the current users come from DescribeLogGroups, every page (as before, 1 call per 50
 * groups). The records live on each group's tags, which DescribeLogGroups does not return and no API of the
 * clients the enforce function carries filters by: the Resource Groups Tagging API (GetResources with a
 * TagFilter) would find them in one paged call, but its SDK client would weigh on the enforce bundle (and is not
 * a dependency). So the other groups' tags are read, one ListTagsForResource each, paced under its 5 TPS quota
 * (the enforce function's tags bucket), until the time given (about three quarters of the invocation, the
 * listing included). This runs only when a key that groups may use is disabled or scheduled for deletion (a
 * rare event, never on the warm path); in a region with more groups than that time reads (about 5 per second),
 * the count is a lower bound and says so (`complete: false`), and `audit` / `doctor` give the full view.
 */
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { logGroupArn, partitionOf } from './arn.ts';
import { type Clock, systemClock } from './clock.ts';
import { mapLimit } from './concurrency.ts';
import type { EnforceDeps } from './enforce.ts';
import { dependsOn } from './key-record.ts';
import { retryTransient } from './retry.ts';
import { isReservedLogGroupName } from './scope.ts';
import { readTags } from './sweep/listing.ts';

/** One group whose data needs the key: `current` (its key now) or `previous` (until when, if retention ends). */
export interface KeyDependent {
  name: string;
  kind: 'current' | 'previous';
  /** previous: when its retention removes the last data written under the key (epoch ms); absent = never. */
  until?: number;
}

/** The dependents found, and whether every group of the region was looked at. */
export interface KeyDependents {
  dependents: KeyDependent[];
  complete: boolean;
}

/** Tag reads in flight at once (the bucket, not this, sets the rate). */
const TAG_READS_AT_ONCE = 4;

/** The groups of `region` whose data needs `keyArn`, current users first; see the header for the cost. */
export async function findKeyDependents(
  deps: Pick<EnforceDeps, 'clients' | 'deadline' | 'clock' | 'tagsBucket'>,
  where: { region: string; account: string },
  keyArn: string,
): Promise<KeyDependents> {
  const clock: Clock = deps.clock ?? systemClock;
  const start = clock.now();
  const budget = Math.max(0, deps.deadline - start);
  const listUntil = start + budget / 2;
  const readUntil = start + (budget * 3) / 4;
  const dependents: KeyDependent[] = [];
  const others: LogGroup[] = [];
  let complete = true;
  let nextToken: string | undefined;
  do {
    if (clock.now() >= listUntil) {
      complete = false;
      break;
    }
    const out = await retryTransient(
      () =>
        deps.clients.logs.send(
          new DescribeLogGroupsCommand({ limit: 50, ...(nextToken ? { nextToken } : {}) }),
        ),
      { deadline: deps.deadline, clock },
    );
    for (const g of out.logGroups ?? []) {
      const name = g.logGroupName ?? '';
      if (dependsOn(g, keyArn, clock.now())) dependents.push({ name, kind: 'current' });
      // A reserved group takes no key, so it holds no record either.
      else if (name && !isReservedLogGroupName(name)) others.push(g);
    }
    nextToken = out.nextToken;
  } while (nextToken);
  const partition = partitionOf(where.region);
  const found = await mapLimit(others, TAG_READS_AT_ONCE, async (g) => {
    if (clock.now() >= readUntil) return 'skipped' as const;
    const name = g.logGroupName as string;
    const arn = g.logGroupArn ?? logGroupArn(partition, where.region, where.account, name);
    const tags = await readTags(deps.clients, arn, {
      bucket: deps.tagsBucket,
      clock,
      deadline: deps.deadline,
    });
    if (tags === undefined) return undefined; // deleted meanwhile: its data (and need) went with it
    const need = dependsOn({ ...g, tags }, keyArn, clock.now());
    return need ? { name, ...need } : undefined;
  });
  for (const f of found) {
    if (f === 'skipped') complete = false;
    else if (f) dependents.push(f);
  }
  return { dependents, complete };
}
