/**
 * A local stand-in for the deployed wiring: an SQS-like queue (visibility timeout, receive count,
 * redrive to a DLQ) polled by a Lambda-like event source mapping (batches, bounded concurrency,
 * partial batch failures) that invokes the real bundles: each record goes to the enforce or the changes
 * function as the template routes it (local/stack.ts; the one queue stands for the stack's two, which share a
 * DLQ). Development and test tool only.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { CHANGES_BUNDLE, ENFORCE_BUNDLE, ENFORCE_FUNCTION, lambdaContext } from './functions.ts';
import { lambdaServiceCheck } from './roles.ts';
import { sqsRecord } from './sqs-record.ts';
import { stackHandler } from './stack.ts';

export interface QueueMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
  visibleAt: number;
}

export interface PipelineOptions {
  region: string;
  account: string;
  /** Records per invocation (the event source mapping's batch size). */
  batchSize?: number;
  /** Invocations at once (the mapping's maximumConcurrency; also the number of containers). */
  concurrency?: number;
  /** Function timeout in ms: each invocation's getRemainingTimeInMillis starts here. */
  timeoutMs?: number;
  /** How long a failed record stays invisible before it is delivered again. */
  visibilityTimeoutMs?: number;
  /** Receives after which a record moves to the DLQ. */
  maxReceiveCount?: number;
  /** How often idle pollers look for work. */
  pollIntervalMs?: number;
  /** The bundles; each container imports its own copy of each (own caches, own clients), as Lambda does. */
  bundles?: { enforce: string; changes: string };
  /** Environment for the containers (set before the first import: config is read at load). */
  env?: Record<string, string>;
  onResult?: (event: { messageId: string; body: string; ok: boolean; receiveCount: number }) => void;
  /**
   * What the Lambda service itself does with the function's role before it invokes anything: poll the queue
   * and write the function's logs. Answers a denial message, or undefined when allowed (local/roles.ts
   * `lambdaServiceCheck`, the default); a denial stops `start`, as AWS refuses such an event source mapping.
   */
  checkRole?: () => Promise<string | undefined>;
}

type Handler = (
  event: unknown,
  context: unknown,
) => Promise<{ batchItemFailures?: { itemIdentifier: string }[] }>;

/** The local queue and its event source mapping: `send` enqueues, polling invokes the enforce bundle, `drain` waits. */
export class LocalPipeline {
  readonly queue: QueueMessage[] = [];
  readonly dlq: QueueMessage[] = [];
  invocations = 0;
  private readonly options: Required<Omit<PipelineOptions, 'env' | 'onResult' | 'checkRole'>> &
    Pick<PipelineOptions, 'onResult' | 'checkRole'>;
  private readonly containers: Handler[] = [];
  private running = false;
  private pollers: Promise<void>[] = [];
  private inFlight = 0;

  constructor(options: PipelineOptions) {
    this.options = {
      batchSize: 10,
      concurrency: 2,
      timeoutMs: 60_000,
      visibilityTimeoutMs: 6 * 60_000,
      maxReceiveCount: 10,
      pollIntervalMs: 20,
      bundles: { enforce: ENFORCE_BUNDLE, changes: CHANGES_BUNDLE },
      ...options,
    };
    for (const [k, v] of Object.entries(options.env ?? {})) process.env[k] = v;
    this.env = { ...options.env };
    this.accessKeyId = options.env?.AWS_ACCESS_KEY_ID;
  }

  /** The containers' environment, applied again while they load. */
  private readonly env: Record<string, string>;

  /** The function role's credentials (a role `deployRole` registered is checked by `start`). */
  private readonly accessKeyId: string | undefined;

  /** Sends one message body (an EventBridge event), as the rule's SQS target does. */
  send(body: unknown, delayMs = 0): void {
    const now = Date.now();
    this.queue.push({
      messageId: randomUUID(),
      body: typeof body === 'string' ? body : JSON.stringify(body),
      receiveCount: 0,
      sentAt: now,
      visibleAt: now + delayMs,
    });
  }

  /** Starts the pollers; each owns a container loaded from its own copy of the bundle. */
  async start(): Promise<void> {
    const denied = await (this.options.checkRole ?? (() => lambdaServiceCheck(this.accessKeyId)))();
    if (denied) throw new Error(`the event source mapping cannot use the function role: ${denied}`);
    // A bundle reads its configuration from process.env while it loads: pipelines starting at once (one per
    // region, each with its own role's credentials) load one at a time, each under its own environment.
    const load = async () => {
      for (const [k, v] of Object.entries(this.env)) process.env[k] = v;
      const fresh = async (bundle: string, i: number) =>
        (
          (await import(`${pathToFileURL(bundle).href}?container=${i}-${randomUUID()}`)) as {
            handler: Handler;
          }
        ).handler;
      for (let i = this.containers.length; i < this.options.concurrency; i++) {
        const { enforce, changes } = this.options.bundles;
        const both = stackHandler({ enforce: await fresh(enforce, i), changes: await fresh(changes, i) });
        this.containers.push(both as Handler);
      }
    };
    const loaded = LocalPipeline.loading.then(load);
    LocalPipeline.loading = loaded.catch(() => undefined);
    await loaded;
    this.running = true;
    this.pollers = this.containers.map((handler) => this.poll(handler));
  }

  /** Container loads of every pipeline in this process, one after another (see `start`). */
  private static loading: Promise<unknown> = Promise.resolve();

  /** Stops polling after the current invocations end. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.pollers);
  }

  /** True when nothing is waiting, invisible or being handled. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  /** Resolves when the queue has drained (or the timeout passes: then false). */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.idle) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, this.options.pollIntervalMs));
    }
    return true;
  }

  private receive(): QueueMessage[] {
    const now = Date.now();
    const batch: QueueMessage[] = [];
    for (const m of this.queue) {
      if (batch.length >= this.options.batchSize) break;
      if (m.visibleAt <= now) batch.push(m);
    }
    for (const m of batch) {
      m.receiveCount++;
      m.visibleAt = now + this.options.visibilityTimeoutMs;
    }
    return batch;
  }

  private async poll(handler: Handler): Promise<void> {
    while (this.running) {
      const batch = this.receive();
      if (batch.length === 0) {
        await new Promise((r) => setTimeout(r, this.options.pollIntervalMs));
        continue;
      }
      this.inFlight++;
      this.invocations++;
      let failed: Set<string>;
      try {
        const response = await handler(
          this.sqsEvent(batch),
          lambdaContext(this.options, ENFORCE_FUNCTION, this.options.timeoutMs),
        );
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        // A thrown error fails the whole batch, as Lambda does.
        failed = new Set(batch.map((m) => m.messageId));
      }
      for (const m of batch) {
        const ok = !failed.has(m.messageId);
        this.options.onResult?.({ messageId: m.messageId, body: m.body, ok, receiveCount: m.receiveCount });
        if (ok || m.receiveCount >= this.options.maxReceiveCount) {
          // A slow invocation can outlive the visibility timeout: another poller may have received and
          // removed the message already. splice(-1, 1) would then drop an unrelated message.
          const index = this.queue.indexOf(m);
          if (index === -1) continue;
          this.queue.splice(index, 1);
          if (!ok) this.dlq.push(m);
        }
      }
      this.inFlight--;
    }
  }

  private sqsEvent(batch: QueueMessage[]) {
    const where = {
      region: this.options.region,
      account: this.options.account,
      queueName: 'logs-kms-guard-local-events',
    };
    return { Records: batch.map((m) => sqsRecord(m, where)) };
  }
}
