/**
 * The one retry loop of the batch APIs the findings sinks call (Security Hub BatchImportFindings, EventBridge
 * PutEvents): both answer per entry, so a call can succeed while some entries are refused. The refused entries
 * that may succeed later are sent again, alone, after an exponential backoff; what is still refused after the
 * last attempt is handed back, never dropped.
 */

/** An entry the API refused, why, and whether another try may help (throttling, an internal failure). */
export interface Refusal<T> {
  entry: T;
  reason: string;
  retryable: boolean;
}

export interface RetryRefusedOptions {
  /** Calls in all, the first included. */
  attempts: number;
  /** The wait before the second call; doubled before each next one. */
  baseMs: number;
  /** Waits between attempts (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
  /** Told of each attempt's refusals before the next (a log line). */
  onRefused?: (attempt: number, refused: Refusal<unknown>[]) => void;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends `entries`, then the retryable refused ones again with backoff; answers the refusals that remain. */
export async function sendRetryingRefused<T>(
  entries: readonly T[],
  send: (pending: T[]) => Promise<Refusal<T>[]>,
  options: RetryRefusedOptions,
): Promise<Refusal<T>[]> {
  const sleep = options.sleep ?? realSleep;
  const final: Refusal<T>[] = [];
  let pending = [...entries];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const refused = await send(pending);
    if (refused.length === 0) break;
    options.onRefused?.(attempt, refused);
    const again = attempt < options.attempts ? refused.filter((r) => r.retryable) : [];
    final.push(...refused.filter((r) => !again.includes(r)));
    pending = again.map((r) => r.entry);
    if (pending.length > 0) await sleep(options.baseMs * 2 ** (attempt - 1));
  }
  return final;
}
