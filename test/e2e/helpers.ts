/**
 * End-to-end helpers: the local world (local/world.ts) with IAM on, the containers' output captured, and after
 * each test the check that every request a deployed role made was allowed; plus the events, batches and call
 * queries the e2e tests share.
 *
 * The handler under test is the deployable bundle dist/enforce.mjs, not functions/enforce.ts: it is the
 * exact file that is deployed (esbuild output with its own copy of the AWS SDK, middy and Powertools), so
 * a bundling mistake cannot hide behind a passing test. Each container is a fresh import of it
 * (local/world.ts `loadContainer`): its own module scope, so its own config, key cache, SDK clients and
 * AssociateKmsKey pacer, as separate Lambda containers have; the first-event race depends on that. `npm test`
 * builds dist/ before vitest runs; test/e2e/global-setup.ts builds it when it is missing.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect } from 'vitest';
import { guardRoleStatements } from '../../functions/core/policy.ts';
import type { ApiCall, Emulator } from '../../local/emulator/emulator.ts';
import { createLogGroupEvent } from '../../local/emulator/events.ts';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import {
  ENFORCE_BUNDLE,
  ENFORCE_FUNCTION,
  lambdaContext as localLambdaContext,
  SWEEP_BUNDLE,
  SWEEP_FUNCTION,
} from '../../local/functions.ts';
import type { LocalPipeline, PipelineOptions } from '../../local/pipeline.ts';
import { sqsRecord } from '../../local/sqs-record.ts';
import {
  associateRate,
  clearFunctionEnv,
  credentials,
  GUARD_TAGS,
  type World as LocalWorld,
  REGION,
  startWorld as startLocalWorld,
  type WorldOptions,
} from '../../local/world.ts';
import { captureOutput, loadEvent, logsStatement, policyOf, rootStatement } from '../helpers.ts';

/** E2E_BUNDLE points the tests at another build (e.g. a deliberately broken one, to see them fail). */
const BUNDLE = process.env.E2E_BUNDLE ?? ENFORCE_BUNDLE;
/** E2E_SWEEP_BUNDLE: another build of the sweep function. */
const SWEEP = process.env.E2E_SWEEP_BUNDLE ?? SWEEP_BUNDLE;

/** A container's handler; the tests read what it answers freely. */
export type Handler = (event: unknown, context: unknown) => Promise<any>;

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

/**
 * The local world of an e2e test: IAM on (the test's own clients are the admin, with SDK retries so set-up
 * never flakes on a throttle; each bundle runs as its role), stopped after the test.
 */
export interface World extends Omit<LocalWorld, 'container' | 'sweepContainer'> {
  output: ReturnType<typeof captureOutput>;
  container(env?: Record<string, string>): Promise<Handler>;
  sweepContainer(
    env?: Record<string, string>,
    options?: { mutate?: (principal: IamPrincipal) => void },
  ): Promise<Handler>;
  /** This test provokes refusals on purpose: skip the after-test check that every role request was allowed. */
  expectDenials(): void;
}

/**
 * Starts a world (stopped after the test) whose emulator has `options` (`iam`: more IAM settings), captures
 * the containers' output and prepares their environment.
 */
export async function startWorld(
  options: NonNullable<WorldOptions['emulator']> & { iam?: Exclude<WorldOptions['iam'], boolean> } = {},
  region = REGION,
): Promise<World> {
  const { iam, ...emulator } = options;
  const world = await startLocalWorld({
    emulator,
    region,
    iam: iam ?? true,
    sdk: { maxAttempts: 10 },
    env: {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // The account's AssociateKmsKey quota on the emulator's clock; each test that runs several containers
      // at once divides it between them.
      ASSOCIATE_RATE: associateRate(options.timeScale ?? 1),
    },
    bundles: { enforce: BUNDLE, sweep: SWEEP },
  });
  const output = captureOutput();
  cleanups.push(
    () => world.stop(),
    () => output.restore(),
  );
  // Roles other teams' key statements name in the tests: KMS refuses a policy naming a role that does not exist.
  for (const role of ['audit', 'Admins']) {
    world.emulator.iam.setPrincipal(`existing-${role}`, {
      arn: `arn:aws:iam::${world.account}:role/${role}`,
      policies: [],
    });
  }
  const audit = { emulator: world.emulator, allowDenials: false };
  audited.push(audit);
  return {
    ...world,
    output,
    container: world.container as World['container'],
    sweepContainer: world.sweepContainer as World['sweepContainer'],
    expectDenials: () => {
      audit.allowDenials = true;
    },
  };
}

/**
 * A Lambda context for the sweep function `functionName` of `world`'s account and region whose remaining time
 * starts at `timeoutMs` (the bundle reads it once, when an invocation starts).
 */
export function sweepContext(
  world: Pick<World, 'region' | 'account'>,
  timeoutMs = 900_000,
  functionName = SWEEP_FUNCTION,
) {
  return localLambdaContext(world, functionName, timeoutMs);
}

/**
 * The local queue (LocalPipeline: SQS-like queue, Lambda-like containers each importing the bundle, a DLQ)
 * for `world`, stopped after the test; `started` once its containers are loaded.
 */
export async function startPipeline(
  world: World,
  options: Omit<PipelineOptions, 'region' | 'account' | 'bundle'> = {},
): Promise<LocalPipeline> {
  clearFunctionEnv();
  const pipeline = world.pipeline(options);
  cleanups.push(() => pipeline.stop());
  await pipeline.start();
  return pipeline;
}

/** A Lambda context for the enforce function of `world`'s account and region. */
export function lambdaContext(world: Pick<World, 'region' | 'account'>, timeoutMs = 60_000) {
  return localLambdaContext(world, ENFORCE_FUNCTION, timeoutMs);
}

/**
 * A CloudTrail CreateLogGroup event as EventBridge delivers it, for `name` in `world`'s account and region, made
 * now by the caller of the captured Lambda event (or `file`), with fresh ids.
 */
export function createEvent(
  world: Pick<World, 'region' | 'account'>,
  name: string,
  params: { kmsKeyId?: string; tags?: Record<string, string> } = {},
  file = 'create-log-group-lambda.json',
): Record<string, any> {
  const { detail } = loadEvent(file);
  return createLogGroupEvent(
    world,
    { logGroupName: name, ...params },
    { userIdentity: detail.userIdentity, userAgent: detail.userAgent, sourceIp: detail.sourceIPAddress },
  );
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

/** Keys the guard created (its policy Id; the ManagedBy tag is set only on the alias winner, after creation). */
export function guardKeys(world: Pick<World, 'emulator' | 'region'>) {
  return world.emulator.state
    .keys(world.region)
    .filter((k) => k.tags.ManagedBy === 'logs-kms-guard' || JSON.parse(k.policy).Id === 'logs-kms-guard');
}

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
  return world.createGuardKey({
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
}
