/**
 * Time as the guard reads it: every deadline, backoff and pacer takes a Clock, so tests and the benchmark
 * run hours of retries and pacing in milliseconds on a fake one, and production uses the system's.
 */

/** What the guard needs of time: the current epoch ms, and a way to wait. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock: Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
