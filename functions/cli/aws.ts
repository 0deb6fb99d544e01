/**
 * The CLI's side of AWS: the SDK clients of a region (built lazily; each failure notes the action and resource
 * that failed), the regions of a partition, the caller's account, and one clear line for an AWS failure.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseArn, partitionOf } from '../core/arn.ts';
import type { Clients } from '../core/clients.ts';
import { assertKeyInAccount, type GuardConfig } from '../core/config.ts';

/** The clients the CLI may need in one region: KMS and CloudWatch Logs, and the rest built on first use. */
export interface CliClients extends Clients {
  sts(): STSClient;
  cloudtrail(): CloudTrailClient;
  eventbridge(): EventBridgeClient;
  sqs(): SQSClient;
  lambda(): LambdaClient;
  organizations(): OrganizationsClient;
}

/** Static credentials, or a provider the SDK calls (and re-calls before `expiration`). */
export type CredentialsSource =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | (() => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
    }>);

/** The clients of a region, for the credentials the factory was made with. */
export interface ClientFactory {
  (region: string): CliClients;
  /** The same kind of clients signed with other credentials (an assumed role in another account). */
  withCredentials?(credentials: CredentialsSource): ClientFactory;
}

/** How `defaultClientFactory` signs and where it sends: a profile, an endpoint, or given credentials. */
export interface ClientFactoryOptions {
  profile?: string;
  /** An endpoint for every service (the local emulator); otherwise AWS_ENDPOINT_URL is honoured by the SDK. */
  endpoint?: string;
  credentials?: CredentialsSource;
  /** The run's Ctrl-C: aborts the read-only calls in flight (never a change, which finishes as it would). */
  signal?: AbortSignal;
}

const SETTINGS = {
  retryMode: 'standard',
  maxAttempts: 4,
  // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes and a hung call never ends.
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000, throwOnRequestTimeout: true },
} as const;

// biome-ignore lint/suspicious/noExplicitAny: each client's middleware stack is typed for its own commands; this one works on any.
type AnyClient = { middlewareStack: { add: (...args: any[]) => void } };
// biome-ignore lint/suspicious/noExplicitAny: a client's send, whatever its commands.
type Send = (...args: any[]) => Promise<unknown>;
/** Where the SDK keeps a call's own context (its abort signal among it): @smithy/types SMITHY_CONTEXT_KEY. */
const SMITHY_CONTEXT = '__smithy_context';
type Next = (args: { input?: Record<string, unknown> }) => Promise<unknown>;

/** An AWS call in flight: its action, its region and since when (Date.now()), for "waiting for AWS" lines. */
export interface PendingCall {
  operation: string;
  region: string;
  since: number;
}

const pending = new Set<PendingCall>();

/** The oldest AWS call still in flight, if any (progress.ts says what the run waits on when nothing moves). */
export function oldestPendingCall(): PendingCall | undefined {
  let oldest: PendingCall | undefined;
  for (const call of pending) if (!oldest || call.since < oldest.since) oldest = call;
  return oldest;
}

/**
 * Notes on every error which action on which resource failed (and at which endpoint), for one-line messages;
 * and keeps each call in flight in `pending` while it runs.
 */
function annotate<T extends AnyClient>(client: T, prefix: string, region: string): T {
  client.middlewareStack.add(
    (next: Next, context: { commandName?: string; endpointV2?: { url?: URL } }) =>
      async (args: { input?: Record<string, unknown> }) => {
        const call = {
          operation: (context.commandName ?? 'unknown').replace(/Command$/, ''),
          region,
          since: Date.now(),
        };
        pending.add(call);
        try {
          return await next(args);
        } catch (err) {
          if (err && typeof err === 'object' && !('$action' in err)) {
            const endpoint = context.endpointV2?.url?.href;
            Object.assign(err, {
              $action: `${prefix}:${(context.commandName ?? 'unknown').replace(/Command$/, '')}`,
              $resource: resourceOf(args?.input),
              ...(endpoint ? { $endpoint: endpoint } : {}),
            });
          }
          throw err;
        } finally {
          pending.delete(call);
        }
      },
    { step: 'initialize', name: 'logsKmsGuardErrorContext' },
  );
  return client;
}

