/**
 * The guard's KMS key: find it (a configured ARN, or the guard's own by alias), check it is usable, make its
 * policy admit CloudWatch Logs (merged for the guard's own key, verified for a configured one), or create it,
 * claiming the alias against concurrent creators. Verified keys are cached per container. Also: whether a key
 * reference names the guard's key (`findGuardKey`, `sameKey`), for the sweep and the CLI.
 */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  type KeyMetadata,
  ListResourceTagsCommand,
  NotFoundException,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { parseArn, partitionOf } from './arn.ts';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import type { GuardConfig } from './config.ts';
import { KeyPolicyError, UnsafeKeyError } from './errors.ts';
import { BREAK_GLASS_TAG, breakGlassInProgress, PROTECTION_NAMES } from './key-protection.ts';
import { isLimitExceeded, isNotFound, limitError, policySizeProblem } from './kms-limits.ts';
import type { Log } from './log.ts';
import {
  admitsLogs,
  defaultKeyPolicy,
  GUARD_RETIRE_SID,
  type MergeResult,
  mergeKeyPolicy,
  missingCallerAccess,
  type PolicyContext,
  PolicyParseError,
  parsePolicy,
} from './policy.ts';
import { isTransient, retryTransient } from './retry.ts';

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
}

/** The alarmed metrics the core counts; each has an alarm in the template. */
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

/** How long a call on a key created moments ago may be refused while its tags start to count for IAM. */
const FRESH_KEY_BUDGET_MS = 20_000;

/**
 * Sends a KMS command on a key this container created moments ago. KMS is eventually consistent: such a key
 * may not be found yet (NotFoundException right after CreateKey, boto/botocore#2107), so NotFound is retried.
 * IAM conditions on the key's tags (`aws:ResourceTag`) can take minutes to see new tags, so AccessDeniedException
 * is retried too unless `denied: false`. Bounded by the step's deadline and a fixed budget.
 */
function sendFresh<T>(
  options: KeyStepOptions,
  call: (kms: Clients['kms']) => Promise<T>,
  { denied = true }: { denied?: boolean } = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const budget = clock.now() + FRESH_KEY_BUDGET_MS;
  return retryTransient(() => call(options.clients.kms), {
    deadline: Math.min(options.deadline ?? budget, budget),
    clock,
    backoff: { baseMs: 500, maxMs: 4_000 },
    maxAttempts: 10,
    retryIf: (err) =>
      isTransient(err) || isNotFound(err) || (denied && (err as Error)?.name === 'AccessDeniedException'),
  });
}

/** Reports housekeeping on a new key that could not be done: counted for its alarm, and logged. */
function housekeepingFailed(options: KeyStepOptions, message: string, fields: Record<string, unknown>): void {
  options.alert?.('KeyHousekeepingFailed');
  options.log.error(message, fields);
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
  await retireOrphans(options);
  let key: KeyRef;
  if (config.keyArn) {
    const metadata = await describeKey(options, config.keyArn);
    if (!metadata) throw new UnsafeKeyError(`configured KMS_KEY_ARN ${config.keyArn} does not exist`);
    checkKeyUsable(metadata, options.ctx.region);
    key = { arn: metadata.Arn as string, keyId: metadata.KeyId as string, own: false };
    key = await ensureKeyPolicy({ ...options, key });
  } else {
    const metadata = await describeKey(options, config.keyAlias);
    if (metadata) {
      checkKeyUsable(metadata, options.ctx.region);
      key = await ensureKeyPolicy({
        ...options,
        key: { arn: metadata.Arn as string, keyId: metadata.KeyId as string, own: true },
      });
    } else {
      await refuseIfAliasLost(options);
      key = await createKey(options);
    }
  }
  return key;
}

/**
 * The guard alias is missing: a first deployment, or someone deleted it. The function's own log group tells
 * them apart (the deployment encrypts it with the guard key): if its key is one the guard made (policy Id
 * `logs-kms-guard`), the alias was lost, and the guard creates no second key on a guess (KeyAliasChanged was
 * raised when it happened; the fix is to point the alias back).
 */
