/**
 * A local world, the one way the tests and the benchmark start one: the emulator (local/emulator), real AWS
 * SDK clients pointed at it and signed as the world's admin, the environment a handler needs to reach it, the
 * guard's key behind its alias, the function roles as a stack deploys them (local/roles.ts) and, on request,
 * Lambda containers of the built bundles or the local pipeline (queue, enforce containers, DLQ) that runs them.
 * Every caller used to assemble these itself, each a little differently; the differences are options here.
 *
 * Development and test tool: never bundled, and free of any test framework (the benchmark imports it too).
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateAliasCommand, KMSClient } from '@aws-sdk/client-kms';
import { keyCheckItem } from '../functions/core/change-event.ts';
import type { Clients } from '../functions/core/clients.ts';
import { DEFAULT_KEY_ALIAS } from '../functions/core/config.ts';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE } from '../functions/core/key.ts';
import type { Emulator, EmulatorOptions } from './emulator/emulator.ts';
import type { IamOptions, IamPrincipal } from './emulator/iam.ts';
import { LOGS_TPS } from './emulator/quota.ts';
import { startEmulator } from './emulator/server.ts';
import type { CreateKeyDirectInput, KeyInfo } from './emulator/state.ts';
import {
  CHANGES_BUNDLE,
  CHANGES_FUNCTION,
  ENFORCE_BUNDLE,
  lambdaContext,
  SWEEP_BUNDLE,
} from './functions.ts';
import { LocalPipeline, type PipelineOptions } from './pipeline.ts';
import { deployRole, guardRuleFilter, sweepServiceCheck } from './roles.ts';
import { stackHandler } from './stack.ts';

/** The emulator's default account. */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
/** The alias the guard finds its own key by (the default of KMS_KEY_ALIAS). */
export const GUARD_ALIAS = DEFAULT_KEY_ALIAS;
/** The tag the guard puts on its own key. */
export const GUARD_TAGS: Record<string, string> = { [MANAGED_BY_TAG]: MANAGED_BY_VALUE };
/**
 * The world's own caller: set-up and checks. With IAM on it is the emulator's admin (every check skipped);
 * the bundles then sign as their deployed roles instead.
 */
export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Every variable the enforce function reads; cleared before each container loads so no run leaks into the next. */
export const ENFORCE_VARIABLES = [
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
  'MESSAGE_KEY_QUEUES',
  'MESSAGE_KEY_RULES',
  'MESSAGE_KEY_ALARMS',
] as const;

/** The sweep function's own variables (functions/sweep.ts loadSweepSettings), cleared before a sweep container loads. */
export const SWEEP_VARIABLES = [
  'ENFORCE_QUEUE_URL',
  'SWEEP_DESCRIBE_RATE',
  'SWEEP_TAGS_RATE',
  'SWEEP_ASSOCIATE_RATE',
  'SWEEP_CONCURRENCY',
  'SWEEP_PREFIX',
  'SWEEP_MAX_INVOCATIONS',
] as const;

/** A bundle's exported handler, as the Lambda runtime calls it. */
export type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** A function role of the packaged template. */
export type FunctionRole = 'EnforceRole' | 'SweepRole' | 'FindingsRole';

export interface WorldOptions {
  /** The emulator's settings (IAM is `iam` below); port 0 (a free one) unless given. */
  emulator?: Omit<EmulatorOptions, 'iam'>;
  /** The world's region: its clients', its handlers' and its pipelines' unless told otherwise. Default us-east-1. */
  region?: string;
  /**
   * IAM as AWS enforces it (local/emulator/iam.ts): the world's credentials are an admin, each bundle signs as
   * its deployed role. `true`, or IAM options (more principals, admins, authorizationLagMs). Default off: every
   * caller is the account root.
   */
  iam?: boolean | Partial<IamOptions>;
  /** SDK settings of the world's own clients (e.g. { maxAttempts: 10 }); default the SDK's. */
  sdk?: object;
  /** Variables every handler of this world starts from, on top of the endpoint, region and credentials. */
  env?: Record<string, string>;
  /** The bundles its containers import (default ENFORCE_BUNDLE, CHANGES_BUNDLE and SWEEP_BUNDLE). */
  bundles?: { enforce?: string; changes?: string; sweep?: string };
}