/** Read-only AWS actions: safe to abort mid-flight (nothing is half-changed). */
export function isReadOnlyAction(commandName: string): boolean {
  return /^(Describe|List|Get|AssumeRole)/.test(commandName.replace(/Command$/, ''));
}

// Each call's own controller, found again from the signal `send` was given (the middleware sees only the signal).
const callControllers = new WeakMap<AbortSignal, AbortController>();

/**
 * Lets `signal` abort this client's read-only calls in flight: every call is sent with its own abort signal,
 * which a middleware (the only place the command's name is known, even minified) links to `signal` for reads.
 */
function abortReads<T extends AnyClient & { send: Send }>(client: T, signal: AbortSignal | undefined): T {
  if (!signal) return client;
  const send = client.send.bind(client);
  // biome-ignore lint/suspicious/noExplicitAny: send's overloads differ per client; this wraps any of them.
  client.send = ((command: any, options?: any, cb?: any) => {
    if (typeof options === 'function' || cb || options?.abortSignal) return send(command, options, cb);
    const own = new AbortController();
    callControllers.set(own.signal, own);
    return send(command, { ...options, abortSignal: own.signal });
  }) as T['send'];
  client.middlewareStack.add(
    (next: Next, context: { commandName?: string; [key: string]: unknown }) =>
      async (args: { input?: Record<string, unknown> }) => {
        const smithy = context[SMITHY_CONTEXT] as { abortSignal?: AbortSignal } | undefined;
        const own = smithy?.abortSignal ? callControllers.get(smithy.abortSignal) : undefined;
        if (!own || !isReadOnlyAction(context.commandName ?? '')) return next(args);
        const stop = () => own.abort(signal.reason);
        if (signal.aborted) stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          return await next(args);
        } finally {
          signal.removeEventListener('abort', stop);
        }
      },
    { step: 'initialize', name: 'logsKmsGuardAbortReads' },
  );
  return client;
}

/** The resource a call was about, from the first input field that names one (for one-line messages). */
function resourceOf(input: Record<string, unknown> | undefined): string | undefined {
  if (!input) return undefined;
  for (const key of [
    'logGroupName',
    'resourceArn',
    'KeyId',
    'QueueUrl',
    'QueueName',
    'Name',
    'Rule',
    'FunctionName',
  ]) {
    const v = input[key];
    if (typeof v === 'string') return v;
  }
  const trails = input.trailNameList ?? input.TrailName;
  if (typeof trails === 'string') return trails;
  return undefined;
}

/** Real SDK clients: default credential chain (or a profile), the region given, AWS_ENDPOINT_URL honoured. */
export function defaultClientFactory(options: ClientFactoryOptions = {}): ClientFactory {
  const cache = new Map<string, CliClients>();
  const factory: ClientFactory = (region) => {
    let clients = cache.get(region);
    if (clients) return clients;
    const base = {
      region,
      ...SETTINGS,
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
    const wrap = <T extends AnyClient & { send: Send }>(client: T, prefix: string) =>
      abortReads(annotate(client, prefix, region), options.signal);
    const lazy = <T extends AnyClient & { send: Send }>(make: () => T, prefix: string) => {
      let c: T | undefined;
      return () => {
        c ??= wrap(make(), prefix);
        return c;
      };
    };
    clients = {
      kms: wrap(new KMSClient(base), 'kms'),
      logs: wrap(new CloudWatchLogsClient(base), 'logs'),
      sts: lazy(() => new STSClient(base), 'sts'),
      cloudtrail: lazy(() => new CloudTrailClient(base), 'cloudtrail'),
      eventbridge: lazy(() => new EventBridgeClient(base), 'events'),
      sqs: lazy(() => new SQSClient(base), 'sqs'),
      lambda: lazy(() => new LambdaClient(base), 'lambda'),
      organizations: lazy(() => new OrganizationsClient(base), 'organizations'),
    };
    cache.set(region, clients);
    return clients;
  };
  // A profile names a credential source: the assumed role's credentials replace it, the endpoint stays.
  factory.withCredentials = (credentials) => {
    const { profile: _profile, ...rest } = options;
    return defaultClientFactory({ ...rest, credentials });
  };
  return factory;
}

/** Commercial regions (partition `aws`) where CloudWatch Logs and KMS exist; opt-in ones that are not enabled are skipped at run time. */
export const COMMERCIAL_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'mx-central-1',
  'sa-east-1',
];
const OTHER_PARTITIONS: Record<string, string[]> = {
  'aws-cn': ['cn-north-1', 'cn-northwest-1'],
  'aws-us-gov': ['us-gov-west-1', 'us-gov-east-1'],
};

