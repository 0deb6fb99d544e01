/**
 * KMS's hard resource limits the guard can run into, and how its answers read: a key policy document of at
 * most 32 KB and at most 50 aliases per key (AWS KMS Developer Guide, "Quotas" → "Resource quotas": "Key policy
 * document size: 32 KB (32,768 bytes)", "Aliases per KMS key: 50"). Over either, KMS answers
 * LimitExceededException, which no retry heals: the guard refuses at once with a KeyPolicyError naming the size
 * and the limit (`policySizeProblem` before PutKeyPolicy, where the size is known). Also: NotFoundException,
 * which KMS answers for a key created moments ago ("The KMS API follows an eventual consistency model",
 * AWS KMS Developer Guide; boto/botocore#2107). Pure.
 */
import { KeyPolicyError } from './errors.ts';

/** KMS quotas: "Key policy document size: 32 KB (32,768 bytes)". */
export const KEY_POLICY_MAX_BYTES = 32_768;

/** KMS quotas: "Aliases per KMS key: 50". */
export const ALIASES_PER_KEY = 50;

/** The size KMS measures a policy document by: its bytes (UTF-8). */
export function policyBytes(policy: string): number {
  return Buffer.byteLength(policy, 'utf8');
}

/** A KeyPolicyError when the policy text is over KMS's limit (refused for good, never retried); else undefined. */
export function policySizeProblem(policy: string, keyArn: string): KeyPolicyError | undefined {
  const bytes = policyBytes(policy);
  if (bytes <= KEY_POLICY_MAX_BYTES) return undefined;
  return new KeyPolicyError(
    `the merged policy of ${keyArn} would be ${bytes} bytes, over KMS's key policy limit of ` +
      `${KEY_POLICY_MAX_BYTES} bytes (32 KB): the guard cannot add its statements. Shorten or merge the key's ` +
      'other statements (or point the guard at another key); retrying cannot help',
    { permanent: true },
  );
}

/** True for KMS's NotFoundException (by class or by name: bundles and mocks differ). */
export function isNotFound(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'NotFoundException';
}

/** True for LimitExceededException: a resource quota, not a rate (KMS answers ThrottlingException for those). */
export function isLimitExceeded(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'LimitExceededException';
}

/** The KeyPolicyError a LimitExceededException from KMS becomes, for the call that met it; permanent. */
export function limitError(err: unknown, what: string): KeyPolicyError {
  return new KeyPolicyError(
    `${what}: KMS refused it as over a resource limit (LimitExceededException: ${(err as Error).message}); ` +
      `a key policy is at most ${KEY_POLICY_MAX_BYTES} bytes and a key has at most ${ALIASES_PER_KEY} aliases. ` +
      'Retrying cannot help',
    { cause: err, permanent: true },
  );
}
