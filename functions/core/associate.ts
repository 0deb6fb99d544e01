/**
 * Associating the key with one log group (AssociateKmsKey): paced under the 5 TPS quota, and retried for as
 * long as a refusal is one that heals (KMS propagation of a key or policy made moments ago, throttling,
 * outages) and the deadline allows; a refusal that will not heal is thrown at once. How each AWS error reads
 * is `classifyAssociateError` (DESIGN.md's table).
 */
import { AssociateKmsKeyCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { type Clock, systemClock } from './clock.ts';
import { AssociationError, DeadlineExceededError } from './errors.ts';
import type { Log } from './log.ts';
import { refusedForLogClass } from './log-class.ts';
import { type BackoffOptions, backoffDelay, isThrottle, isTransient } from './retry.ts';
import { pacedCommand, type TokenBucket } from './token-bucket.ts';

/** How the guard reads an AssociateKmsKey failure (DESIGN.md's table). */
export type AssociateErrorClass =
  | 'gone'
  | 'not-encryptable'
  | 'propagation'
  | 'caller-kms-denied'
  | 'transient'
  | 'unknown'
  | 'permanent';

/** Classifies an AssociateKmsKey error by name and message; pure. */
export function classifyAssociateError(err: unknown): AssociateErrorClass {
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e?.name ?? '';
  const message = e?.message ?? '';
  if (name === 'ResourceNotFoundException') return 'gone';
  if (name === 'AccessDeniedException') {
    // Since 2025 CloudWatch Logs calls KMS with the caller's credentials ("… is not authorized to perform:
    // kms:Encrypt on resource: arn:aws:kms:…", landing-zone-accelerator #768): the caller's key access, which
    // a key policy written moments ago may not grant yet. The guard's own IAM lacking logs:AssociateKmsKey
    // will not heal by waiting.
    if (/not authorized to perform:? kms:/i.test(message)) return 'caller-kms-denied';
    return /not authorized to perform/i.test(message) ? 'permanent' : 'propagation';
  }
  if (name === 'InvalidParameterException' || name === 'InvalidOperationException') {
    // A documented, permanent refusal for the group itself (landing-zone-accelerator #751): not a failure.
    if (/reserved for AWS/i.test(message)) return 'not-encryptable';
    // A group whose log class takes no key (log-class.ts): fixed at creation, so just as permanent.
    if (refusedForLogClass(message)) return 'not-encryptable';
    if (name === 'InvalidOperationException') return 'permanent';
    // A key Logs cannot see yet reads "could not be found"; anything else (reserved group, disabled key) stays.
    return /could not be found|does not exist/i.test(message) ? 'propagation' : 'permanent';
  }
  return isTransient(err) ? 'transient' : 'unknown';
}

export interface AssociateOptions {
  logs: CloudWatchLogsClient;
  name: string;
  /** Instead of the group `name`: a resourceIdentifier such as the account's query results (`…:query-result:*`). */
  resourceIdentifier?: string;
  keyArn: string;
  /** Epoch ms after which the record goes back to the queue instead of waiting longer. */
  deadline: number;
  log: Log;
  clock?: Clock;
  /** Paces calls under the 5 TPS account quota instead of colliding with it. */
  bucket?: TokenBucket;
  backoff?: BackoffOptions;
  /** Called once when Logs keeps refusing the key: re-verify (and repair) its policy. */
  onPropagationStall?: () => Promise<void>;
  /** Refusals after which `onPropagationStall` is called. */
  stallAfter?: number;
  /** Attempts allowed for errors the guard has never seen. */
  unknownAttempts?: number;
  /**
   * The key's policy changed moments ago (created or repaired): a refusal of the caller's own KMS access is
   * propagation then, and permanent otherwise (the key policy or IAM does not grant it).
   */
  keyJustChanged?: boolean;
}

export interface AssociateResult {
  /** `not-encryptable`: CloudWatch Logs refuses any key for this group, for good (an AWS-reserved name, its class). */
  outcome: 'associated' | 'gone' | 'not-encryptable';
  attempts: number;
  /** not-encryptable: CloudWatch Logs' own words. */
  refusal?: string;
}

/** The longest delay a Node.js timer accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 4_000 };

/** Associates the key with the log group, retrying propagation and transient failures until the deadline. */
export async function associateKey(options: AssociateOptions): Promise<AssociateResult> {
  const { logs, name, keyArn, deadline, log } = options;
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const stallAfter = options.stallAfter ?? 6;
  const unknownAttempts = options.unknownAttempts ?? 3;
  let attempts = 0;
  let refusals = 0;
  let unknowns = 0;
  let stallHandled = false;
  /** The last answer AWS gave: what a deadline message names when the deadline cut the final call short. */
  let lastAnswer: string | undefined;
  for (;;) {
    if (clock.now() >= deadline) {
      throw new DeadlineExceededError(`no time left to associate ${name} after ${attempts} attempt(s)`);
    }
    await options.bucket?.take();
    attempts++;
    // Cut off at the deadline: a call still hanging then must not outlive the invocation's budget.
    let abortSignal: AbortSignal | undefined;
    try {
      abortSignal = AbortSignal.timeout(
        Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(deadline - clock.now()))),
      );
      const target = options.resourceIdentifier
        ? { resourceIdentifier: options.resourceIdentifier }
        : { logGroupName: name };
      // Sent once when paced: a throttled attempt comes back here, to the bucket, instead of the SDK's retries.
      await logs.send(
        pacedCommand(options.bucket, new AssociateKmsKeyCommand({ ...target, kmsKeyId: keyArn })),
        {
          abortSignal,
        },
      );
      return { outcome: 'associated', attempts };
    } catch (err) {
      if (isThrottle(err)) options.bucket?.reportThrottle();
      const classified = classifyAssociateError(err);
      const kind =
        classified === 'caller-kms-denied'
          ? options.keyJustChanged
            ? 'propagation'
            : 'permanent'
          : classified;
      const error = err as Error;
      if (kind === 'gone') return { outcome: 'gone', attempts };
      if (kind === 'not-encryptable') return { outcome: 'not-encryptable', attempts, refusal: error.message };
      if (kind === 'permanent') {
        throw new AssociationError(`AssociateKmsKey ${name}: ${error.name}: ${error.message}`, {
          cause: err,
        });
      }
      if (kind === 'unknown' && ++unknowns >= unknownAttempts) {
        throw new AssociationError(
          `AssociateKmsKey ${name}: unexpected ${error.name || 'error'} ${unknowns} times: ${error.message}`,
          { cause: err, retryable: true },
        );
      }
      if (kind === 'propagation') refusals++;
      log.debug('association not accepted yet; retrying', {
        logGroupName: name,
        attempt: attempts,
        error: error.name,
      });
      if (kind === 'propagation' && refusals >= stallAfter && !stallHandled && options.onPropagationStall) {
        stallHandled = true;
        await options.onPropagationStall();
      }
      const cutOff = abortSignal?.aborted === true;
      const seen = cutOff && lastAnswer ? `cut off; before it ${lastAnswer}` : error.name;
      if (!cutOff) lastAnswer = error.name;
      const delay = backoffDelay(attempts, backoff);
      if (cutOff || clock.now() + delay >= deadline) {
        throw new DeadlineExceededError(
          `AssociateKmsKey ${name} still failing at the deadline (${seen}) after ${attempts} attempt(s); the queue will retry`,
          { cause: err },
        );
      }
      await clock.sleep(delay);
    }
  }
}
