/**
 * End-to-end rig: the in-process emulator (local/emulator), real SDK clients for the test's own set-up, and
 * enforce "containers" that run the real handler against the emulator through the real AWS SDK.
 *
 * The handler under test is the deployable bundle dist/enforce.mjs, not functions/enforce.ts: it is the
 * exact file that is deployed (esbuild output with its own copy of the AWS SDK, middy and Powertools), so
 * a bundling mistake cannot hide behind a passing test. Each container is a fresh import of it
 * (`?c=N`, as local/pipeline.ts does): its own module scope, so its own config (read at load, which is
 * why the environment is set before the import), key cache, SDK clients and AssociateKmsKey pacer, as
 * separate Lambda containers have; the first-event race depends on that. `npm test` builds dist/ before
 * vitest runs; test/e2e/global-setup.ts builds it when it is missing.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateAliasCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterEach, expect } from 'vitest';
import { guardRoleStatements } from '../../functions/core/policy.ts';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import {
  type ApiCall,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from '../../local/emulator/index.ts';
import { LocalPipeline, type PipelineOptions } from '../../local/pipeline.ts';
import { deployRole, guardRuleFilter, sweepServiceCheck } from '../../local/roles.ts';
import { sqsRecord } from '../../local/sqs-record.ts';
import { captureOutput, loadEvent } from '../helpers.ts';

export { captureOutput };

/** E2E_BUNDLE points the tests at another build (e.g. a deliberately broken one, to see them fail). */
export const BUNDLE = process.env.E2E_BUNDLE ?? join(import.meta.dirname, '..', '..', 'dist', 'enforce.mjs');
/** The deployable sweep bundle (E2E_SWEEP_BUNDLE: another build). */
export const SWEEP_BUNDLE =
  process.env.E2E_SWEEP_BUNDLE ?? join(import.meta.dirname, '..', '..', 'dist', 'sweep.mjs');
export const REGION = 'us-east-1';
export const GUARD_ALIAS = 'alias/logs-kms-guard';
/** The test's own set-up and checks: the emulator's all-powerful caller. The bundles run as their roles. */
export const credentials = { accessKeyId: 'e2e', secretAccessKey: 'e2e' };

/** Every variable the enforce function reads; cleared before each container loads so no test leaks into the next. */
const GUARD_VARIABLES = [
  'KMS_KEY_ARN',
  'KMS_KEY_ALIAS',
  'INCLUDE_LOG_GROUPS',
  'EXCLUDE_LOG_GROUPS',
  'SKIP_TAG_KEY',
  'DRY_RUN',
  'ALLOW_KEY_OVERRIDE',
  'ALLOW_KEY_POLICY_UPDATE',
  'KEY_CACHE_TTL_SECONDS',
  'ASSOCIATE_RATE',
  'DEADLINE_MARGIN_MS',
  'KEY_DELETION_WINDOW_DAYS',
  'GUARD_ROLE_ARN',
  'RESTORE_GUARD_KEY',
  'ENCRYPT_QUERY_RESULTS',
];

/** The sweep function's own variables (functions/sweep.ts loadSweepSettings), cleared before a sweep container loads. */
const SWEEP_VARIABLES = [
  'ENFORCE_QUEUE_URL',
  'SWEEP_DESCRIBE_RATE',
  'SWEEP_TAGS_RATE',
  'SWEEP_ASSOCIATE_RATE',
  'SWEEP_CONCURRENCY',
  'SWEEP_PREFIX',
  'SWEEP_MAX_INVOCATIONS',
];

export type Handler = (event: unknown, context: unknown) => Promise<any>;

