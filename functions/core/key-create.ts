/**
 * Creating the guard key: CreateKey with a candidate policy, the alias as the lock against concurrent creators
 * (a loser retires its key and uses the winner's), then rotation, the tag and the active policy. A key created
 * moments ago is eventually consistent in KMS, so calls on it are retried (sendFresh); a key that cannot be
 * retired is kept in the container's orphan list and retried. Only the changes function (deploy-time key, key
 * checks) and the CLI create keys: they pass `keyCreator` to the key steps (key.ts KeyStepOptions.creator). The
 * enforce function does not, which keeps this module off the event path's cold start.
 */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  type KeyMetadata,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import type { Clients } from './clients.ts';
import { systemClock } from './clock.ts';
import { UnsafeKeyError } from './errors.ts';
import {
  checkKeyUsable,
  describeKey,
  ensureKeyPolicy,
  type KeyCreator,
  type KeyRef,
  type KeyStepOptions,
  keyCacheOf,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  send,
} from './key.ts';
import { isLimitExceeded, isNotFound, limitError } from './kms-limits.ts';
import { defaultKeyPolicy, GUARD_RETIRE_SID } from './policy.ts';
import { isTransient, retryTransient } from './retry.ts';

/** The key creation the changes function and the CLI pass to the key steps. */
export const keyCreator: KeyCreator = {
  create: async (options) => {
    await refuseIfAliasLost(options);
    return createKey(options);
  },
  retireOrphans,
};

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
  const orphans = keyCacheOf(options).orphans;
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
  const orphans = keyCacheOf(options).orphans;
  if (!orphans?.size || options.config.dryRun) return;
  for (const keyId of [...orphans]) await retireKey(options, keyId, false);
}
