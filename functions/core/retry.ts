/**
 * Transient failures and how long to wait before trying again: which AWS errors are worth another try
 * (throttling, outages, timeouts, dropped connections), which of them are a rate quota speaking, and the
 * retry loop every call without its own (associate.ts has one) runs under, bounded by a deadline.
 */
import { type Clock, systemClock } from './clock.ts';

const TRANSIENT_NAMES = new Set([
  'OperationAbortedException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  // Not LimitExceededException: KMS and CloudWatch Logs answer it for a resource quota (a key policy over
  // 32 KB, 50 aliases on a key, too many log groups), which no retry heals; their rate limits answer
  // ThrottlingException (AWS KMS Developer Guide, "Quotas"; kms-limits.ts).
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

/** Error names AWS answers with when a call is over its rate quota (not a resource limit). */
const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** True when the call was refused for going over a rate quota (by name, or HTTP 429). */
export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return THROTTLE_NAMES.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
}
