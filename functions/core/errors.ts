/**
 * Base of every error the guard raises on purpose; `retryable` tells the queue whether to try again.
 * Each class spells its `name` out: the bundles are minified, so `new.target.name` would log `uo` instead
 * of `UnsafeKeyError` (the README's troubleshooting table and the alarms' readers go by these names).
 */
export class GuardError extends Error {
  override name = 'GuardError';
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** Configuration from the environment is missing or malformed. */
export class ConfigError extends GuardError {
  override name = 'ConfigError';
}

/** The event is not one the guard handles, or is malformed: never retried. */
export class InvalidEventError extends GuardError {
  override name = 'InvalidEventError';
}

/** The key exists but must not be used (disabled, pending deletion, not symmetric, wrong region). */
export class UnsafeKeyError extends GuardError {
  override name = 'UnsafeKeyError';
}

/** A user-supplied key's policy does not admit CloudWatch Logs and the guard may not change it. */
export class KeyPolicyError extends GuardError {
  override name = 'KeyPolicyError';
}

/** The association failed for a reason that will not go away by retrying. */
export class AssociationError extends GuardError {
  override name = 'AssociationError';
}

/** A retryable condition outlived the deadline: the record goes back to the queue. */
export class DeadlineExceededError extends GuardError {
  override name = 'DeadlineExceededError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}
