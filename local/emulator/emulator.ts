/**
 * The Emulator: what a running account emulator offers its users (endpoint, state, recorded calls, events,
 * messages, invocations, IAM at run time), the options it starts from, and what a host or a test may hook into
 * (admission, interception). Types only: server.ts starts one, and its rooms (dispatch.ts, protocols.ts,
 * service-router.ts, the organization front) depend on this file, not on each other.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigRuleEvent, ConfigStateApi } from './config.ts';
import type { EventBridgeStateApi, PutEvent } from './eventbridge.ts';
import type { EventOptions } from './events.ts';
import type { AuthorizationRecord, IamOptions, IamPrincipal } from './iam.ts';
import type { LambdaInvocation, LambdaStateApi } from './lambda.ts';
import type { SecurityHubStateApi } from './securityhub.ts';
import type { SqsMessage, SqsStateApi } from './sqs.ts';
import type { EmulatorState } from './state.ts';

/** The services the emulator serves. */
export type Service = 'kms' | 'logs' | 'sqs' | 'lambda' | 'events' | 'config' | 'securityhub' | 'cloudtrail';

/** What an account emulator starts from: its account, time scale, quotas, faults, IAM and seed. */
export interface EmulatorOptions {
  /** 0 = pick a free port (default). */
  port?: number;
  /** Default '123456789012'. */
  account?: string;
  /** Default 1. Quotas are multiplied by it, delays divided by it. */
  timeScale?: number;
  /** Default 3000 (real-time ms, before scaling): how stale CloudWatch Logs' view of KMS is. */
  propagationDelayMs?: number;
  /**
   * Default 0 (off): real-time ms (before scaling) after CreateKey during which every other KMS call naming the
   * new key by id or ARN answers NotFoundException, as KMS's eventual consistency may (AWS KMS Developer Guide,
   * "The KMS API follows an eventual consistency model"; boto/botocore#2107). Off by default so that set-ups
   * calling KMS directly keep working; tests of the guard's retries set it.
   */
  kmsNewKeyHiddenMs?: number;
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

/** One request the emulator received, as `emulator.calls` records it. */
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

/** A running account emulator, as its users (tests, the benchmark, the organization front) see it. */
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
  /** Every event EventBridge PutEvents accepted (eventbridge.ts); returns unsubscribe. */
  onPutEvent(listener: (event: PutEvent) => void): () => void;
  /** Every rule invocation Config starts on StartConfigRulesEvaluation (config.ts); returns unsubscribe. */
  onConfigRuleInvocation(listener: (event: ConfigRuleEvent) => void): () => void;
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

/** `emulator.state`: KMS and Logs (state.ts), SQS queues (sqs.ts), Lambda functions (lambda.ts), EventBridge, Config, Security Hub findings (securityhub.ts). */
export type EmulatorFullState = EmulatorState &
  SqsStateApi &
  LambdaStateApi &
  EventBridgeStateApi &
  ConfigStateApi &
  SecurityHubStateApi;
