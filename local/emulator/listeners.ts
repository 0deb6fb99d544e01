/**
 * The listeners of one kind of happening in the emulator (a CloudTrail event delivered, an SQS message
 * accepted, a Lambda invocation): tests and the local queue subscribe. A listener that throws is logged and
 * never fails the request or the delivery that notified it.
 */
export class Listeners<T> {
  private readonly listeners = new Set<(value: T) => void>();
  private readonly what: string;
  private readonly log: (line: string) => void;

  /** `what` names the listeners in the log line of one that failed (`<what> failed: <error>`). */
  constructor(what: string, log: (line: string) => void) {
    this.what = what;
    this.log = log;
  }

  /** Adds a listener; returns what removes it. */
  add(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Hands `value` to every listener there is now (one added meanwhile waits for the next); with `copy`, each
   * gets its own copy, so that none sees what another changed.
   */
  notify(value: T, copy: (value: T) => T = (v) => v): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(copy(value));
      } catch (err) {
        this.log(`${this.what} failed: ${String(err)}`);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear();
  }
}
