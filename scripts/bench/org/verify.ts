/**
 * Checks the org section's organization through the API after a run: in every account-region, the guard key
 * behind its alias and every log group on it or on the key it already had, none unencrypted.
 */
import { DescribeLogGroupsCommand, type LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GUARD_ALIAS } from '../../../local/world.ts';
import { PAGE } from '../settings.ts';
import { countBy } from '../stats.ts';
import { type AccountClients, clientsIn, lanes, patient } from './accounts.ts';
import type { PairSeed } from './seed.ts';

/** What the check found in one account-region. */
export interface PairCheck {
  account: string;
  region: string;
  guardKey?: string;
  listed: number;
  guard: number;
  owned: number;
  none: number;
  other: number;
  ok: boolean;
}

/** Through the API: the guard key behind its alias, and every group on it or on the key it already had. */
export async function verify(clientsOf: AccountClients, pairs: PairSeed[]): Promise<PairCheck[]> {
  const checks: PairCheck[] = [];
  await lanes(pairs, pairs.length, async (p) => {
    const { logs, kms } = clientsIn(clientsOf, p.account, p.region);
    let guardKey: string | undefined;
    try {
      guardKey = (await patient(() => kms.send(new DescribeKeyCommand({ KeyId: GUARD_ALIAS })))).KeyMetadata
        ?.Arn;
    } catch (err) {
      if ((err as Error).name !== 'NotFoundException') throw err;
    }
    const groups: LogGroup[] = [];
    let nextToken: string | undefined;
    do {
      const page = await patient(() =>
        logs.send(new DescribeLogGroupsCommand({ limit: PAGE, ...(nextToken ? { nextToken } : {}) })),
      );
      groups.push(...(page.logGroups ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const by = countBy(groups, (g) =>
      !g.kmsKeyId
        ? 'none'
        : g.kmsKeyId === guardKey
          ? 'guard'
          : g.kmsKeyId === p.ownedKey
            ? 'owned'
            : 'other',
    );
    const c = {
      account: p.account,
      region: p.region,
      ...(guardKey ? { guardKey } : {}),
      listed: groups.length,
      guard: by.guard ?? 0,
      owned: by.owned ?? 0,
      none: by.none ?? 0,
      other: by.other ?? 0,
    };
    checks.push({
      ...c,
      ok:
        guardKey !== undefined &&
        c.none === 0 &&
        c.other === 0 &&
        c.guard === p.unencrypted &&
        c.guard + c.owned === c.listed,
    });
  });
  return checks;
}
