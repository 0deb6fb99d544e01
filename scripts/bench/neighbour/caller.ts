/**
 * The non-adapting neighbour of the `neighbour` bench section: other automation in the account that calls
 * AssociateKmsKey at a fixed rate and never slows down, never retries, whatever AWS answers. It shares the
 * account-region's quota (5 TPS) with the guard; the section measures how the guard's pacing shares it.
 */
import { AssociateKmsKeyCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

/** One of the neighbour's calls: when it was sent (epoch ms) and whether AWS throttled it. */
export interface NeighbourCall {
  at: number;
  throttled: boolean;
  error?: string;
}

/** A running neighbour: `stop()` ends its schedule and resolves with every call once the last is answered. */
export interface Neighbour {
  stop(): Promise<NeighbourCall[]>;
}

/** Where and what the neighbour calls: the emulator, its credentials, a group of its own and the key. */
export interface NeighbourTarget {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  logGroupName: string;
  keyArn: string;
}

/**
 * Starts calling AssociateKmsKey on `target` every 1 / `tps` s on a fixed schedule (a late timer sends at
 * once and keeps the schedule; no catch-up burst beyond that), one SDK attempt each, answers ignored.
 */
export function startNeighbour(target: NeighbourTarget, tps: number): Neighbour {
  const client = new CloudWatchLogsClient({
    region: target.region,
    endpoint: target.endpoint,
    credentials: target.credentials,
    maxAttempts: 1,
  });
  const calls: NeighbourCall[] = [];
  const pending: Promise<void>[] = [];
  const interval = 1000 / tps;
  const t0 = Date.now();
  let k = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    if (stopped) return;
    const at = Date.now();
    const call: NeighbourCall = { at, throttled: false };
    calls.push(call);
    pending.push(
      client
        .send(new AssociateKmsKeyCommand({ logGroupName: target.logGroupName, kmsKeyId: target.keyArn }))
        .then(
          () => undefined,
          (err: Error) => {
            call.error = err.name;
            call.throttled = err.name === 'ThrottlingException';
          },
        ),
    );
    k++;
    timer = setTimeout(fire, Math.max(0, t0 + k * interval - Date.now()));
  };
  fire();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all(pending);
      client.destroy();
      return calls;
    },
  };
}

/** The neighbour's calls sent within [from, to] (epoch ms), and how many of them were throttled. */
export function neighbourShare(calls: readonly NeighbourCall[], from: number, to: number) {
  const within = calls.filter((c) => c.at >= from && c.at <= to);
  return { calls: within.length, throttled: within.filter((c) => c.throttled).length };
}
