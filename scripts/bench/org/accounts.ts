/**
 * The bench's own way into the organization the org section runs on: the accounts' ids and log group names,
 * each account's SDK clients (the management account's credentials, the members' through AssumeRole), and
 * the patience and parallel lanes with which it seeds and checks them (the bench is no subject: it may retry).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CALLER, MANAGEMENT, ROLE } from './settings.ts';

/** The i-th account's id: the management account first. */
export const accountId = (i: number) => (i === 0 ? MANAGEMENT : `2100000000${String(i).padStart(2, '0')}`);
/** The i-th log group of an account-region. */
export const groupName = (i: number) => `/app/group-${String(i).padStart(6, '0')}`;

/** Calls `f` again while the emulator throttles it (seeding and checking only: the bench is no subject). */
export async function patient<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if ((err as Error).name !== 'ThrottlingException' || attempt > 1000) throw err;
      await sleep(5 + Math.random() * 20);
    }
  }
}

/** Runs `worker` on every item, `limit` at once. */
export async function lanes<T>(items: T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await worker(items[next++] as T);
    }),
  );
}

/** Clients of each account (the management account's own credentials, the members' through AssumeRole). */
export async function accountClients(endpoint: string, ids: string[]) {
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: CALLER, maxAttempts: 1 });
  const out = new Map<string, (region: string) => { logs: CloudWatchLogsClient; kms: KMSClient }>();
  await Promise.all(
    ids.map(async (id) => {
      let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = CALLER;
      if (id !== MANAGEMENT) {
        const r = await sts.send(
          new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${id}:role/${ROLE}`, RoleSessionName: 'bench' }),
        );
        const c = r.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${id}: no credentials`);
        credentials = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        };
      }
      const cache = new Map<string, { logs: CloudWatchLogsClient; kms: KMSClient }>();
      out.set(id, (region) => {
        let c = cache.get(region);
        if (!c) {
          const config = { region, endpoint, credentials, maxAttempts: 1 };
          c = { logs: new CloudWatchLogsClient(config), kms: new KMSClient(config) };
          cache.set(region, c);
        }
        return c;
      });
    }),
  );
  return out;
}

/** Each account's clients by region, as `accountClients` returns them. */
export type AccountClients = Awaited<ReturnType<typeof accountClients>>;

/** The CloudWatch Logs and KMS clients of `account` in `region`. */
export function clientsIn(clientsOf: AccountClients, account: string, region: string) {
  return (clientsOf.get(account) as (r: string) => { logs: CloudWatchLogsClient; kms: KMSClient })(region);
}
