/**
 * The account emulator's public face: its options, what a running emulator offers (state, calls, events, messages,
 * invocations, IAM), and `startEmulator`, which builds one account's parts (state, quotas, CloudTrail bus, SQS,
 * Lambda, IAM) and serves them on an HTTP server of its own on 127.0.0.1, or hosted by the organization front
 * (account-router.ts). What a request goes through: dispatch.ts; how it is routed: service-router.ts; how it is
 * answered: protocols.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authorizer } from './authorize.ts';
import { type EmulatorParts, requestHandler } from './dispatch.ts';
import { EventBus, type EventOptions } from './events.ts';
import type { AuthorizationRecord, IamOptions, IamPrincipal } from './iam.ts';
import { type LambdaInvocation, LambdaService, type LambdaStateApi } from './lambda.ts';
import { Quotas } from './quota.ts';
import { seededRandom } from './random.ts';
import { serviceRouter } from './service-router.ts';
import { type SqsMessage, SqsService, type SqsStateApi } from './sqs.ts';
import { type EmulatorState, Store, stateApi } from './state.ts';

/** The services the emulator serves. */
export type Service = 'kms' | 'logs' | 'sqs' | 'lambda';

export interface EmulatorOptions {
  /** 0 = pick a free port (default). */
  port?: number;
  /** Default '123456789012'. */
  account?: string;
  /** Default 1. Quotas are multiplied by it, delays divided by it. */
  timeScale?: number;
  /** Default 3000 (real-time ms, before scaling): how stale CloudWatch Logs' view of KMS is. */
  propagationDelayMs?: number;
  /** Default true: per-account/region quotas as token buckets. */
  throttle?: boolean;
  /** TPS overrides by operation name, e.g. { AssociateKmsKey: 5 }. */
  quotas?: Partial<Record<string, number>>;
  /** Default 0: probability of an injected ServiceUnavailableException / OperationAbortedException per mutating Logs call. */
  faultRate?: number;
  /** Seed for all randomness (faults, event duplication/loss). Default 1. */
  seed?: number;
  /** CloudTrail event delivery (defaults 0, 0, 0). */
  events?: EventOptions;
  /** Optional request log, one line per request. */
  log?: (line: string) => void;
  /**
   * Test hook: called for every well-formed request before quotas and faults; returning an interception
   * replaces the normal answer (an arbitrary error, a raw or malformed response, or no response at all).
   */
  intercept?: (request: InterceptedRequest) => Interception | undefined;
  /**
   * IAM authorization (README, "IAM authorization"): requests are signed by registered principals (roles) or
   * admins; unknown access keys are rejected. Without it every caller is the account root.
   */
  iam?: IamOptions;
  /**
   * SendMessage / SendMessageBatch size limit in bytes. Default 1,048,576 (SQS API Reference, SendMessageBatch:
   * 1 MiB since 2025; 262,144 before).
   */
  sqsMaxPayloadBytes?: number;
}

/** What `intercept` sees of a request (Lambda Invoke: FunctionName, InvocationType, Qualifier, Payload as text). */
export interface InterceptedRequest {
  service: Service;
  operation: string;
  region: string;
  input: Record<string, unknown>;
}

/**
 * How `intercept` answers instead of the emulator. With `applied: true` the operation runs first (its change
 * is made, as when AWS did the work but the answer was lost); otherwise nothing changes.
 * - `error`: `{"__type": name, "message"}` with `status` (default 400) and the `x-amzn-errortype` header.
 * - `raw`: this body and status as they are (default 200), e.g. malformed JSON or an HTML error page.
 * - `hang`: the request is read and never answered (the client's timeout decides; `stop()` closes it).
 * - `delay`: the request is handled normally (quotas, faults and all) once `until` settles: latency, or a
 *   barrier that lets racing requests through together.
 */
export type Interception =
  | ((
      | { kind: 'error'; name: string; message?: string; status?: number }
      | { kind: 'raw'; body: string; status?: number; contentType?: string }
      | { kind: 'hang' }
    ) & { applied?: boolean })
  | { kind: 'delay'; until: Promise<unknown> };

export interface ApiCall {
  service: Service;
  operation: string;
  region: string;
  at: number;
  error?: string;
  /** Set when `intercept` answered instead of the emulator. */
  intercepted?: Interception['kind'];
  /** The access key of the SigV4 credential scope (set when `iam` is given). */
  accessKeyId?: string;
}

/**
 * An emulator served by another HTTP server (the organization front, account-router.ts) instead of a socket of its own: its
 * requests arrive through `Emulator.handle`.
 */
export interface EmulatorHost {
  /** The front's endpoint ('http://127.0.0.1:PORT'): `endpoint`, `port` and queue `localUrl`s name it. */
  endpoint: string;
  /**
   * Called for every routed request before `intercept`, IAM, quotas and the operation; an ApiError it throws is the
   * answer (in the service's protocol), as AWS refuses a request before authenticating it (e.g. a region not enabled).
   */
  admit?: (request: { service: Service; operation: string; region: string; accessKeyId?: string }) => void;
}

