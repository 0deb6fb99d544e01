/**
 * The guard's KMS key: find it (a configured ARN, or the guard's own by alias), check it is usable, make its
 * policy admit CloudWatch Logs (merged for the guard's own key, verified for a configured one). Creating it is
 * a `KeyCreator` the caller passes (key-create.ts: the changes function, the CLI); the enforce function passes
 * none, so key creation stays off the event path's cold start, and a missing key is a GuardKeyMissingError the
 * queue retries while the changes function creates the key. Verified keys are cached per container. Also:
 * whether a key reference names the guard's key (`findGuardKey`, `sameKey`), for the sweep and the CLI.
 */
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  type KeyMetadata,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { parseArn, partitionOf } from './arn.ts';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import type { GuardConfig } from './config.ts';
import { GuardKeyMissingError, KeyPolicyError, UnsafeKeyError } from './errors.ts';
import { BREAK_GLASS_TAG, breakGlassInProgress, PROTECTION_NAMES } from './key-protection.ts';
import { isLimitExceeded, isNotFound, limitError, policySizeProblem } from './kms-limits.ts';
import type { Log } from './log.ts';
import {
  admitsLogs,
  type MergeResult,
  mergeKeyPolicy,
  missingCallerAccess,
  type PolicyContext,
  PolicyParseError,
  parsePolicy,
} from './policy.ts';
import { retryTransient } from './retry.ts';

/** Informational only: no permission depends on it (tags take minutes to count, and anyone may tag). */
export const MANAGED_BY_TAG = 'ManagedBy';
export const MANAGED_BY_VALUE = 'logs-kms-guard';

/** The key the guard associates, as verified. */
export interface KeyRef {
  arn: string;
  keyId: string;
  /** The guard's own key (found or created by alias), as opposed to a configured one. */
  own: boolean;
  /** Set when this process created the key or changed its policy: Logs may not see it for a while. */
  changedAt?: number;
  /** When KMS created the key (DescribeKey's CreationDate): a key another function made moments ago is just as new. */
  createdAt?: number;
  /** Dry run only: the key does not exist and would be created. */
  planned?: boolean;
  /** What this process changed in the key's policy ("the CloudWatch Logs statement added", …), when it did. */
  policyChanges?: string[];
}

export interface KeyStepOptions {
  clients: Clients;
  config: GuardConfig;
  ctx: PolicyContext;
  log: Log;
  clock?: Clock;
  /** Epoch ms until which throttling and outages are retried (default: 30 s from now). */
  deadline?: number;
  /** Defaults to the process-wide cache. */
  cache?: KeyCache;
  /** The function's own log group (encrypted with the guard key at deployment): tells a lost alias apart. */
  ownLogGroup?: string;
  /** Counts a metric that has an alarm (by `value`, default 1). */
  alert?: (metric: AlertMetric, value?: number) => void;
  /** `key setup --break-glass-role` on a configured key: write the protection into its policy too. */
  protect?: boolean;
  /** The change being answered was made by a break-glass role: leave the protection statements as they are. */
  breakGlass?: boolean;
  /** Creates the guard key when it does not exist (key-create.ts); without it a missing key is GuardKeyMissingError. */
  creator?: KeyCreator;
}

/** What creating the guard key takes (key-create.ts `keyCreator`), passed by the functions that may create it. */
export interface KeyCreator {
  /** Creates the guard key and claims its alias (the alias is missing when this is called). */
  create(options: KeyStepOptions): Promise<KeyRef>;
  /** Retries retiring keys this container created and could not retire before; best effort. */
  retireOrphans(options: KeyStepOptions): Promise<void>;
}

/** The alarmed metrics the core counts: KeyAtRisk has its own alarm, the others NeedsAttention's (guard-function.ts). */
export type AlertMetric =
  | 'KeyHousekeepingFailed'
  | 'KeyAtRisk'
  | 'KeyPolicyRepaired'
  | 'KeyAliasChanged'
  /** A log group newly fought over by an infrastructure-as-code tool (fight.ts): once per group and tool. */
  | 'IacConflict';

/** The policy context of a region for this configuration (the role the guard key names, the restore grant). */
export function keyContext(config: GuardConfig, region: string, account: string): PolicyContext {
  return {
    partition: partitionOf(region),
    region,
    account,
    ...(config.guardRoleArn ? { guardRoles: [config.guardRoleArn] } : {}),
    ...(config.restoreGuardKey ? { restoreGuardKey: true } : {}),
    ...(config.breakGlassRoleArns.length > 0 ? { breakGlassRoles: config.breakGlassRoleArns } : {}),
    ...(config.encryptQueryResults ? { encryptQueryResults: true } : {}),
    ...(config.messageKey ? { messages: config.messageKey } : {}),
  };
}

