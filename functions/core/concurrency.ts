/**
 * Bounded concurrency, in the two shapes the guard needs: mapLimit works through a known list (a sweep page,
 * an SQS batch) with at most N in flight, results in input order; a Pool bounds tasks that arrive one by one
 * and may share it (every account × region of a CLI run). Two implementations on purpose: mapLimit's lanes
 * pull the next item the moment one finishes, and the Pool hands a freed slot straight to the oldest waiter;
 * expressing one through the other would shift when work starts relative to the rest of the event loop.
 */

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

/** A bound on how many tasks run at once; one pool is shared by every account × region of a run. */
export class Pool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  readonly size: number;
  constructor(size: number) {
    this.size = size;
  }

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer can never squeeze in between.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