async function refuseIfAliasLost(options: KeyStepOptions): Promise<void> {
  if (!options.ownLogGroup || options.config.dryRun) return;
  const name = options.ownLogGroup;
  const clock = options.clock ?? systemClock;
  const out = await retryTransient(
    () => options.clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, limit: 1 })),
    { deadline: options.deadline ?? clock.now() + 30_000, clock },
  );
  const previous = out.logGroups?.[0]?.logGroupName === name ? out.logGroups[0]?.kmsKeyId : undefined;
  if (!previous) return;
  let policy: string | undefined;
  try {
    policy = (
      await send(options, (kms) =>
        kms.send(new GetKeyPolicyCommand({ KeyId: previous, PolicyName: 'default' })),
      )
    ).Policy;
  } catch {
    return; // not a key the guard can read: not one it made
  }
  let id: unknown;
  try {
    id = JSON.parse(policy ?? '{}').Id;
  } catch {
    return;
  }
  if (id !== 'logs-kms-guard') return;
  throw new UnsafeKeyError(
    `the guard alias ${options.config.keyAlias} is missing, but the guard key ${previous} exists (it encrypts ${name}): ` +
      `the guard creates no second key on a guess. Point the alias back: aws kms create-alias --alias-name ` +
      `${options.config.keyAlias} --target-key-id ${previous} (logs-kms-guard doctor explains)`,
  );
}