/** What one KMS call needs of a step: the clients, the clock and the step's deadline. */
export type KmsCallOptions = Pick<KeyStepOptions, 'clients' | 'clock' | 'deadline'>;

/** Sends a KMS command, retrying transient failures until the step's deadline. */
export function send<T>(options: KmsCallOptions, call: (kms: Clients['kms']) => Promise<T>): Promise<T> {
  const clock = options.clock ?? systemClock;
  return retryTransient(() => call(options.clients.kms), {
    deadline: options.deadline ?? clock.now() + 30_000,
    clock,
  });
}

/** Verified keys of one container, and the lookups under way (so concurrent records share one CreateKey). */
export interface KeyCache {
  entries: Map<string, { key: KeyRef; expiresAt: number }>;
  inflight: Map<string, Promise<KeyRef>>;
  /**
   * Keys this container created, lost the alias with and could not retire yet (by key id): retried on the
   * next lookup of the container, so a live orphan is never forgotten (KeyHousekeepingFailed also counts it).
   */
  orphans?: Set<string>;
}

/** A cache for one container; each Lambda container (and each simulated one in tests) has its own. */
export function createKeyCache(): KeyCache {
  return { entries: new Map(), inflight: new Map(), orphans: new Set() };
}

const processCache = createKeyCache();

/** The cache a step uses: its own, or the process-wide one. */
export function keyCacheOf(options: Pick<KeyStepOptions, 'cache'>): KeyCache {
  return options.cache ?? processCache;
}

function cacheKey({ config, ctx }: KeyStepOptions): string {
  // A dry run's plan (a key it would create) is kept apart: it must never stand for a real key.
  return `${ctx.partition}|${ctx.region}|${ctx.account}|${config.keyArn ?? config.keyAlias}${config.dryRun ? '|dry-run' : ''}`;
}

/** Forgets the verified key of a region, so the next call checks state and policy again. */
export function invalidateKey(options: KeyStepOptions): void {
  (options.cache ?? processCache).entries.delete(cacheKey(options));
}

/** Empties the process-wide cache (tests and benchmarks). */
export function clearKeyCache(): void {
  processCache.entries.clear();
  processCache.inflight.clear();
  processCache.orphans?.clear();
}

/** Returns a usable key whose policy admits CloudWatch Logs: cached, found, repaired or created. */
export async function ensureKey(options: KeyStepOptions): Promise<KeyRef> {
  const clock = options.clock ?? systemClock;
  const id = cacheKey(options);
  const cache = options.cache ?? processCache;
  const hit = cache.entries.get(id);
  if (hit && hit.expiresAt > clock.now()) return hit.key;
  let pending = cache.inflight.get(id);
  if (!pending) {
    pending = resolveKey(options).finally(() => cache.inflight.delete(id));
    cache.inflight.set(id, pending);
  }
  const key = await pending;
  // A planned key is cached too (under the dry run's own entry): planned once per region, not once per group.
  cache.entries.set(id, { key, expiresAt: clock.now() + options.config.keyCacheTtlMs });
  return key;
}

/** Finds, verifies, repairs or creates the key, bypassing the cache. */
async function resolveKey(options: KeyStepOptions): Promise<KeyRef> {
  const { config } = options;
  await options.creator?.retireOrphans(options);
  if (config.keyArn) {
    const metadata = await describeKey(options, config.keyArn);
    if (!metadata) throw new UnsafeKeyError(`configured KMS_KEY_ARN ${config.keyArn} does not exist`);
    checkKeyUsable(metadata, options.ctx.region);
    const key = { arn: metadata.Arn as string, keyId: metadata.KeyId as string, own: false };
    return ensureKeyPolicy({ ...options, key });
  }
  const metadata = await describeKey(options, config.keyAlias);
  if (metadata) {
    checkKeyUsable(metadata, options.ctx.region);
    const createdAt = metadata.CreationDate?.getTime();
    return ensureKeyPolicy({
      ...options,
      key: { arn: metadata.Arn as string, keyId: metadata.KeyId as string, own: true, createdAt },
    });
  }
  if (options.creator) return options.creator.create(options);
  throw new GuardKeyMissingError(
    `the guard key ${config.keyAlias} does not exist in ${options.ctx.region} yet: the changes function creates it ` +
      '(at deployment and at its scheduled key check, every 15 minutes); this record is retried meanwhile. ' +
      `To create it now: logs-kms-guard key setup --region ${options.ctx.region}`,
  );
}

