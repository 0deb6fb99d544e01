/**
 * The guard's configuration, read from its environment and validated once: which key (configured or the
 * guard's own, by alias), which log groups (include, exclude, opt-out tag), and how it behaves (dry run,
 * overrides, rates, margins). Every refusal is a ConfigError that names the variable at fault.
 */
import { isKeyArn } from './arn.ts';
import { ConfigError } from './errors.ts';
import { type NumberRule, parseNumber } from './parse.ts';
import type { MessageResources } from './policy.ts';
import { compilePatterns, type NamePattern } from './scope.ts';

/** Everything the guard can be told through its environment, validated. */
export interface GuardConfig {
  /** A user-supplied key to use instead of the guard's own. */
  keyArn: string | undefined;
  /** Alias of the guard's own key, found or created per region. */
  keyAlias: string;
  include: NamePattern[];
  exclude: NamePattern[];
  /** Tag key whose presence (value other than `false`) opts a log group out. */
  skipTagKey: string;
  dryRun: boolean;
  /** Re-associate groups that already use another key (off: never override an owner's choice). */
  allowKeyOverride: boolean;
  /** Let the guard add its statement to a user-supplied key's policy (off: verify only). */
  allowKeyPolicyUpdate: boolean;
  keyCacheTtlMs: number;
  /** Time kept back from the Lambda's remaining time for reporting and returning. */
  deadlineMarginMs: number;
  /** AssociateKmsKey calls per second this process allows itself (the account quota is 5). */
  associateRate: number;
  /** Waiting period for a race-loser key the guard created and never used. */
  keyDeletionWindowDays: number;
  /**
   * The enforce function's own role (GUARD_ROLE_ARN, set by the template). The guard key's policy names it:
   * its authority over that key, and the KMS calls CloudWatch Logs makes with its credentials.
   */
  guardRoleArn: string | undefined;
  /** RESTORE_GUARD_KEY: undo a scheduled deletion or a disabling of the guard's own key (off by default). */
  restoreGuardKey: boolean;
  /**
   * BREAK_GLASS_ROLE_ARNS: the roles that alone may delete or disable the guard key; set, the guard key's policy
   * is protected (key-protection.ts). Empty: no protection.
   */
  breakGlassRoleArns: string[];
  /** ENCRYPT_QUERY_RESULTS: at deployment, also associate the key with the account's Insights query results. */
  encryptQueryResults: boolean;
  /** MESSAGE_KEY_* (MessageKmsKey=guard): the queues, rules and alarms the guard key's policy admits. */
  messageKey?: MessageResources;
}

export const DEFAULT_KEY_ALIAS = 'alias/logs-kms-guard';
export const DEFAULT_SKIP_TAG_KEY = 'logs-kms-guard:skip';