export interface World {
  emulator: Emulator;
  region: string;
  account: string;
  /** The world's own clients in its region, signed as its admin: set-up and checks. */
  kms: KMSClient;
  logs: CloudWatchLogsClient;
  /** The environment every handler of this world starts from: endpoint, region, admin credentials, `env`. */
  env: Record<string, string>;
  /** More clients on the emulator: another region, other SDK settings (`credentials`: a role's, say). */
  clients(region?: string, settings?: object): Clients;
  /**
   * `env` (on top of the world's) plus the credentials of `role` (default EnforceRole; GUARD_ROLE_ARN with it)
   * as a stack deployed in `region` with those settings has it (local/roles.ts `deployRole`; `mutate` edits
   * its policies first).
   */
  asDeployed(
    env?: Record<string, string>,
    options?: { region?: string; role?: FunctionRole; mutate?: (principal: IamPrincipal) => void },
  ): Record<string, string>;
  /**
   * The guard key as a deployment leaves it: the changes function (a container of CHANGES_BUNDLE configured by
   * `env`, as the EnforceRole) answers a guard key check, which creates the key when it is missing; its ARN.
   * The deployed stack does this at deployment (GuardKeyReady) and every 15 minutes (KeyCheckScheduleRule); the
   * enforce function creates no key.
   */
  deployKey(env?: Record<string, string>, region?: string): Promise<string>;
  /** A key made directly in the emulator (`key`: its policy, tags, rotation) and put behind GUARD_ALIAS through KMS. */
  createGuardKey(key: CreateKeyDirectInput, region?: string): Promise<KeyInfo>;
  /** The emulator's CloudTrail events that the template's rules deliver to the queue (as EventBridge would). */
  onDelivered(listener: (event: unknown) => void): () => void;
  /**
   * A new container of the stack's event functions: fresh imports of the enforce and changes bundles configured
   * by `env` (on top of the world's), running with the credentials of the EnforceRole a stack deployed with those
   * settings has; each event goes to the function the template routes it to (local/stack.ts).
   */
  container(env?: Record<string, string>): Promise<LambdaHandler>;
  /**
   * A new sweep container, the same way with the SweepRole. Throws, as the Lambda runtime would fail the run,
   * when the role cannot write the function's logs (local/roles.ts `sweepServiceCheck`).
   */
  sweepContainer(
    env?: Record<string, string>,
    options?: { mutate?: (principal: IamPrincipal) => void },
  ): Promise<LambdaHandler>;
  /**
   * A local pipeline (not started) for the world's account in `region` (default the world's): its enforce
   * containers run with `env` (on top of the world's) as the EnforceRole of a stack deployed with it (`mutate`:
   * as for `asDeployed`).
   */
  pipeline(
    options?: Omit<PipelineOptions, 'region' | 'account'> & {
      region?: string;
      mutate?: (principal: IamPrincipal) => void;
    },
  ): LocalPipeline;
  stop(): Promise<void>;
}

/** Starts an emulator on a free port and answers its world. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const emulator = await startEmulator({ port: 0, ...options.emulator, ...iamOf(options.iam) });
  return worldOf(emulator, options);
}

/** The emulator's IAM settings: the world's credentials always among the admins. */
function iamOf(iam: WorldOptions['iam']): Pick<EmulatorOptions, 'iam'> {
  if (!iam) return {};
  const given = iam === true ? {} : iam;
  return {
    iam: { principals: {}, ...given, admins: [credentials.accessKeyId, ...(given.admins ?? [])] },
  };
}

