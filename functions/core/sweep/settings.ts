/**
 * The scheduled sweep's own settings, from its environment (the rest is the guard's config, config.ts):
 * where to queue work, how fast to call (at most the published quotas, quotas.ts), how many groups at once,
 * which prefix, and how many continuations a run may take. Validated once per container.
 */
import { type Env, readEnvNumber } from '../config.ts';
import { ConfigError } from '../errors.ts';

/** The sweep's own settings, validated. */
export interface SweepSettings {
  queueUrl: string | undefined;
  describeRate: number;
  tagsRate: number;
  associateRate: number;
  concurrency: number;
  prefix: string | undefined;
  /** Continuations allowed per run, a guard against a loop that never ends. */
  maxInvocations: number;
}

/** Reads the sweep's own settings (the rest is the guard's config). */
export function loadSweepSettings(env: Env = process.env): SweepSettings {
  const queueUrl = env.ENFORCE_QUEUE_URL?.trim() || undefined;
  if (queueUrl !== undefined && !/^https?:\/\/\S+$/.test(queueUrl)) {
    throw new ConfigError(`ENFORCE_QUEUE_URL must be an SQS queue URL, got "${queueUrl}"`);
  }
  return {
    queueUrl,
    // At most the published quotas (quotas.ts LOGS_QUOTA_TPS: DescribeLogGroups 10, ListTagsForResource 5,
    // AssociateKmsKey 5; CloudWatch Logs quotas page). Listing defaults to the quota (the adaptive bucket yields
    // to other callers at the first throttle); the writes default below theirs to leave room for the guard.
    describeRate: readEnvNumber(env, 'SWEEP_DESCRIBE_RATE', 10, { above: 0, max: 10 }),
    tagsRate: readEnvNumber(env, 'SWEEP_TAGS_RATE', 4, { above: 0, max: 5 }),
    associateRate: readEnvNumber(env, 'SWEEP_ASSOCIATE_RATE', 4, { above: 0, max: 5 }),
    concurrency: readEnvNumber(env, 'SWEEP_CONCURRENCY', 8, { above: 0, max: 64 }),
    prefix: env.SWEEP_PREFIX?.trim() || undefined,
    maxInvocations: readEnvNumber(env, 'SWEEP_MAX_INVOCATIONS', 200, { above: 0, max: 10_000 }),
  };
}