/** The environment, or any map that stands in for it (tests, the CLI). */
export type Env = Record<string, string | undefined>;

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** `env[name]` as a number within `rule`, else `fallback` when unset or blank; a ConfigError naming the variable. */
export function readEnvNumber(env: Env, name: string, fallback: number, rule: NumberRule): number {
  try {
    return parseNumber(env[name]?.trim(), name, rule) ?? fallback;
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

function readList(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Refuses a KMS_KEY_ARN of another account: GetKeyPolicy and PutKeyPolicy are not cross-account operations
 * (KMS API reference: "Cross-account use: No"), so the guard could neither verify nor repair the policy, and
 * every record would fail. Checked once the function's account is known (its invoked ARN; the CLI's caller).
 */
export function assertKeyInAccount(config: GuardConfig, account: string | undefined): void {
  if (!config.keyArn || !account) return;
  const keyAccount = config.keyArn.split(':')[4];
  if (keyAccount === account) return;
  throw new ConfigError(
    `KMS_KEY_ARN names a key of account ${keyAccount}, but the guard runs in account ${account}: KMS does not ` +
      'allow GetKeyPolicy or PutKeyPolicy across accounts, so the guard cannot verify or repair that key. ' +
      "Use a key of this account (or leave KMS_KEY_ARN empty for the guard's own key); a central key in " +
      'another account is not supported',
  );
}

/**
 * MESSAGE_KEY_QUEUES, MESSAGE_KEY_RULES, MESSAGE_KEY_ALARMS (set together by the template for
 * MessageKmsKey=guard): the stack's queue ARNs, rule ARNs and alarm ARN pattern; undefined when all are empty.
 */
export function readMessageKey(env: Env): MessageResources | undefined {
  const queueArns = readList(env, 'MESSAGE_KEY_QUEUES');
  const ruleArns = readList(env, 'MESSAGE_KEY_RULES');
  const alarmArnPattern = env.MESSAGE_KEY_ALARMS?.trim() ?? '';
  if (queueArns.length === 0 && ruleArns.length === 0 && !alarmArnPattern) return undefined;
  const arn = (service: string, rest: string) =>
    new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${rest}$`);
  const check = (name: string, values: string[], shape: RegExp, what: string) => {
    const bad = values.find((v) => !shape.test(v));
    if (values.length === 0 || bad !== undefined) {
      throw new ConfigError(`${name} must be a comma-separated list of ${what}, got "${env[name] ?? ''}"`);
    }
  };
  check('MESSAGE_KEY_QUEUES', queueArns, arn('sqs', '[\\w-]{1,80}'), 'SQS queue ARNs');
  check('MESSAGE_KEY_RULES', ruleArns, arn('events', 'rule/[\\w.-]{1,64}'), 'EventBridge rule ARNs');
  if (!arn('cloudwatch', 'alarm:[^*]+\\*').test(alarmArnPattern)) {
    throw new ConfigError(
      `MESSAGE_KEY_ALARMS must be an alarm ARN pattern (arn:aws:cloudwatch:<region>:<account>:alarm:<stack>-*), got "${alarmArnPattern}"`,
    );
  }
  return { queueArns, ruleArns, alarmArnPattern };
}

function messageKeyOf(env: Env): { messageKey?: MessageResources } {
  const messageKey = readMessageKey(env);
  return messageKey ? { messageKey } : {};
}

/**
 * MessageKmsKey=guard encrypts the queues with the guard's own key, whose policy the guard writes; a configured
 * key's policy is its owner's (the guard only merges the Logs statement into it, and only when allowed).
 */
export function assertMessageKeyIsOwn(config: GuardConfig): void {
  if (!config.messageKey || !config.keyArn) return;
  throw new ConfigError(
    "MessageKmsKey=guard needs the guard's own key, but KmsKeyArn is set: give that key's ARN as MessageKmsKey " +
      'and add the queue and topic statements to its policy yourself (docs/DEPLOY.md)',
  );
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * Validates a list of break-glass role ARNs (BREAK_GLASS_ROLE_ARNS, or the flag `name` stands for): IAM role
 * ARNs, no wildcards (a pattern would except more principals than named). Throws a ConfigError naming `name`.
 */
export function parseBreakGlassRoles(list: readonly string[], name: string): string[] {
  const bad = list.find((arn) => !ROLE_ARN.test(arn));
  if (bad !== undefined) {
    throw new ConfigError(
      `${name} must be IAM role ARNs (arn:aws:iam::<account>:role/<name>, no wildcards), got "${bad}"`,
    );
  }
  return [...new Set(list)].sort();
}

/** Reads and validates the guard's configuration; every message names the variable at fault. */
export function loadConfig(env: Env = process.env): GuardConfig {
  const keyArn = env.KMS_KEY_ARN?.trim() || undefined;
  if (keyArn !== undefined && !isKeyArn(keyArn)) {
    throw new ConfigError(
      `KMS_KEY_ARN must be a full key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "${keyArn}"; an alias or bare key id is refused by AssociateKmsKey`,
    );
  }
  const keyAlias = env.KMS_KEY_ALIAS?.trim() || DEFAULT_KEY_ALIAS;
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(keyAlias) || keyAlias.startsWith('alias/aws/')) {
    throw new ConfigError(
      `KMS_KEY_ALIAS must look like alias/<name> ([a-zA-Z0-9/_-], not under alias/aws/), got "${keyAlias}"`,
    );
  }
  const guardRoleArn = env.GUARD_ROLE_ARN?.trim() || undefined;
  if (
    guardRoleArn !== undefined &&
    !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(guardRoleArn)
  ) {
    throw new ConfigError(
      `GUARD_ROLE_ARN must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got "${guardRoleArn}"`,
    );
  }
  const skipTagKey = env.SKIP_TAG_KEY?.trim() || DEFAULT_SKIP_TAG_KEY;
  if (skipTagKey.length > 128) throw new ConfigError('SKIP_TAG_KEY must be at most 128 characters');
  return {
    keyArn,
    keyAlias,
    include: compilePatterns(readList(env, 'INCLUDE_LOG_GROUPS'), 'INCLUDE_LOG_GROUPS'),
    exclude: compilePatterns(readList(env, 'EXCLUDE_LOG_GROUPS'), 'EXCLUDE_LOG_GROUPS'),
    skipTagKey,
    dryRun: readBool(env, 'DRY_RUN', false),
    allowKeyOverride: readBool(env, 'ALLOW_KEY_OVERRIDE', false),
    allowKeyPolicyUpdate: readBool(env, 'ALLOW_KEY_POLICY_UPDATE', false),
    keyCacheTtlMs: readEnvNumber(env, 'KEY_CACHE_TTL_SECONDS', 300, { min: 0, max: 86_400 }) * 1000,
    deadlineMarginMs: readEnvNumber(env, 'DEADLINE_MARGIN_MS', 3000, { min: 0, max: 60_000 }),
    associateRate: readEnvNumber(env, 'ASSOCIATE_RATE', 5, { min: 0.01, max: 1000 }),
    keyDeletionWindowDays: readEnvNumber(env, 'KEY_DELETION_WINDOW_DAYS', 7, { min: 7, max: 30 }),
    guardRoleArn,
    restoreGuardKey: readBool(env, 'RESTORE_GUARD_KEY', false),
    breakGlassRoleArns: parseBreakGlassRoles(readList(env, 'BREAK_GLASS_ROLE_ARNS'), 'BREAK_GLASS_ROLE_ARNS'),
    encryptQueryResults: readBool(env, 'ENCRYPT_QUERY_RESULTS', false),
    ...messageKeyOf(env),
  };
}
