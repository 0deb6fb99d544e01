/**
 * The HTTP front: the awsJson1_1 protocol KMS and CloudWatch Logs use (POST /, `X-Amz-Target: <Prefix>.<Operation>`,
 * JSON bodies, errors as HTTP 4xx/5xx with `{"__type", "message"}`), SQS's awsJson1_0 (`AmazonSQS.<Operation>`,
 * query-compatible errors: sqs.ts) and Lambda's REST Invoke (`POST /2015-03-31/functions/<name>/invocations`:
 * lambda.ts); region from the SigV4 credential scope, then IAM, quotas, injected faults, the operation, and
 * CloudTrail events.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authorizer, type Caller } from './authorize.ts';
import { ApiError } from './errors.ts';
import {
  cloudTrailEvent,
  EventBus,
  type EventOptions,
  kmsTrailDetails,
  requestParametersOf,
  userIdentityOf,
} from './events.ts';
import type { AuthorizationRecord, IamOptions, IamPrincipal } from './iam.ts';
import { type Ctx, kmsHandlers } from './kms.ts';
import {
  isLambdaAnswer,
  type LambdaInvocation,
  LambdaService,
  type LambdaStateApi,
  lambdaErrorStatus,
} from './lambda.ts';
import { LOGS_MUTATING, logsHandlers } from './logs.ts';
import { Quotas } from './quota.ts';
import { seededRandom } from './random.ts';
import { type SqsMessage, SqsService, type SqsStateApi, sqsErrorShape } from './sqs.ts';
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
 * An emulator served by another HTTP server (the organization front, org.ts) instead of a socket of its own: its
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

type Handler = (ctx: Ctx, input: Record<string, unknown>) => unknown;

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const SQS_CONTENT_TYPE = 'application/x-amz-json-1.0';
const LAMBDA_INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** How a request was addressed: the JSON protocols name the operation in X-Amz-Target, Lambda's REST API in the path. */
interface Route {
  service: Service;
  operation: string;
  protocol: 'json' | 'sqs' | 'rest';
  handlers: Record<string, Handler>;
  /** REST: the input built from the path, query, headers and body (JSON protocols parse the body). */
  input?: Record<string, unknown>;
}

