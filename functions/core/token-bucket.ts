/**
 * Pacing under AWS's per-account rate quotas: a token bucket makes callers wait for a token instead of
 * colliding with a quota, the adaptive one slows down when another caller draws from the same quota, and
 * pacedCall ties one call to its bucket; singleAttempt keeps the SDK from retrying a paced call behind its
 * bucket's back, so that every attempt takes a token and every throttle reaches the bucket.
 */
import { type Clock, systemClock } from './clock.ts';
import { isThrottle } from './retry.ts';

/**
 * A token bucket that makes callers wait for a token instead of colliding with a quota:
 * `rate` tokens a second, at most `burst` saved up. This one keeps its rate: `reportThrottle()` is
 * accepted and ignored (see AdaptiveTokenBucket for one that slows down).
 */
export class TokenBucket {
  protected tokens: number;
  protected last: number;
  private queue: Promise<void> = Promise.resolve();
  protected current: number;
  protected readonly burst: number;
  protected readonly clock: Clock;

  constructor(rate: number, burst: number, clock: Clock = systemClock) {
    if (!(rate > 0)) throw new Error(`a token bucket needs a rate above 0, got ${rate}`);
    this.current = rate;
    this.burst = Math.max(1, burst);
    this.clock = clock;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Tokens a second it hands out now. */
  get rate(): number {
    return this.current;
  }

  /** Resolves when a token is taken; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      while (this.tokens < 1) {
        const rate = this.current;
        await this.clock.sleep(((1 - this.tokens) / rate) * 1000);
        this.refill();
        // The rate held: a timer that fired a hair early leaves a small debt, paid by the next caller.
        // It dropped while this caller waited (an adaptive bucket was throttled): wait at the new one.
        if (this.current >= rate) break;
      }
      this.tokens -= 1;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Tells the bucket that a call it paced was throttled anyway. A fixed bucket ignores it. */
  reportThrottle(): void {}

  protected refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.current);
    this.last = now;
  }
}

export interface AdaptiveOptions {
  /** Rate multiplier on a throttle. Default 0.5. */
  decrease?: number;
  /** The rate never goes below this. Default a tenth of the ceiling. */
  minRate?: number;
  /** Throttles within this long of a decrease count as that one. Default 5 call intervals at the ceiling. */
  windowMs?: number;
  /** Recovery starts this long after the last throttle. Default 20 call intervals at the ceiling. */
  quietMs?: number;
  /** Rate regained per second of recovery. Default 0.5 % of the ceiling per call interval at the ceiling. */
  recoverPerSecond?: number;
  /**
   * Each caller, once it has its token, also waits a random share of one call interval at the current rate,
   * up to this fraction of it (0 to 1). Default 0: none. See AdaptiveTokenBucket on why the associate buckets dither.
   */
  dither?: number;
  /** The dither's random source, [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * An AIMD token bucket for a quota shared with callers it cannot see (AWS quotas are per account and
 * region: the enforce function, the sweep, the CLI and everyone else draw from the same one). The rate
 * starts at `ceiling` (at or under the published quota); each throttle reported multiplies it by `decrease`,
 * at most once per `windowMs` (the calls already under way when a quota runs out come back throttled
 * together: one event), never below `minRate`, and drops the tokens saved up. Once no throttle has been
 * reported for `quietMs`, it climbs back by `recoverPerSecond` towards the ceiling, never above it.
 *
 * The default windows are counted in call intervals at the ceiling (1 / ceiling s: 200 ms at 5 TPS, so
 * window 1 s, quiet 4 s, back from half to full in 20 s), which keeps the behaviour the same at any time
 * scale: a bucket at 5 × T calls a second on a real clock acts as one at 5 on a clock T times faster.
 * Defaults chosen by simulation and `npm run bench` (shared quota): a halving, rare and slow to undo,
 * wastes less of the quota than a gentle cut made often.
 *
 * `dither` releases each token a random fraction of an interval late, except in a quiet bucket (see `take`). A bucket paced at exactly the quota's
 * refill rate takes each of AWS's tokens as it is made, so a neighbour that does not adapt finds the quota
 * empty and is throttled call after call while this bucket is not, never learns of it and never slows down
 * (`npm run bench -- --only neighbour`: the neighbour's calls throttled one after the other for seconds).
 * Released at random times, its calls meet the empty quota as often as the neighbour's, the first throttle
 * halves the rate, and the neighbour keeps its share. Delaying a call never sends more than the rate allows,
 * so alone the bucket still never outruns AWS's (no throttle); with callers in flight at once the throughput
 * is the same.
 */
export class AdaptiveTokenBucket extends TokenBucket {
  readonly ceiling: number;
  readonly minRate: number;
  private readonly decrease: number;
  private readonly windowMs: number;
  private readonly quietMs: number;
  private readonly recoverPerSecond: number;
  private readonly dither: number;
  private readonly random: () => number;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private lastThrottle = Number.NEGATIVE_INFINITY;
  /** When a caller last asked for a token (a quiet bucket's token goes without the dither). */
  private lastTake = Number.NEGATIVE_INFINITY;
  private lastRecovery: number;
  /** Throttles reported, and how many of them lowered the rate. */
  throttles = 0;
  decreases = 0;