/** Every region the CLI knows, of every partition: what `--region` and `--regions` are checked against. */
export const KNOWN_REGIONS: readonly string[] = [
  ...COMMERCIAL_REGIONS,
  ...Object.values(OTHER_PARTITIONS).flat(),
];

/** Every region of the partition `region` is in (commercial by default). */
export function allRegions(region: string | undefined): string[] {
  const partition = region ? partitionOf(region) : 'aws';
  return OTHER_PARTITIONS[partition] ?? COMMERCIAL_REGIONS;
}

/** The caller's account; refuses a KMS_KEY_ARN of another account (see assertKeyInAccount). */
export async function resolveAccount(clients: CliClients, config: GuardConfig): Promise<string> {
  const account = await callerAccount(clients, config);
  assertKeyInAccount(config, account);
  return account;
}

/** The account the credentials belong to: STS, else the ARN of a log group or of the guard key. */
async function callerAccount(clients: CliClients, config: GuardConfig): Promise<string> {
  let first: unknown;
  try {
    const out = await clients.sts().send(new GetCallerIdentityCommand({}));
    if (out.Account) return out.Account;
  } catch (err) {
    first = err;
    if (isAccessProblem(err)) throw err;
  }
  // Emulators and some proxies serve no STS: read the account from an ARN instead.
  try {
    const out = await clients.logs.send(new DescribeLogGroupsCommand({ limit: 1 }));
    const arn = out.logGroups?.[0]?.logGroupArn ?? out.logGroups?.[0]?.arn;
    const account = arn ? parseArn(arn)?.account : undefined;
    if (account) return account;
  } catch {}
  try {
    const out = await clients.kms.send(new DescribeKeyCommand({ KeyId: config.keyArn ?? config.keyAlias }));
    const account = out.KeyMetadata?.AWSAccountId ?? parseArn(out.KeyMetadata?.Arn ?? '')?.account;
    if (account) return account;
  } catch {}
  if (first) throw first;
  throw new Error('cannot determine the AWS account: sts:GetCallerIdentity returned none');
}

/** True for a credentials failure, which no other way of finding the account would get around. */
function isAccessProblem(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return (
    name === 'CredentialsProviderError' ||
    name === 'InvalidClientTokenId' ||
    name === 'ExpiredToken' ||
    name === 'ExpiredTokenException'
  );
}

type ErrorLike = {
  name?: string;
  message?: string;
  cause?: unknown;
  $action?: string;
  $resource?: string;
  /** The URL the call went to (annotate). */
  $endpoint?: string;
};

/** What the run was pointed at, for messages that name what to check: the endpoint and the profile. */
export interface ErrorHints {
  /** AWS_ENDPOINT_URL, when set. */
  endpoint?: string;
  /** --profile (or AWS_PROFILE), when given. */
  profile?: string;
  /** The role session the call was signed with, in an account reached through an assumed role. */
  role?: { arn: string; account: string; region: string };
}

const CONNECTION_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)$/;

/** The error chain of `err` (its causes), at most five deep. */
function chainOf(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  for (let e = err as ErrorLike | undefined; e && chain.length < 5; e = e.cause as ErrorLike | undefined) {
    chain.push(e);
  }
  return chain;
}

