/** Base of every error the guard raises on purpose; `retryable` tells the queue whether to try again. */
export class GuardError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/** Configuration from the environment is missing or malformed. */
export class ConfigError extends GuardError {}

/** The event is not one the guard handles, or is malformed: never retried. */
export class InvalidEventError extends GuardError {}

/** The key exists but must not be used (disabled, pending deletion, not symmetric, wrong region). */
export class UnsafeKeyError extends GuardError {}

/** A user-supplied key's policy does not admit CloudWatch Logs and the guard may not change it. */
export class KeyPolicyError extends GuardError {}

/** The association failed for a reason that will not go away by retrying. */
export class AssociationError extends GuardError {}

/** A retryable condition outlived the deadline: the record goes back to the queue. */
export class DeadlineExceededError extends GuardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}