let containers = 0;
const cleanups: (() => Promise<void> | void)[] = [];
/** Emulators of this test whose role requests must all have been allowed (issue 11, promise (a)). */
const audited: { emulator: Emulator; allowDenials: boolean }[] = [];
afterEach(async () => {
  const checks = audited.splice(0);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const { emulator, allowDenials } of checks) {
    if (allowDenials) continue;
    // Every request a bundle made under its deployed role, and every KMS call CloudWatch Logs made with its
    // credentials, was allowed: a grant the guard needs and the template lacks fails the test that needed it.
    const denied = emulator.authorizations
      .filter((a) => a.decision !== 'Allowed' && !a.accessKeyId.startsWith(credentials.accessKeyId))
      .map(
        (a) =>
          `${a.operation}${a.forwardedBy ? ' (forwarded by Logs)' : ''}: ${a.action} on ${a.resource} ${a.decision}`,
      );
    expect(denied, 'requests the deployed roles were refused').toEqual([]);
  }
});

export interface World {
  emulator: Emulator;
  region: string;
  account: string;
  /** The test's own clients (set-up and checks), with SDK retries so set-up never flakes on a throttle. */
  kms: KMSClient;
  logs: CloudWatchLogsClient;
  /** The environment every container of this world starts from. */
  env: Record<string, string>;
  output: ReturnType<typeof captureOutput>;
  /**
   * A new container: a fresh import of the bundle, configured by `env` (on top of `world.env`), running
   * with the credentials of the EnforceRole a stack deployed with those settings has (`deployRole`).
   */
  container(env?: Record<string, string>): Promise<Handler>;
  /** `env` plus the EnforceRole credentials and GUARD_ROLE_ARN of a stack deployed with those settings. */
  asDeployed(env: Record<string, string>): Record<string, string>;
  /** This test provokes refusals on purpose: skip the after-test check that every role request was allowed. */
  expectDenials(): void;
  /** The emulator's CloudTrail events that the template's rules deliver to the queue (as EventBridge would). */
  onDelivered(listener: (event: unknown) => void): () => void;
  /**
   * A new sweep container: a fresh import of dist/sweep.mjs configured by `env` (on top of `world.env`), running
   * with the credentials of the SweepRole a stack deployed with those settings has (`deployRole`; `mutate` edits
   * its policies first). Throws, as the Lambda runtime would fail the run, when the role cannot write the
   * function's logs (local/roles.ts `sweepServiceCheck`).
   */
  sweepContainer(
    env?: Record<string, string>,
    options?: { mutate?: (principal: IamPrincipal) => void },
  ): Promise<Handler>;
}

/** Starts an emulator (stopped after the test), captures the containers' output and prepares their environment. */
export async function startWorld(options: EmulatorOptions = {}, region = REGION): Promise<World> {
  // IAM as AWS enforces it (local/emulator/iam.ts): the test's own clients are the admin, each bundle its role.
  const emulator = await startEmulator({
    port: 0,
    iam: { principals: {}, admins: [credentials.accessKeyId] },
    ...options,
  });
  const output = captureOutput();
  cleanups.push(
    () => emulator.stop(),
    () => output.restore(),
  );
  // Roles other teams' key statements name in the tests: KMS refuses a policy naming a role that does not exist.
  for (const role of ['audit', 'Admins']) {
    emulator.iam.setPrincipal(`existing-${role}`, {
      arn: `arn:aws:iam::${emulator.account}:role/${role}`,
      policies: [],
    });
  }
  const audit = { emulator, allowDenials: false };
  audited.push(audit);
  const timeScale = options.timeScale ?? 1;
  const sdk = { region, endpoint: emulator.endpoint, credentials, maxAttempts: 10 };
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    // The account's 5 TPS AssociateKmsKey quota on the emulator's clock; each test that runs several
    // containers at once divides it between them.
    ASSOCIATE_RATE: String(5 * timeScale),
  };
  const asDeployed = (vars: Record<string, string>) => {
    const merged = { ...env, ...vars };
    return { ...merged, ...deployRole(emulator, { role: 'EnforceRole', region, env: merged }) };
  };
  return {
    emulator,
    region,
    account: emulator.account,
    kms: new KMSClient(sdk),
    logs: new CloudWatchLogsClient(sdk),
    env,
    output,
    asDeployed,
    expectDenials: () => {
      audit.allowDenials = true;
    },
    onDelivered: (listener) => {
      const delivered = guardRuleFilter();
      return emulator.onEvent((event) => delivered(event) && listener(event));
    },
    container: (extra = {}) => loadContainer(asDeployed(extra)),
    sweepContainer: async (extra = {}, sweepOptions = {}) => {
      const merged = { ...env, ...extra };
      const role = deployRole(emulator, {
        role: 'SweepRole',
        region,
        env: merged,
        ...(sweepOptions.mutate ? { mutate: sweepOptions.mutate } : {}),
      });
      const denied = await sweepServiceCheck(role.AWS_ACCESS_KEY_ID);
      if (denied) throw new Error(`the Lambda runtime cannot write the sweep function's logs: ${denied}`);
      return loadSweepContainer({ ...merged, ...role });
    },
  };
}