/** The network failure in an error chain (refused, unknown host, timed out), as `CODE host:port`, if any. */
function connectionFailure(chain: ErrorLike[]): string | undefined {
  for (const e of chain) {
    const x = e as ErrorLike & { code?: string; address?: string; port?: number; hostname?: string };
    const code = x.code ?? /\b(E[A-Z]{4,})\b/.exec(x.message ?? '')?.[1] ?? '';
    if (CONNECTION_CODES.test(code)) {
      const host = x.hostname ?? x.address;
      return `${code}${host ? ` ${host}${x.port ? `:${x.port}` : ''}` : ''}`;
    }
    if (x.name === 'TimeoutError' || /socket hang up|timed out/i.test(x.message ?? '')) return 'timed out';
  }
  return undefined;
}

/** The credentials failure kind of an error chain: none found, not valid, expired; or undefined. */
function credentialsFailure(chain: ErrorLike[]): 'missing' | 'invalid' | 'expired' | undefined {
  const all = chain.map((e) => `${e?.name ?? ''} ${e?.message ?? ''}`).join(' | ');
  if (chain.some((e) => e?.name === 'CredentialsProviderError') || /Could not load credentials/i.test(all))
    return 'missing';
  if (chain.some((e) => ['ExpiredToken', 'ExpiredTokenException'].includes(e?.name ?? ''))) return 'expired';
  if (chain.some((e) => ['UnrecognizedClientException', 'InvalidClientTokenId'].includes(e?.name ?? '')))
    return 'invalid';
  return undefined;
}

const credentialsToCheck = (hints: ErrorHints) =>
  hints.role
    ? `the role session (account ${hints.role.account}, role ${hints.role.arn.split('/').pop()}): that the role ${hints.role.arn} exists, that its trust policy lets the caller assume it, and that ${hints.role.region} is enabled for account ${hints.role.account}`
    : hints.profile
      ? `the profile ${hints.profile} and its credentials (aws configure list --profile ${hints.profile}; aws sso login)`
      : 'the credentials (--profile, AWS_PROFILE, AWS_ACCESS_KEY_ID; aws sso login)';

/** What the user should check for this failure, in a few words: the endpoint, the profile/credentials, IAM. */
export function whatToCheck(err: unknown, hints: ErrorHints = {}): string {
  const chain = chainOf(err);
  const connection = connectionFailure(chain);
  if (connection)
    return hints.endpoint
      ? `the endpoint AWS_ENDPOINT_URL=${hints.endpoint}: is it up and reachable?`
      : 'the network path to AWS (proxy, firewall, DNS) and the region';
  if (credentialsFailure(chain)) return credentialsToCheck(hints);
  const all = chain.map((e) => `${e?.name ?? ''} ${e?.message ?? ''}`).join(' | ');
  if (/not authorized|AccessDenied|Unauthorized|Forbidden/i.test(all))
    return 'the IAM permissions of these credentials (see Permissions in docs/CLI.md)';
  return 'the error message; run again with -v for details';
}