export interface Emulator {
  /** 'http://127.0.0.1:PORT' */
  endpoint: string;
  port: number;
  account: string;
  /** Every request received, in order, with the error name if it failed (throttles and faults included). */
  calls: ApiCall[];
  /**
   * EventBridge-shaped CloudTrail events (failed calls too) for CreateLogGroup, DisassociateKmsKey and the KMS
   * calls in events.ts `TRAILED`; returns unsubscribe.
   */
  onEvent(listener: (event: unknown) => void): () => void;
  /** Every message SQS accepted (SendMessage, each Successful entry of SendMessageBatch); returns unsubscribe. */
  onMessage(listener: (message: SqsMessage) => void): () => void;
  /** Every Lambda invocation accepted (Event and RequestResponse; not DryRun); returns unsubscribe. */
  onInvoke(listener: (invocation: LambdaInvocation) => void): () => void;
  state: EmulatorFullState;
  /** Every IAM decision in order (the caller's own checks and the KMS calls Logs makes for it); empty without `iam`. */
  authorizations: AuthorizationRecord[];
  /** Runtime changes of the principals (throws when the emulator was started without `iam`). */
  iam: {
    setPrincipal(accessKeyId: string, principal: IamPrincipal): void;
    removePrincipal(accessKeyId: string): void;
  };
  /** The request listener (what the emulator's own server runs; the organization front calls it in-process). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
}

/** `emulator.state`: KMS and Logs (state.ts), SQS queues (sqs.ts), Lambda functions (lambda.ts). */
export type EmulatorFullState = EmulatorState & SqsStateApi & LambdaStateApi;

/** Starts one account's emulator: on a free (or the given) port, or hosted by `host` with no socket of its own. */
export async function startEmulator(options: EmulatorOptions = {}, host?: EmulatorHost): Promise<Emulator> {
  const account = options.account ?? '123456789012';
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('timeScale must be > 0');
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const now = () => Date.now();
  const store = new Store(account, (options.propagationDelayMs ?? 3000) / timeScale);
  const sqs = new SqsService(account, {
    ...(options.sqsMaxPayloadBytes !== undefined ? { maxPayloadBytes: options.sqsMaxPayloadBytes } : {}),
    log,
  });
  const lambda = new LambdaService(account, log);
  const authorizer = options.iam
    ? new Authorizer(store, options.iam, timeScale, {
        sqs: (req) => sqs.checks(req.region, req.operation, req.input),
        lambda: (req) => lambda.checks(req.region, req.operation, req.input),
      })
    : undefined;
  const parts: EmulatorParts = {
    account,
    store,
    quotas: new Quotas({ enabled: options.throttle ?? true, timeScale, overrides: options.quotas ?? {} }),
    // Separate streams, so that event delivery never shifts which calls get faults.
    faultRandom: seededRandom(seed),
    faultRate: options.faultRate ?? 0,
    bus: new EventBus(options.events ?? {}, timeScale, seededRandom(seed ^ 0x5bd1e995), log),
    ...(authorizer ? { authorizer } : {}),
    ...(options.intercept ? { intercept: options.intercept } : {}),
    ...(host ? { host } : {}),
    route: serviceRouter(sqs.handlers, lambda.handlers),
    calls: [],
    log,
    now,
  };
  const handle = requestHandler(parts);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => {
      log(`request failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  // Hosted (account-router.ts): no socket of its own; the host's server calls `listener`.
  const server = host ? undefined : createServer(listener);
  if (server) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
  }
  const port = server ? (server.address() as AddressInfo).port : Number(new URL(host?.endpoint ?? '').port);
  const endpoint = host ? host.endpoint : `http://127.0.0.1:${port}`;
  sqs.endpoint = endpoint;
  const withAuthorizer = <T>(use: (a: Authorizer) => T): T => {
    if (!authorizer) throw new Error('emulator: started without the iam option');
    return use(authorizer);
  };

  return {
    endpoint,
    port,
    account,
    calls: parts.calls,
    onEvent: (listener) => parts.bus.subscribe(listener),
    onMessage: (listener) => sqs.onMessage(listener),
    onInvoke: (listener) => lambda.onInvoke(listener),
    state: { ...stateApi(store, now), ...sqs.stateApi(now), ...lambda.stateApi(now) },
    authorizations: authorizer?.records ?? [],
    iam: {
      setPrincipal: (accessKeyId, principal) => withAuthorizer((a) => a.setPrincipal(accessKeyId, principal)),
      removePrincipal: (accessKeyId) => withAuthorizer((a) => a.removePrincipal(accessKeyId)),
    },
    handle: listener,
    stop: async () => {
      parts.bus.stop();
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
