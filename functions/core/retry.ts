/** Deadlines, backoff and pacing: small, dependency-free, injectable clock for tests. */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const TRANSIENT_NAMES = new Set([
  'OperationAbortedException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'KMSInternalException',
  'DependencyTimeoutException',
  'InternalFailure',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** True for throttling, outages, timeouts and dropped connections: worth trying again. */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (TRANSIENT_NAMES.has(e?.name ?? '') || NETWORK_CODES.has(e?.code ?? '')) return true;
  return (e?.$metadata?.httpStatusCode ?? 0) >= 500;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** Delay before retry `attempt` (1-based): exponential, capped, with equal jitter (half fixed, half random). */
export function backoffDelay(
  attempt: number,
  { baseMs, maxMs, random = Math.random }: BackoffOptions,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Runs `call`, retrying transient failures with backoff while time remains before `deadline`. */
export async function retryTransient<T>(
  call: () => Promise<T>,
  options: {
    deadline: number;
    clock?: Clock;
    backoff?: BackoffOptions;
    maxAttempts?: number;
    /** Which failures are worth another try; transient ones unless told otherwise. */
    retryIf?: (err: unknown) => boolean;
  },
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? { baseMs: 200, maxMs: 3_000 };
  const maxAttempts = options.maxAttempts ?? 8;
  const retryIf = options.retryIf ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const delay = backoffDelay(attempt, backoff);
      if (!retryIf(err) || attempt >= maxAttempts || clock.now() + delay >= options.deadline) throw err;
      await clock.sleep(delay);
    }
  }
}

/**
 * A token bucket that makes callers wait for a token instead of colliding with a quota:
 * `rate` tokens a second, at most `burst` saved up.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly rate: number;
  private readonly burst: number;
  private readonly clock: Clock;

  constructor(rate: number, burst: number, clock: Clock = systemClock) {
    this.rate = rate;
    this.burst = Math.max(1, burst);
    this.clock = clock;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Resolves when a token is taken; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      if (this.tokens < 1) {
        await this.clock.sleep(((1 - this.tokens) / this.rate) * 1000);
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}

/** Runs `worker` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  worker: (item: T, index: number) => Promise<R>,
) {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