/** Imports a fresh copy of the sweep bundle with this environment (its config and settings are read at load). */
export async function loadSweepContainer(env: Record<string, string>): Promise<Handler> {
  if (!existsSync(SWEEP_BUNDLE)) throw new Error(`${SWEEP_BUNDLE} is missing: run \`npm run build\``);
  clearGuardVariables();
  for (const name of SWEEP_VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  const mod = (await import(`${pathToFileURL(SWEEP_BUNDLE).href}?c=${++containers}`)) as { handler: Handler };
  return mod.handler;
}

/**
 * A Lambda context for the sweep function `functionName` of `world`'s account and region whose remaining time
 * starts at `timeoutMs` (the bundle reads it once, when an invocation starts).
 */
export function sweepContext(
  world: Pick<World, 'region' | 'account'>,
  timeoutMs = 900_000,
  functionName = 'logs-kms-guard-prod-sweep',
) {
  const started = Date.now();
  return {
    invokedFunctionArn: `arn:aws:lambda:${world.region}:${world.account}:function:${functionName}`,
    functionName,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  };
}

/**
 * The local queue (LocalPipeline: SQS-like queue, Lambda-like containers each importing the bundle, a DLQ)
 * for `world`, stopped after the test; `started` once its containers are loaded.
 */
export async function startPipeline(
  world: World,
  options: Omit<PipelineOptions, 'region' | 'account' | 'bundle'> = {},
): Promise<LocalPipeline> {
  clearGuardVariables();
  const pipeline = new LocalPipeline({
    region: world.region,
    account: world.account,
    bundle: BUNDLE,
    ...options,
    env: world.asDeployed({ ...options.env }),
  });
  cleanups.push(() => pipeline.stop());
  await pipeline.start();
  return pipeline;
}

function clearGuardVariables(): void {
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  for (const name of GUARD_VARIABLES) delete process.env[name];
}

/** Imports a fresh copy of the bundle with this environment (config is read when the module loads). */
export async function loadContainer(env: Record<string, string>): Promise<Handler> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\``);
  clearGuardVariables();
  Object.assign(process.env, env);
  const mod = (await import(`${pathToFileURL(BUNDLE).href}?c=${++containers}`)) as { handler: Handler };
  return mod.handler;
}

/** A Lambda context for the function of `world`'s account and region. */
export function lambdaContext(world: Pick<World, 'region' | 'account'>, timeoutMs = 60_000) {
  const started = Date.now();
  return {
    invokedFunctionArn: `arn:aws:lambda:${world.region}:${world.account}:function:logs-kms-guard-prod-enforce`,
    functionName: 'logs-kms-guard-prod-enforce',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  };
}

/**
 * A CloudTrail CreateLogGroup event as EventBridge delivers it, cloned from the captured Lambda event
 * (or `file`), for `name` in `world`'s account and region, with fresh ids.
 */
export function createEvent(
  world: Pick<World, 'region' | 'account'>,
  name: string,
  params: { kmsKeyId?: string; tags?: Record<string, string> } = {},
  file = 'create-log-group-lambda.json',
): Record<string, any> {
  const event = loadEvent(file);
  event.id = randomUUID();
  event.region = world.region;
  event.account = world.account;
  event.detail.awsRegion = world.region;
  event.detail.recipientAccountId = world.account;
  event.detail.eventID = randomUUID();
  event.detail.requestParameters = { logGroupName: name, ...params };
  return event;
}

