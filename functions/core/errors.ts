/**
 * The errors the guard raises on purpose, one class per kind of refusal; the README's troubleshooting table
 * and the alarms' readers go by their names. Each class spells its `name` out: the bundles are minified, so
 * `new.target.name` would log `uo` instead of `UnsafeKeyError`.
 */

/**
 * Base of every error the guard raises on purpose. `retryable`: the same call may succeed later (a transient
 * or unknown condition), as opposed to a refusal that needs a change first; enforce.ts re-verifies the key
 * after a non-retryable AssociationError. The queue retries every failure either way (handle.ts): after
 * maxReceiveCount it lands in the DLQ; only a `permanent` refusal is not delivered again.
 */
export class GuardError extends Error {
  override name = 'GuardError';
  readonly retryable: boolean;
  /**
   * A refusal no later delivery can change (a KMS resource limit): the queue does not deliver the record again
   * (no DLQ churn); its alarm and the sweep, which finds the group again, carry it.
   */
  readonly permanent: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean; permanent?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.permanent = options.permanent ?? false;
  }
}

/** Configuration from the environment is missing or malformed. */
export class ConfigError extends GuardError {
  override name = 'ConfigError';
}

/** The key exists but must not be used (disabled, pending deletion, not symmetric, wrong region). */
export class UnsafeKeyError extends GuardError {
  override name = 'UnsafeKeyError';
}

/** A user-supplied key's policy does not admit CloudWatch Logs and the guard may not change it. */
export class KeyPolicyError extends GuardError {
  override name = 'KeyPolicyError';
}

/**
 * The guard key does not exist and this function does not create it (the enforce function: key creation is
 * the changes function's, off the event path). Retryable: the record comes back once the key exists.
 */
export class GuardKeyMissingError extends GuardError {
  override name = 'GuardKeyMissingError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}

/** The association failed for a reason that will not go away by retrying. */
export class AssociationError extends GuardError {
  override name = 'AssociationError';
}

/** A retryable condition outlived the deadline: the record goes back to the queue (retryable). */
export class DeadlineExceededError extends GuardError {
  override name = 'DeadlineExceededError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}