/** The world around an emulator that is already running (the benchmark starts its own, one per run). */
export function worldOf(emulator: Emulator, options: Omit<WorldOptions, 'emulator' | 'iam'> = {}): World {
  const region = options.region ?? REGION;
  const env = { ...handlerEnv(emulator, region), ...options.env };
  const own = sdkClients(emulator, region, options.sdk);
  const bundles = {
    enforce: ENFORCE_BUNDLE,
    changes: CHANGES_BUNDLE,
    sweep: SWEEP_BUNDLE,
    ...options.bundles,
  };
  const asDeployed: World['asDeployed'] = (vars = {}, deploy = {}) => {
    const { region: where = region, role = 'EnforceRole', mutate } = deploy;
    const merged = { ...env, AWS_REGION: where, ...vars };
    return {
      ...merged,
      ...deployRole(emulator, { role, region: where, env: merged, ...(mutate ? { mutate } : {}) }),
    };
  };
  return {
    emulator,
    region,
    account: emulator.account,
    ...own,
    env,
    clients: (where = region, settings = {}) => sdkClients(emulator, where, settings),
    asDeployed,
    createGuardKey: async (key, where = region) => {
      const created = emulator.state.createKeyDirect(where, key);
      const kms = where === region ? own.kms : sdkClients(emulator, where, options.sdk).kms;
      await kms.send(new CreateAliasCommand({ AliasName: GUARD_ALIAS, TargetKeyId: created.keyId }));
      return created;
    },
    onDelivered: (listener) => {
      const delivered = guardRuleFilter();
      return emulator.onEvent((event) => delivered(event) && listener(event));
    },
    container: (vars = {}) => loadStack(bundles, asDeployed(vars)),
    deployKey: async (vars = {}, where = region) => {
      const changes = await loadContainer(bundles.changes, asDeployed(vars, { region: where }));
      const check = keyCheckItem({ region: where, account: emulator.account, id: `deploy-${++deploys}` });
      const out = (await changes(
        check,
        lambdaContext({ region: where, account: emulator.account }, CHANGES_FUNCTION, 60_000),
      )) as {
        keyArn?: string;
        outcome?: string;
        reason?: string;
      };
      if (!out?.keyArn) throw new Error(`the guard key check made no key: ${JSON.stringify(out)}`);
      return out.keyArn;
    },
    sweepContainer: async (vars = {}, sweep = {}) => {
      const deployed = asDeployed(vars, { role: 'SweepRole', ...sweep });
      const denied = await sweepServiceCheck(deployed.AWS_ACCESS_KEY_ID);
      if (denied) throw new Error(`the Lambda runtime cannot write the sweep function's logs: ${denied}`);
      return loadContainer(bundles.sweep, deployed, [...ENFORCE_VARIABLES, ...SWEEP_VARIABLES]);
    },
    pipeline: ({ region: where = region, mutate, env: vars, ...pipeline } = {}) =>
      new LocalPipeline({
        account: emulator.account,
        bundles,
        ...pipeline,
        region: where,
        env: asDeployed(vars, { region: where, ...(mutate ? { mutate } : {}) }),
      }),
    stop: () => emulator.stop(),
  };
}

/** SDK clients on the emulator in `region`, signed as the world's admin unless `settings` brings other credentials. */
export function sdkClients(
  emulator: Pick<Emulator, 'endpoint'>,
  region = REGION,
  settings: object = {},
): Clients {
  const config = { region, endpoint: emulator.endpoint, credentials, ...settings };
  return { kms: new KMSClient(config), logs: new CloudWatchLogsClient(config) };
}

/** What a handler (in process or a child process) needs to reach the emulator in `region` as the world's admin. */
export function handlerEnv(emulator: Pick<Emulator, 'endpoint'>, region = REGION): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
}

/**
 * ASSOCIATE_RATE for `containers` enforce containers sharing the account's AssociateKmsKey quota on the clock of
 * an emulator running `timeScale` times faster.
 */
export function associateRate(timeScale: number, containers = 1): string {
  return String(((LOGS_TPS.AssociateKmsKey as number) * timeScale) / containers);
}

/**
 * Clears what earlier containers left in process.env that the next bundle would read at load: a profile or
 * session token, and the functions' own `variables`.
 */
export function clearFunctionEnv(variables: readonly string[] = ENFORCE_VARIABLES): void {
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  for (const name of variables) delete process.env[name];
}

let containers = 0;
let deploys = 0;

/**
 * A new Lambda container: a fresh import of `bundle` (`?c=N`, as local/pipeline.ts does), so its own module
 * scope: its own config (read at load, which is why `env` is set before the import), key cache, SDK clients
 * and pacer, as separate Lambda containers have. `clear` names the variables removed first.
 */
export async function loadContainer(
  bundle: string,
  env: Record<string, string>,
  clear: readonly string[] = ENFORCE_VARIABLES,
): Promise<LambdaHandler> {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\``);
  clearFunctionEnv(clear);
  Object.assign(process.env, env);
  const mod = (await import(`${pathToFileURL(bundle).href}?c=${++containers}`)) as { handler: LambdaHandler };
  return mod.handler;
}

/**
 * A new container of each of the stack's event functions (enforce, changes), as one handler that routes each
 * event as the template does (local/stack.ts).
 */
export async function loadStack(
  bundles: { enforce: string; changes: string },
  env: Record<string, string>,
): Promise<LambdaHandler> {
  const enforce = await loadContainer(bundles.enforce, env);
  const changes = await loadContainer(bundles.changes, env);
  return stackHandler({ enforce, changes });
}

/**
 * Retries OperationAbortedException, a 400 the SDK does not retry (the emulator injects it, as CloudWatch Logs
 * answers conflicting updates): a workload retries it, and so does a world's set-up.
 */
export async function retryAborted<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name !== 'OperationAbortedException' || i >= attempts) throw err;
      await sleep(10 * i);
    }
  }
}