  constructor(ceiling: number, burst: number, clock: Clock = systemClock, options: AdaptiveOptions = {}) {
    super(ceiling, burst, clock);
    const interval = 1000 / ceiling;
    this.ceiling = ceiling;
    this.decrease = options.decrease ?? 0.5;
    this.minRate = Math.min(ceiling, options.minRate ?? ceiling / 10);
    this.windowMs = options.windowMs ?? 5 * interval;
    this.quietMs = options.quietMs ?? 20 * interval;
    this.recoverPerSecond = options.recoverPerSecond ?? (0.005 * ceiling * 1000) / interval;
    this.dither = Math.min(1, Math.max(0, options.dither ?? 0));
    this.random = options.random ?? Math.random;
    if (!(this.decrease > 0 && this.decrease < 1))
      throw new Error(`decrease must be in (0, 1), got ${this.decrease}`);
    if (!(this.minRate > 0)) throw new Error(`minRate must be above 0, got ${this.minRate}`);
    this.lastRecovery = clock.now();
  }

  /** The rate now, its recovery up to this moment included. */
  override get rate(): number {
    this.refill();
    return this.current;
  }

  /**
   * Resolves when a token is taken, and then (with `dither`) after a random share of one interval, unless the
   * bucket was quiet (no token taken for `quietMs`, or none yet): a bucket in use takes AWS's tokens on the
   * refill's beat, a quiet one (the first calls of a cold container, a new group in a quiet account) does not.
   */
  override async take(): Promise<void> {
    const quiet = this.clock.now() - this.lastTake >= this.quietMs;
    this.lastTake = this.clock.now();
    await super.take();
    if (this.dither > 0 && !quiet) {
      await this.clock.sleep((this.random() * this.dither * 1000) / this.current);
    }
  }

  override reportThrottle(): void {
    const now = this.clock.now();
    this.throttles++;
    this.lastThrottle = now;
    if (now - this.lastDecrease < this.windowMs) return;
    this.refill();
    this.lastDecrease = now;
    this.decreases++;
    this.current = Math.max(this.minRate, this.current * this.decrease);
    // Saved-up tokens would be spent at once, into the quota that just ran out.
    this.tokens = Math.min(this.tokens, 0);
  }

  protected override refill(): void {
    const now = this.clock.now();
    // Tokens at the old rate up to now, then the rate's recovery over the same span.
    super.refill();
    const from = Math.max(this.lastRecovery, this.lastThrottle + this.quietMs);
    if (now > from && this.current < this.ceiling) {
      this.current = Math.min(this.ceiling, this.current + ((now - from) / 1000) * this.recoverPerSecond);
    }
    this.lastRecovery = Math.max(this.lastRecovery, now);
  }
}

/** Where the SDK's retry middleware sits in a client's stack: a command's entry of that name replaces it. */
const SDK_RETRY_SLOT = {
  name: 'retryMiddleware',
  step: 'finalizeRequest',
  priority: 'high',
  tags: ['RETRY'],
  override: true,
} as const;

/** The part of an SDK command singleAttempt needs: its own middleware stack. */
interface WithMiddlewareStack {
  // biome-ignore lint/suspicious/noExplicitAny: each command's stack is typed for its own input and output; this works on any.
  middlewareStack: { add: (middleware: any, options: any) => void };
}

/**
 * The command, made to go out once: its entry in the SDK's retry slot replaces the client's retries
 * (standard mode, 3 or 4 attempts) for this command only. A paced call's retries belong to its caller's
 * loop (associateKey, retryTransient around pacedCall), which takes a token for each attempt and reports
 * each throttle to the bucket: the SDK's own would send a throttled call again at once, unpaced, and hide
 * the throttle from the bucket unless every attempt failed, so the bucket would never slow down beside a
 * caller that does not.
 */
export function singleAttempt<C extends WithMiddlewareStack>(command: C): C {
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => (args: unknown) => next(args),
    SDK_RETRY_SLOT,
  );
  return command;
}

/** The command as a call paced by `bucket` sends it: once (singleAttempt), or as it is when nothing paces it. */
export function pacedCommand<C extends WithMiddlewareStack>(bucket: TokenBucket | undefined, command: C): C {
  return bucket ? singleAttempt(command) : command;
}

/**
 * One paced call: waits for a token, makes the call, and tells the bucket when AWS throttled it anyway.
 * The error is rethrown (retrying is the caller's business).
 */
export async function pacedCall<T>(bucket: TokenBucket | undefined, call: () => Promise<T>): Promise<T> {
  await bucket?.take();
  try {
    return await call();
  } catch (err) {
    if (isThrottle(err)) bucket?.reportThrottle();
    throw err;
  }
}