/** `Credential=AKID/20261128/us-east-1/kms/aws4_request` → access key, region, service. */
function credentialScope(req: IncomingMessage) {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
    req.headers.authorization ?? '',
  );
  return match
    ? { accessKeyId: match[1] as string, region: match[2] as string, service: match[3] as string }
    : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startEmulator(options: EmulatorOptions = {}, host?: EmulatorHost): Promise<Emulator> {
  const account = options.account ?? '123456789012';
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('timeScale must be > 0');
  const seed = options.seed ?? 1;
  const faultRate = options.faultRate ?? 0;
  const log = options.log ?? (() => {});
  const now = () => Date.now();
  const store = new Store(account, (options.propagationDelayMs ?? 3000) / timeScale);
  const quotas = new Quotas({
    enabled: options.throttle ?? true,
    timeScale,
    overrides: options.quotas ?? {},
  });
  // Separate streams, so that event delivery never shifts which calls get faults.
  const faultRandom = seededRandom(seed);
  const bus = new EventBus(options.events ?? {}, timeScale, seededRandom(seed ^ 0x5bd1e995), log);
  const calls: ApiCall[] = [];
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
  const SERVICES: Record<string, Omit<Route, 'operation'>> = {
    TrentService: { service: 'kms', protocol: 'json', handlers: kmsHandlers },
    Logs_20140328: { service: 'logs', protocol: 'json', handlers: logsHandlers },
    AmazonSQS: { service: 'sqs', protocol: 'sqs', handlers: sqs.handlers },
  };
  const route = (req: IncomingMessage, text: string): Route | undefined => {
    const [prefix, operation = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
    const target = prefix ? SERVICES[prefix] : undefined;
    if (target) return { ...target, operation };
    const url = new URL(req.url ?? '/', 'http://emulator');
    const invoke = LAMBDA_INVOKE_PATH.exec(url.pathname);
    if (!invoke) return undefined;
    let functionName: string;
    try {
      functionName = decodeURIComponent(invoke[1] as string);
    } catch {
      functionName = invoke[1] as string;
    }
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const qualifier = url.searchParams.get('Qualifier');
    const invocationType = header('x-amz-invocation-type');
    return {
      service: 'lambda',
      operation: 'Invoke',
      protocol: 'rest',
      handlers: lambda.handlers,
      input: {
        FunctionName: functionName,
        ...(invocationType !== undefined ? { InvocationType: invocationType } : {}),
        ...(qualifier !== null ? { Qualifier: qualifier } : {}),
        Payload: text,
      },
    };
  };
  const withAuthorizer = <T>(use: (a: Authorizer) => T): T => {
    if (!authorizer) throw new Error('emulator: started without the iam option');
    return use(authorizer);
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    requestId: string,
    errorType?: string,
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(text);
  };

  /** SQS's awsJson1_0 answer; errors carry the query-era code in `x-amzn-query-error` (sqs.ts). */
  const sendSqs = (
    res: ServerResponse,
    status: number,
    body: unknown,
    requestId: string,
    queryError?: string,
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': SQS_CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
      ...(queryError ? { 'x-amzn-query-error': queryError } : {}),
    });
    res.end(text);
  };

  /** Lambda's REST answer: the status and raw body of a LambdaAnswer, or a restJson1 error. */
  const sendRest = (
    res: ServerResponse,
    status: number,
    body: string,
    requestId: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      ...(body.length > 0 ? { 'content-type': 'application/json' } : {}),
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
      ...headers,
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const text = await readBody(req);
    const target = req.method === 'POST' ? route(req, text) : undefined;
    const scope = credentialScope(req);
    const region = scope?.region ?? 'us-east-1';
    if (!target) {
      send(res, 400, { __type: 'UnknownOperationException', message: 'Unknown target' }, requestId);
      return;
    }
    const { service, operation } = target;
    const call: ApiCall = {
      service,
      operation,
      region,
      at: now(),
      ...(authorizer && scope ? { accessKeyId: scope.accessKeyId } : {}),
    };
    calls.push(call);
    let input: Record<string, unknown> = {};
    let status = 200;
    let output: unknown;
    let interception: Interception | undefined;
    let applied = false;
    let queryError: string | undefined;
    try {
      if (target.input) {
        input = target.input;
      } else {
        try {
          input = text ? JSON.parse(text) : {};
        } catch {
          throw new ApiError('SerializationException', 'Request body is not valid JSON');
        }
      }
      const handler = target.handlers[operation];
      if (!handler) throw new ApiError('UnknownOperationException', `Operation ${operation} is not emulated`);
      host?.admit?.({ service, operation, region, ...(scope ? { accessKeyId: scope.accessKeyId } : {}) });
      interception = options.intercept?.({ service, operation, region, input: structuredClone(input) });
      if (interception?.kind === 'delay') {
        call.intercepted = 'delay';
        await interception.until.catch(() => undefined);
        interception = undefined;
        call.at = now();
      }
      if (interception) {
        call.intercepted = interception.kind;
        if (interception.applied) {
          // The work is done (or fails by itself); the interception still decides the answer.
          try {
            output = handler({ store, region, now: call.at }, input);
            applied = true;
          } catch {}
        }
        if (interception.kind === 'error') {
          throw new ApiError(
            interception.name,
            interception.message ?? 'injected error',
            interception.status,
          );
        }
      } else {
        // IAM comes after intercept (which sees every request) and before quotas, as AWS authorizes first.
        const caller: Caller | undefined = authorizer?.identify(scope?.accessKeyId);
        const authRequest = { service, operation, region, input, at: call.at };
        if (authorizer && caller) await authorizer.authorizeCall(caller, authRequest);
        // No request quotas for SQS and Lambda Invoke: far above what a test sends.
        if ((service === 'kms' || service === 'logs') && !quotas.admit(service, region, operation, call.at))
          throw new ApiError('ThrottlingException', 'Rate exceeded');
        if (
          service === 'logs' &&
          LOGS_MUTATING.has(operation) &&
          faultRate > 0 &&
          faultRandom() < faultRate
        ) {
          throw faultRandom() < 0.5
            ? new ApiError('ServiceUnavailableException', 'The service cannot complete the request.', 503)
            : new ApiError(
                'OperationAbortedException',
                'Multiple concurrent requests to update the same resource were in conflict.',
              );
        }
        const lockoutChecked =
          authorizer && caller ? await authorizer.beforeOperation(caller, authRequest) : false;
        const ctx: Ctx = { store, region, now: call.at, ...(lockoutChecked ? { lockoutChecked } : {}) };
        output = handler(ctx, input);
        applied = true;
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('InternalFailure', String(err), 500);
      call.error = e.name;
      status = e.status;
      output = { __type: e.name, message: e.message };
      if (target.protocol === 'sqs') {
        const shape = sqsErrorShape(e.name, e.status);
        // The name the SDK gives the error (the query code, or the class its awsQueryError trait maps it to).
        call.error = shape.code
          .replace(/^AWS\.SimpleQueueService\./, '')
          .replace(/^NonExistentQueue$/, 'QueueDoesNotExist');
        status = shape.status;
        queryError = `${shape.code};${shape.fault}`;
        output = { __type: shape.type, message: e.message };
      } else if (target.protocol === 'rest') {
        status = lambdaErrorStatus(e.name, e.status);
        output = { Type: status < 500 ? 'User' : 'Service', Message: e.message, message: e.message };
      }
    }
    if (interception?.kind === 'hang') {
      log(`${new Date(call.at).toISOString()} ${region} ${service}.${operation} hanging (intercepted)`);
    } else if (interception?.kind === 'raw') {
      const rawStatus = interception.status ?? 200;
      if (rawStatus >= 300) call.error = 'RawResponse';
      const defaultType =
        target.protocol === 'sqs'
          ? SQS_CONTENT_TYPE
          : target.protocol === 'rest'
            ? 'application/json'
            : CONTENT_TYPE;
      res.writeHead(rawStatus, {
        'content-type': interception.contentType ?? defaultType,
        'content-length': Buffer.byteLength(interception.body),
        'x-amzn-requestid': requestId,
      });
      res.end(interception.body);
      log(`${new Date(call.at).toISOString()} ${region} ${service}.${operation} ${rawStatus} (intercepted)`);
    } else {
      if (target.protocol === 'sqs') sendSqs(res, status, output, requestId, queryError);
      else if (target.protocol === 'rest') {
        if (call.error)
          sendRest(res, status, JSON.stringify(output), requestId, { 'x-amzn-errortype': call.error });
        else if (isLambdaAnswer(output)) {
          status = output.status;
          sendRest(res, output.status, output.body, requestId, output.headers);
        } else sendRest(res, 500, '', requestId);
      } else send(res, status, output, requestId, call.error);
      log(
        `${new Date(call.at).toISOString()} ${region} ${service}.${operation} ${status}${call.error ? ` ${call.error}` : ''}`,
      );
    }
    // CloudTrail records what happened, not what the client was told: an intercepted answer with `applied` is a
    // success, any other failure (IAM, throttling, faults, the operation's own errors) has errorCode/errorMessage.
    const requestParameters = requestParametersOf(service, operation, input);
    if (requestParameters && (service === 'kms' || service === 'logs')) {
      const accessKeyId = scope?.accessKeyId ?? 'ANONYMOUS';
      let principal: IamPrincipal | undefined;
      if (authorizer) {
        try {
          const caller = authorizer.identify(scope?.accessKeyId);
          if (caller.kind === 'principal') principal = caller.principal;
        } catch {
          // an unknown access key: recorded under the emulator's identity, as without iam
        }
      }
      bus.publish(
        cloudTrailEvent({
          service,
          operation,
          region,
          account,
          at: call.at,
          requestId,
          userIdentity: userIdentityOf(account, accessKeyId, call.at, principal),
          userAgent: String(req.headers['user-agent'] ?? ''),
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          requestParameters,
          ...(service === 'kms'
            ? kmsTrailDetails(store, region, operation, input, applied, call.at)
            : { responseElements: null }),
          ...(applied
            ? {}
            : {
                error: {
                  code: call.error ?? 'InternalFailure',
                  message: (output as { message?: string } | undefined)?.message ?? 'no answer',
                },
              }),
        }),
      );
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => {
      log(`request failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  // Hosted (org.ts): no socket of its own; the host's server calls `listener`.
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

  return {
    endpoint,
    port,
    account,
    calls,
    onEvent: (listener) => bus.subscribe(listener),
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
      bus.stop();
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
