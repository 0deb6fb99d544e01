/**
 * The reliability rig: the emulator, the local queue (LocalPipeline) and real enforce containers
 * (dist/enforce.mjs), plus what the promises are checked against: the emulator's ground truth, every
 * message's fate (acknowledged or in the DLQ) and the functions' own output (JSON logs and EMF metrics).
 */

import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../local/emulator/index.ts';
import { seededRandom } from '../../local/emulator/random.ts';
import type { InterceptedRequest, Interception } from '../../local/emulator/server.ts';
import { LocalPipeline, type PipelineOptions } from '../../local/pipeline.ts';
import { deployRole, guardRuleFilter, roleArn } from '../../local/roles.ts';
import { captureOutput } from '../helpers.ts';

export { captureOutput };

export const FULL = process.env.RELIABILITY_FULL === '1';
/** The CI size or, with RELIABILITY_FULL=1, the full size the issue asks for. */
export const size = <T>(ci: T, full: T): T => (FULL ? full : ci);
export const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
export const GUARD_ALIAS = 'alias/logs-kms-guard';

/** Prints one line of figures (kept in the test output and quoted in the README). */
export function figures(line: string): void {
  console.log(line);
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A deterministic PRNG (mulberry32), for choices the tests make themselves. */
export const seeded = seededRandom;

/**
 * Transient KMS faults (the emulator's `faultRate` covers mutating Logs calls only): a seeded share of
 * KMS calls answered with KMSInternalException (500) or DependencyTimeoutException (503), changing nothing.
 */
export function kmsFaults(rate: number, seed: number) {
  const random = seeded(seed);
  let injected = 0;
  const intercept = (r: InterceptedRequest): Interception | undefined => {
    if (r.service !== 'kms' || random() >= rate) return undefined;
    injected++;
    return random() < 0.5
      ? { kind: 'error', name: 'KMSInternalException', message: 'injected', status: 500 }
      : { kind: 'error', name: 'DependencyTimeoutException', message: 'injected', status: 503 };
  };
  return { intercept, injected: () => injected };
}

export interface MessageFate {
  body: string;
  /** Receives of this message, and whether the last one was acknowledged. */
  receives: number;
  acked: boolean;
}

export interface RigOptions {
  emulator: EmulatorOptions;
  region?: string;
  /** Containers (the event source mapping's maximumConcurrency). */
  concurrency?: number;
  pipeline?: Partial<Omit<PipelineOptions, 'region' | 'account' | 'env' | 'onResult'>>;
  env?: Record<string, string>;
  /** Events go to the queue as the emulator emits them (default); false: the test feeds them by hand. */
  autoFeed?: boolean;
}

/**
 * The policy of a guard key as the guard writes it for the enforce role of the stack in `region` (root, Logs,
 * and the role statements that are the function's authority over the key).
 */
export function guardKeyPolicy(emulator: Pick<Emulator, 'account'>, region: string): string {
  const guardRoles = [roleArn({ account: emulator.account, region }, 'EnforceRole')];
  return JSON.stringify(
    defaultKeyPolicy({ partition: 'aws', region, account: emulator.account, guardRoles }),
  );
}

/** `env` plus the credentials of the EnforceRole a stack deployed with these settings has (local/roles.ts). */
export function asDeployed(
  emulator: Emulator,
  region: string,
  env: Record<string, string>,
): Record<string, string> {
  return { ...env, ...deployRole(emulator, { role: 'EnforceRole', region, env }) };
}

/** Starts the emulator and a pipeline of real enforce containers wired to its CloudTrail events. */
export async function startRig(options: RigOptions) {
  const region = options.region ?? 'us-east-1';
  const timeScale = options.emulator.timeScale ?? 1;
  const concurrency = options.concurrency ?? 2;
  const emulator: Emulator = await startEmulator({
    port: 0,
    iam: { principals: {}, admins: [credentials.accessKeyId] },
    ...options.emulator,
  });
  const fates = new Map<string, MessageFate>();
  const pipeline = new LocalPipeline({
    region,
    account: emulator.account,
    concurrency,
    batchSize: 10,
    timeoutMs: 60_000,
    visibilityTimeoutMs: Math.max(500, 30_000 / timeScale),
    maxReceiveCount: 10,
    ...options.pipeline,
    env: asDeployed(emulator, region, {
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_REGION: region,
      // The account's 5 TPS AssociateKmsKey quota, shared by the containers, on the emulator's clock.
      ASSOCIATE_RATE: String((5 * timeScale) / concurrency),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      KMS_KEY_ARN: '',
      ALLOW_KEY_POLICY_UPDATE: 'false',
      EXCLUDE_LOG_GROUPS: '',
      ...options.env,
    }),
    onResult: ({ messageId, ok, receiveCount }) => {
      const fate = fates.get(messageId);
      if (fate) {
        fate.receives = receiveCount;
        fate.acked = ok;
      }
    },
  });
  const events: Record<string, any>[] = [];
  const send = (event: unknown, delayMs = 0) => {
    pipeline.send(event, delayMs);
    const m = pipeline.queue.at(-1);
    if (m) fates.set(m.messageId, { body: m.body, receives: 0, acked: false });
  };
  // What EventBridge delivers: the events the template's rules match (the emulator emits one per call).
  const delivered = guardRuleFilter();
  const unsubscribe = emulator.onEvent((event) => {
    if (!delivered(event)) return;
    events.push(event as Record<string, any>);
    if (options.autoFeed !== false) send(event);
  });
  const logs = new CloudWatchLogsClient({
    region,
    endpoint: emulator.endpoint,
    credentials,
    maxAttempts: 10,
  });
  const kms = new KMSClient({ region, endpoint: emulator.endpoint, credentials, maxAttempts: 10 });

  return {
    emulator,
    pipeline,
    region,
    logs,
    kms,
    /** Every CloudTrail event the emulator delivered (duplicates included). */
    events,
    fates,
    send,
    /** Creates a group the way a workload does (SDK, retried), so the emulator emits its event. */
    async createGroup(name: string, extra: { tags?: Record<string, string>; kmsKeyId?: string } = {}) {
      await retryAborted(() => logs.send(new CreateLogGroupCommand({ logGroupName: name, ...extra })));
    },
    async deleteGroup(name: string) {
      await retryAborted(() => logs.send(new DeleteLogGroupCommand({ logGroupName: name })));
    },
    /** Waits until nothing is queued, invisible or in flight (false on timeout). */
    async drain(timeoutMs: number, settleMs = 0): Promise<boolean> {
      for (;;) {
        if (!(await pipeline.drain(timeoutMs))) return false;
        // Events still on their way from the bus arrive after a quiet moment.
        await new Promise((r) => setTimeout(r, settleMs));
        if (pipeline.idle) return true;
      }
    },
    /** Messages neither acknowledged nor in the DLQ: lost. */
    lost(): number {
      const dead = new Set(pipeline.dlq.map((m) => m.messageId));
      return [...fates.entries()].filter(([id, f]) => !f.acked && !dead.has(id)).length;
    },
    guardKeys() {
      return emulator.state.keys(region).filter((k) => k.tags.ManagedBy === 'logs-kms-guard');
    },
    async stop() {
      unsubscribe();
      await pipeline.stop();
      await emulator.stop();
    },
  };
}

/**
 * The SDK retries throttling and 5xx, not OperationAbortedException (a 400 the emulator injects, as
 * CloudWatch Logs sends on conflicting updates): a workload retries it, and so does the rig.
 */
export async function retryAborted<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name !== 'OperationAbortedException' || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 10 * i));
    }
  }
}

/** Runs `worker` over `items`, `limit` at a time. */
export async function inParallel<T>(
  items: T[],
  limit: number,
  worker: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await worker(items[i] as T, i);
      }
    }),
  );
}
