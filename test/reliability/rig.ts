/**
 * The reliability rig: a local world (local/world.ts: the emulator, the local queue and real enforce
 * containers of dist/enforce.mjs), plus what the promises are checked against: the emulator's ground truth,
 * every message's fate (acknowledged or in the DLQ) and the functions' own output (test/helpers.ts
 * captureOutput); and the sizes, figures and fault injection the reliability tests share.
 */
import { CreateLogGroupCommand, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator, InterceptedRequest, Interception } from '../../local/emulator/emulator.ts';
import { seededRandom } from '../../local/emulator/random.ts';
import type { PipelineOptions } from '../../local/pipeline.ts';
import { roleArn } from '../../local/roles.ts';
import { associateRate, retryAborted, startWorld, type WorldOptions } from '../../local/world.ts';
import { sleep } from '../helpers.ts';

export const FULL = process.env.RELIABILITY_FULL === '1';
/** The CI size or, with RELIABILITY_FULL=1, the full size the issue asks for. */
export const size = <T>(ci: T, full: T): T => (FULL ? full : ci);

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
  emulator: NonNullable<WorldOptions['emulator']>;
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

/**
 * A local world (local/world.ts, IAM on) and a pipeline of real enforce containers wired to its CloudTrail
 * events, each message's fate recorded.
 */
export async function startRig(options: RigOptions) {
  const timeScale = options.emulator.timeScale ?? 1;
  const concurrency = options.concurrency ?? 2;
  const world = await startWorld({
    emulator: options.emulator,
    ...(options.region ? { region: options.region } : {}),
    iam: true,
    sdk: { maxAttempts: 10 },
  });
  const { emulator, region, logs, kms } = world;
  const fates = new Map<string, MessageFate>();
  const pipeline = world.pipeline({
    // The mapping's batch size, timeout and receive count are the pipeline's defaults; a failed record is
    // retried after 30 s of the emulator's time.
    concurrency,
    visibilityTimeoutMs: Math.max(500, 30_000 / timeScale),
    ...options.pipeline,
    env: {
      // The account's AssociateKmsKey quota, shared by the containers, on the emulator's clock.
      ASSOCIATE_RATE: associateRate(timeScale, concurrency),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      KMS_KEY_ARN: '',
      ALLOW_KEY_POLICY_UPDATE: 'false',
      EXCLUDE_LOG_GROUPS: '',
      ...options.env,
    },
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
  const unsubscribe = world.onDelivered((event) => {
    events.push(event as Record<string, any>);
    if (options.autoFeed !== false) send(event);
  });

  return {
    /** The world itself: more clients, the guard key behind its alias, deployed roles. */
    world,
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
        await sleep(settleMs);
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
      await world.stop();
    },
  };
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