/** One clear line for an AWS failure: which action on which resource was denied, or what is missing. */
export function describeAwsError(err: unknown, hints: ErrorHints = {}): string {
  const chain = chainOf(err);
  const root: ErrorLike = chain.find((e) => e?.$action) ?? chain.at(-1) ?? {};
  const all = chain.map((e) => `${e?.name ?? ''} ${e?.message ?? ''}`).join(' | ');
  const name: string = root?.name ?? 'Error';
  const message: string = root?.message ?? String(err);
  const connection = connectionFailure(chain);
  if (connection) {
    const call = root?.$action ? ` (${root.$action})` : '';
    return `cannot reach AWS: ${connection}${call}; check ${whatToCheck(err, hints)}`;
  }
  if (credentialsFailure(chain) === 'missing') {
    return hints.profile
      ? `no AWS credentials found for profile ${hints.profile}: check that it exists (aws configure list-profiles) and is logged in (aws sso login --profile ${hints.profile})`
      : 'no AWS credentials found: pass --profile, set AWS_PROFILE, or configure the default credential chain (aws configure / aws sso login)';
  }
  if (/Region is missing/i.test(all)) return 'no AWS region: pass --region or set AWS_REGION';
  const unserved = unservedCall(chain, root, hints);
  if (unserved) return unserved;
  const call = root?.$action ? ` (${root.$action})` : '';
  if (hints.role && credentialsFailure(chain)) {
    const { account, region, arn } = hints.role;
    return `the role session in account ${account} (role ${arn.split('/').pop()}) is not accepted in ${region}${call}: check ${credentialsToCheck(hints)}`;
  }
  if (chain.some((e) => ['ExpiredToken', 'ExpiredTokenException'].includes(e?.name ?? ''))) {
    return 'the AWS session has expired: log in again (aws sso login) or refresh the credentials';
  }
  if (chain.some((e) => ['UnrecognizedClientException', 'InvalidClientTokenId'].includes(e?.name ?? ''))) {
    return `the AWS credentials are not valid here${root?.$action ? ` (${root.$action})` : ''}: check ${credentialsToCheck(hints)}`;
  }
  const denied = /not authorized to perform:?\s*(\S+)(?: on resource:?\s*(\S+))?/i.exec(all);
  const isDenied = denied || chain.some((e) => /AccessDenied|Unauthorized|Forbidden/i.test(e?.name ?? ''));
  if (isDenied) {
    const action = denied?.[1] ?? root?.$action ?? 'an action';
    const resource = (denied?.[2] ?? root?.$resource ?? '').replace(/[.,;]$/, '');
    const kmsUse = /KMS key does not exist or is not allowed/i.test(all);
    if (kmsUse) {
      return `access denied: CloudWatch Logs may not use the key for ${root?.$resource ?? 'the log group'} (the key policy lacks the AllowCloudWatchLogs statement, or it has not propagated yet); run: logs-kms-guard key setup`;
    }
    return `access denied: ${action}${resource ? ` on ${resource}` : ''} was refused for these credentials; grant it in IAM (or the key policy) and try again`;
  }
  const where = root?.$action ? ` (${root.$action}${root.$resource ? ` on ${root.$resource}` : ''})` : '';
  return `${name}: ${message}${where}`;
}

/**
 * An endpoint that does not serve a call: its answer is not in the service's protocol (the SDK's "XML parse
 * error … Deserialization error … $response"), or it names no such operation (UnknownOperationException). Said
 * as such, naming the call and the endpoint, instead of the SDK's text; an AWS endpoint never does this, an
 * emulator or a proxy may.
 */
function unservedCall(chain: ErrorLike[], root: ErrorLike, hints: ErrorHints): string | undefined {
  const unreadable = chain.some(
    (e) =>
      /Deserialization error|XML parse error/i.test(e?.message ?? '') || '$responseBodyText' in (e ?? {}),
  );
  const unknown = chain.some((e) => e?.name === 'UnknownOperationException');
  if (!unreadable && !unknown) return undefined;
  const action = root.$action ?? 'the call';
  const endpoint = root.$endpoint ?? hints.endpoint;
  const at = endpoint ? ` at ${endpoint}` : '';
  const service = action.split(':')[0] ?? 'the service';
  return unreadable
    ? `the service did not answer ${action}${at} in a form the SDK reads: is that an endpoint that serves ${service}? (an emulator may not)`
    : `the endpoint${at} does not serve ${action} (UnknownOperationException): is that an endpoint that serves ${service}? (an emulator may not)`;
}

/** True when the failure is about credentials or permissions (exit code 3). */
export function isAwsFailure(err: unknown): boolean {
  const e = err as { $action?: string; $metadata?: unknown; name?: string; cause?: unknown } | undefined;
  return Boolean(
    e?.$action ||
      e?.$metadata ||
      e?.name === 'CredentialsProviderError' ||
      (e?.cause && isAwsFailure(e.cause)),
  );
}