/** Describes a key by ARN, id or alias; undefined when it does not exist. */
export async function describeKey(options: KmsCallOptions, keyId: string): Promise<KeyMetadata | undefined> {
  try {
    const out = await send(options, (kms) => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    return out.KeyMetadata;
  } catch (err) {
    if (err instanceof NotFoundException || (err as Error).name === 'NotFoundException') return undefined;
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

/** Creates the guard's key and claims its alias; a loser of the alias race retires its key and uses the winner's. */
export async function createKey(options: KeyStepOptions): Promise<KeyRef> {
  const { clients, config, ctx, log } = options;
  const clock = options.clock ?? systemClock;
  if (config.dryRun) {
    log.info('dry run: would create the guard key', { alias: config.keyAlias });
    return { arn: `(would create ${config.keyAlias})`, keyId: '', own: true, planned: true };
  }
  if (!ctx.guardRoles?.length) {
    log.warn(
      `creating the guard key in ${ctx.account} ${ctx.region} without a function role in its policy ` +
        '(GUARD_ROLE_ARN / --function-role unset): the enforce function will neither use nor repair it until ' +
        '`key setup --function-role` names its role',
      { alias: config.keyAlias, account: ctx.account, region: ctx.region },
    );
  }
  const created = await clients.kms.send(
    new CreateKeyCommand({
      Description: `logs-kms-guard: encrypts CloudWatch Logs log groups in ${ctx.region}`,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      // Born a candidate: its policy lets the guard's roles retire it until it wins the alias. No tags at
      // creation: that would need kms:TagResource in IAM, on every key of the account.
      Policy: JSON.stringify(defaultKeyPolicy(ctx, { candidate: true })),
    }),
  );
  const mine = created.KeyMetadata;
  if (!mine?.Arn || !mine.KeyId) throw new UnsafeKeyError('CreateKey returned no key ARN');
  let aliasError: unknown;
  try {
    // The key was created moments ago: CreateAlias may not find it yet (NotFoundException) and is retried.
    await sendFresh(
      options,
      (kms) => kms.send(new CreateAliasCommand({ AliasName: config.keyAlias, TargetKeyId: mine.KeyId })),
      { denied: false },
    );
  } catch (err) {
    aliasError = isLimitExceeded(err)
      ? limitError(err, `CreateAlias ${config.keyAlias} on ${mine.Arn}`)
      : err;
  }
  if (aliasError !== undefined) {
    // A retried CreateAlias whose first try went through also says AlreadyExists: believe the alias, not the error.
    let holder: KeyMetadata | undefined;
    try {
      holder = await describeKey(options, config.keyAlias);
    } catch (err) {
      // Whose key the alias holds is unknown, and it may be this one: never retire it on a guess. The record
      // is retried and then finds the alias; a key left behind is counted and reported by `doctor`.
      housekeepingFailed(
        options,
        'could not tell which key the alias holds; keeping the key this invocation created',
        {
          keyArn: mine.Arn,
          alias: config.keyAlias,
          error: (err as Error).name,
        },
      );
      throw err;
    }
    if (holder?.KeyId !== mine.KeyId) {
      // This key is not behind the alias and nothing uses it: retire it.
      await retireKey(options, mine.KeyId);
      const lost =
        aliasError instanceof AlreadyExistsException ||
        (aliasError as Error).name === 'AlreadyExistsException';
      if (!lost || !holder) throw aliasError;
      log.info('lost the key-creation race: using the key another invocation created', {
        alias: config.keyAlias,
      });
      checkKeyUsable(holder, ctx.region);
      return ensureKeyPolicy({
        ...options,
        key: { arn: holder.Arn as string, keyId: holder.KeyId as string, own: true, changedAt: clock.now() },
      });
    }
  }
  log.info('created the guard key', { keyArn: mine.Arn, alias: config.keyAlias });
  // The key is live from here; dropping the retire statement, rotation and the tag are best effort: a failure
  // is logged and counted (KeyHousekeepingFailed has an alarm), the next policy check drops the statement
  // (mergeKeyPolicy, own key), and `doctor` reports what is missing.
  const candidate = defaultKeyPolicy(ctx, { candidate: true });
  const active = defaultKeyPolicy(ctx);
  const retireWritten = candidate.Statement.some((st) => st.Sid === GUARD_RETIRE_SID);
  await Promise.all([
    retireWritten
      ? sendFresh(options, (kms) =>
          kms.send(
            new PutKeyPolicyCommand({
              KeyId: mine.KeyId,
              PolicyName: 'default',
              Policy: JSON.stringify(active),
            }),
          ),
        ).catch((err: Error) =>
          housekeepingFailed(options, 'could not remove the retire statement from the guard key policy', {
            keyArn: mine.Arn,
            error: err.name,
          }),
        )
      : undefined,
    sendFresh(options, (kms) => kms.send(new EnableKeyRotationCommand({ KeyId: mine.KeyId }))).catch(
      (err: Error) =>
        housekeepingFailed(options, 'could not enable rotation on the guard key', {
          keyArn: mine.Arn,
          error: err.name,
        }),
    ),
    sendFresh(options, (kms) =>
      kms.send(
        new TagResourceCommand({
          KeyId: mine.KeyId,
          Tags: [{ TagKey: MANAGED_BY_TAG, TagValue: MANAGED_BY_VALUE }],
        }),
      ),
    ).catch((err: Error) =>
      housekeepingFailed(options, 'could not tag the guard key', {
        keyArn: mine.Arn,
        error: err.name,
      }),
    ),
  ]);
  return { arn: mine.Arn, keyId: mine.KeyId, own: true, changedAt: clock.now() };
}

/**
 * Schedules deletion of a key this invocation created and never used (the race loser's). A key that cannot be
 * retired yet (KMS still answering NotFound, a refusal) is counted, logged and kept in the container's orphan
 * list, which the next lookup retries: never forgotten. True when the deletion is scheduled.
 */
async function retireKey(options: KeyStepOptions, keyId: string, fresh = true): Promise<boolean> {
  const { config, log } = options;
  const orphans = (options.cache ?? processCache).orphans;
  const schedule = (kms: Clients['kms']) =>
    kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: config.keyDeletionWindowDays }),
    );
  try {
    // A key created moments ago gets the patient retries; an orphan retried later, one ordinary try.
    await (fresh ? sendFresh(options, schedule) : send(options, schedule));
    orphans?.delete(keyId);
    log.info('scheduled deletion of an unused key this invocation created', { keyId });
    return true;
  } catch (err) {
    if ((err as Error).name === 'KMSInvalidStateException') {
      orphans?.delete(keyId); // already pending deletion (an earlier try went through): nothing is live
      return true;
    }
    orphans?.add(keyId);
    // Not fatal for the log group, but a live orphan key must be seen.
    housekeepingFailed(
      options,
      'could not schedule deletion of an unused guard key; retried on the next lookup of this container, ' +
        'else delete it by hand',
      { keyId, error: (err as Error).name },
    );
    return false;
  }
}

/** Retries retiring the keys this container could not retire before (`KeyCache.orphans`); best effort. */
async function retireOrphans(options: KeyStepOptions): Promise<void> {
  const orphans = (options.cache ?? processCache).orphans;
  if (!orphans?.size || options.config.dryRun) return;
  for (const keyId of [...orphans]) await retireKey(options, keyId, false);
}