/** An SQS batch (the event source mapping's shape) carrying these EventBridge events as message bodies. */
export function sqsBatch(world: Pick<World, 'region' | 'account'>, events: unknown[]) {
  const where = { region: world.region, account: world.account, queueName: 'logs-kms-guard-events' };
  return {
    Records: events.map((event) => {
      const id = randomUUID();
      return sqsRecord({ messageId: id, body: JSON.stringify(event) }, where);
    }),
  };
}

/** Invokes a container with one SQS batch; returns the indexes of the records it reported as failed. */
export async function invokeBatch(
  world: Pick<World, 'region' | 'account'>,
  handler: Handler,
  events: unknown[],
  timeoutMs = 60_000,
): Promise<number[]> {
  const batch = sqsBatch(world, events);
  const response = await handler(batch, lambdaContext(world, timeoutMs));
  const failed = new Set(
    ((response?.batchItemFailures ?? []) as { itemIdentifier: string }[]).map((f) => f.itemIdentifier),
  );
  return batch.Records.flatMap((r, i) => (failed.has(r.messageId) ? [i] : []));
}

/** The calls made since `mark` (a length of `emulator.calls` taken earlier). */
export const callsSince = (emulator: Emulator, mark: number): ApiCall[] => emulator.calls.slice(mark);

/** Calls of one operation (optionally of one service), in order. */
export function callsOf(emulator: Emulator, operation: string, service?: ApiCall['service']): ApiCall[] {
  return emulator.calls.filter((c) => c.operation === operation && (!service || c.service === service));
}

/** Calls of one operation that succeeded. */
export const succeeded = (emulator: Emulator, operation: string, service?: ApiCall['service']) =>
  callsOf(emulator, operation, service).filter((c) => !c.error);

/** The keys the guard created (tagged ManagedBy=logs-kms-guard), oldest first. */
/** Keys the guard created (its policy Id; the ManagedBy tag is set only on the alias winner, after creation). */
export function guardKeys(world: Pick<World, 'emulator' | 'region'>) {
  return world.emulator.state
    .keys(world.region)
    .filter((k) => k.tags.ManagedBy === 'logs-kms-guard' || JSON.parse(k.policy).Id === 'logs-kms-guard');
}

/** A key policy document. */
export const policyOf = (...statements: unknown[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

export const rootStatement = (account: string) => ({
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${account}:root` },
  Action: 'kms:*',
  Resource: '*',
});

/** The statement a user adds so that CloudWatch Logs of `region` may use the key for the account's groups. */
export const logsStatement = (region: string, account: string) => ({
  Sid: 'AllowCloudWatchLogs',
  Effect: 'Allow',
  Principal: { Service: `logs.${region}.amazonaws.com` },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: {
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${account}:log-group:*` },
  },
});

export const GUARD_TAGS = { ManagedBy: 'logs-kms-guard' };

/**
 * The statements a guard key's policy gives the enforce role of `world`'s stack (what the guard writes at
 * CreateKey): without them the function has no authority over the key, by design.
 */
export function guardStatements(world: World): Record<string, unknown>[] {
  const role = world.asDeployed({}).GUARD_ROLE_ARN as string;
  return guardRoleStatements({
    partition: 'aws',
    region: world.region,
    account: world.account,
    guardRoles: [role],
  });
}

/**
 * The guard's key as an earlier event left it: behind the alias (set through KMS), tagged, its policy
 * admitting Logs of the region; `policy` replaces that policy.
 */
export async function existingGuardKey(world: World, policy?: string) {
  const key = world.emulator.state.createKeyDirect(world.region, {
    policy:
      policy ??
      policyOf(
        rootStatement(world.account),
        logsStatement(world.region, world.account),
        ...guardStatements(world),
      ),
    tags: GUARD_TAGS,
    rotation: true,
  });
  await world.kms.send(new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: key.keyId }));
  return key;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true (false when `timeoutMs` passes). */
export async function until(check: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
  return true;
}
