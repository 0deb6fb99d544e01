/**
 * Seeds the org section's organization through the API before a run: in every account-region, a key whose policy
 * admits CloudWatch Logs, and G log groups, one in `every` without a key and the rest on that key.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { defaultKeyPolicy } from '../../../functions/core/policy.ts';
import { PAGE } from '../settings.ts';
import { type AccountClients, clientsIn, groupName, lanes, patient } from './accounts.ts';
import type { OrgArgs } from './args.ts';

/** One seeded account-region: the key its encrypted groups use, and its work for the floor. */
export interface PairSeed {
  account: string;
  region: string;
  ownedKey: string;
  unencrypted: number;
  pages: number;
}

/** Every account-region: a key whose policy admits CloudWatch Logs, and G groups, one in `every` without a key. */
export async function seed(clientsOf: AccountClients, o: OrgArgs): Promise<PairSeed[]> {
  const pairs: PairSeed[] = [];
  const jobs: { account: string; region: string }[] = [];
  for (const account of clientsOf.keys()) for (const region of o.regions) jobs.push({ account, region });
  await lanes(jobs, jobs.length, async ({ account, region }) => {
    const { logs, kms } = clientsIn(clientsOf, account, region);
    const key = await patient(() =>
      kms.send(
        new CreateKeyCommand({
          Description: 'bench: the key the encrypted groups already use',
          Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account })),
        }),
      ),
    );
    const ownedKey = key.KeyMetadata?.Arn as string;
    // CloudWatch Logs sees a new key only after the propagation delay (scaled), for the seeding's groups too.
    if (o.propagationMs > 0) await sleep(o.propagationMs / o.timeScale + 50);
    let unencrypted = 0;
    const indexes = Array.from({ length: o.groups }, (_, i) => i);
    for (const i of indexes) if (i % o.every === 0) unencrypted++;
    await lanes(indexes, 8, async (i) => {
      await patient(() =>
        logs.send(
          new CreateLogGroupCommand({
            logGroupName: groupName(i),
            ...(i % o.every === 0 ? {} : { kmsKeyId: ownedKey }),
          }),
        ),
      );
    });
    pairs.push({ account, region, ownedKey, unencrypted, pages: Math.ceil(o.groups / PAGE) });
  });
  return pairs;
}