/** Describes a key by ARN, id or alias; undefined when it does not exist. */
export async function describeKey(options: KmsCallOptions, keyId: string): Promise<KeyMetadata | undefined> {
  try {
    const out = await send(options, (kms) => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    return out.KeyMetadata;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The guard's key (configured ARN, or alias) as it is now; undefined when it does not exist. Read-only. */
export function findGuardKey(
  clients: Clients,
  config: GuardConfig,
  clock: Clock = systemClock,
): Promise<KeyMetadata | undefined> {
  return describeKey({ clients, clock }, config.keyArn ?? config.keyAlias);
}

/** True when two key references (ARN or id) name the same key. */
export function sameKey(a: string, b: string): boolean {
  const id = (k: string) => k.slice(k.lastIndexOf('/') + 1);
  return a === b || (id(a) === id(b) && !a.includes('alias/') && !b.includes('alias/'));
}

/** Refuses a key that CloudWatch Logs cannot use or that must not be used. */
export function checkKeyUsable(metadata: KeyMetadata, region: string): void {
  const arn = metadata.Arn ?? metadata.KeyId ?? 'unknown key';
  const problems: string[] = [];
  if (metadata.KeyState !== 'Enabled') problems.push(`its state is ${metadata.KeyState ?? 'unknown'}`);
  if ((metadata.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT')
    problems.push(`it is ${metadata.KeySpec}`);
  if ((metadata.KeyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT')
    problems.push(`its usage is ${metadata.KeyUsage}`);
  if (!metadata.Arn || parseArn(metadata.Arn)?.region !== region) problems.push(`it is not in ${region}`);
  if (problems.length > 0) {
    throw new UnsafeKeyError(
      `refusing KMS key ${arn}: ${problems.join(', ')}; no log group was associated with it`,
    );
  }
}

/** Makes the key's policy admit CloudWatch Logs: merged and written back for the guard's own key, verified for a configured one. */
export async function ensureKeyPolicy(options: KeyStepOptions & { key: KeyRef }): Promise<KeyRef> {
  const { config, ctx, log, key } = options;
  const out = await send(options, (kms) =>
    kms.send(new GetKeyPolicyCommand({ KeyId: key.arn, PolicyName: 'default' })),
  );
  let policy: ReturnType<typeof parsePolicy>;
  try {
    policy = parsePolicy(out.Policy ?? '');
  } catch (err) {
    if (err instanceof PolicyParseError) {
      throw new KeyPolicyError(`the policy of ${key.arn} cannot be read: ${err.message}`, { cause: err });
    }
    throw err;
  }
  if (!key.own) {
    const missing = missingCallerAccess(policy, ctx, config.guardRoleArn);
    if (missing.length > 0) {
      throw new KeyPolicyError(
        `the policy of configured key ${key.arn} lets this function's role (${config.guardRoleArn ?? 'the caller'}) ` +
          `use ${missing.join(', ')} neither itself nor through IAM: CloudWatch Logs makes these calls with the ` +
          "caller's credentials when a key is associated. Add the account-root statement " +
          `(Principal arn:${ctx.partition}:iam::${ctx.account}:root, Action kms:*) or a statement naming the role ` +
          `for kms:Encrypt, kms:Decrypt, kms:GenerateDataKey* with kms:ViaService logs.${ctx.region}.amazonaws.com (see docs/DEPLOY.md)`,
      );
    }
    if (admitsLogs(policy, ctx) && !options.protect) return key;
  }
  if (!key.own && !config.allowKeyPolicyUpdate && !admitsLogs(policy, ctx)) {
    throw new KeyPolicyError(
      `the policy of configured key ${key.arn} does not let logs.${ctx.region} use it for this account's log groups; ` +
        'add the AllowCloudWatchLogs statement (see README) or set ALLOW_KEY_POLICY_UPDATE=true',
    );
  }
  const merged = await mergeRespectingBreakGlass({ ...options, key }, policy);
  if (!admitsLogs(merged.policy, ctx)) {
    // With the guard's statement in place, only a Deny can still shut Logs out; the guard never removes
    // a statement it did not write, and retrying AssociateKmsKey against it would only burn the deadline.
    throw new KeyPolicyError(
      `the policy of ${key.arn} has a Deny statement that shuts logs.${ctx.region} out of the key; ` +
        'the guard keeps statements it did not write: remove or narrow that Deny',
    );
  }
  if (!merged.changed) return key;
  // KMS refuses a policy over 32 KB with LimitExceededException; no retry heals that: refuse it here, at once.
  const text = JSON.stringify(merged.policy);
  const oversized = policySizeProblem(text, key.arn);
  if (oversized) throw oversized;
  if (config.dryRun) {
    log.info('dry run: would update key policy', { keyArn: key.arn });
    return key;
  }
  try {
    await send(options, (kms) =>
      kms.send(new PutKeyPolicyCommand({ KeyId: key.arn, PolicyName: 'default', Policy: text })),
    );
  } catch (err) {
    lockedOutByProtection(err, options);
    if (isLimitExceeded(err)) throw limitError(err, `PutKeyPolicy on ${key.arn}`);
    if ((err as Error).name === 'AccessDeniedException' && key.own) {
      // The guard's authority over its key is that key's policy; a key created before it was written there
      // (an older version, or `key setup` without --function-role) cannot be repaired by the function.
      throw new KeyPolicyError(
        `the guard key ${key.arn} needs a policy update this role may not make: its policy does not name ` +
          `${config.guardRoleArn ?? "the guard's role"}. Run \`logs-kms-guard key setup --region ${ctx.region}` +
          `${config.guardRoleArn ? ` --function-role ${config.guardRoleArn}` : ''}\` with administrator credentials`,
        { cause: err },
      );
    }
    throw err;
  }
  log.warn(`key policy repaired: ${merged.changes.join('; ')}`, { keyArn: key.arn });
  return { ...key, changedAt: (options.clock ?? systemClock).now(), policyChanges: merged.changes };
}

/**
 * The merge of the guard's statements, which never fights a break-glass: when it would add or correct a
 * protection statement, the key's tags are read (only then: no call in the steady state), and a break-glass tag
 * leaves the protection as the break-glass operator left it.
 */
async function mergeRespectingBreakGlass(
  options: KeyStepOptions & { key: KeyRef },
  policy: ReturnType<typeof parsePolicy>,
): Promise<MergeResult> {
  const { ctx, key, log } = options;
  const how = { own: key.own, ...(options.protect ? { protect: true } : {}) };
  if (options.breakGlass) return mergeKeyPolicy(policy, ctx, { ...how, breakGlass: true });
  const merged = mergeKeyPolicy(policy, ctx, how);
  const names = Object.values(PROTECTION_NAMES);
  if (!merged.changes.some((c) => names.some((n) => c.startsWith(n)))) return merged;
  let tags: { TagKey?: string }[] | undefined;
  try {
    tags = (await send(options, (kms) => kms.send(new ListResourceTagsCommand({ KeyId: key.arn })))).Tags;
  } catch (err) {
    // Not readable (a policy from before the protection): no break-glass can be under way on an unprotected key.
    log.warn('could not read the key tags to look for a break-glass', {
      keyArn: key.arn,
      error: (err as Error).name,
    });
  }
  if (!breakGlassInProgress(tags)) return merged;
  log.warn(
    `break-glass in progress (key tag ${BREAK_GLASS_TAG}): the protection statements are left as they are`,
    {
      keyArn: key.arn,
    },
  );
  return mergeKeyPolicy(policy, ctx, { ...how, breakGlass: true });
}

/**
 * KMS refuses a policy that would keep its writer from writing it again (the lockout safety check): the
 * protection denies kms:PutKeyPolicy to everyone but the guard's and the break-glass roles, so only they can
 * write it. Says so instead of "malformed policy"; returns for any other error.
 */
function lockedOutByProtection(err: unknown, options: KeyStepOptions & { key: KeyRef }): void {
  const e = err as Error;
  if (e?.name !== 'MalformedPolicyDocumentException' || !/update the key policy/i.test(e.message ?? ''))
    return;
  if (!options.ctx.breakGlassRoles?.length) return;
  throw new KeyPolicyError(
    `KMS refused the protected policy for ${options.key.arn}: it denies kms:PutKeyPolicy to every principal but ` +
      `the guard's role and the break-glass roles (${options.ctx.breakGlassRoles.join(', ')}), and these ` +
      'credentials are neither, so they would lock themselves out. Run it with the credentials of a break-glass ' +
      "role, or let the guard's function apply it (BreakGlassRoleArns on its stack; docs/DEPLOY.md#key-protection-and-break-glass). " +
      `(KMS: ${e.name}: ${e.message})`,
  );
}
