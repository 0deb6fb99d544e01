/**
 * One request through the account emulator, in AWS's order: routed to its service (service-router.ts), admitted by
 * the host (the organization front: expired sessions, regions not enabled), offered to `intercept`, authorized (IAM),
 * throttled (KMS and Logs quotas), faulted (mutating Logs calls), then the operation; answered in the request's
 * protocol (protocols.ts), logged, and recorded in CloudTrail (KMS and Logs calls in events.ts `TRAILED`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer, Caller } from './authorize.ts';
import type { ApiCall, EmulatorHost, InterceptedRequest, Interception } from './emulator.ts';
import { ApiError } from './errors.ts';
import {
  cloudTrailEvent,
  type EventBus,
  HISTORY_ONLY,
  kmsTrailDetails,
  requestParametersOf,
  userIdentityOf,
} from './events.ts';
import type { IamPrincipal } from './iam.ts';
import type { Ctx } from './kms.ts';
import { LOGS_MUTATING } from './logs.ts';
import { type WireError, wireError, writeError, writeJson, writeOutput, writeRaw } from './protocols.ts';
import type { Quotas } from './quota.ts';
import type { Random } from './random.ts';
import { type CredentialScope, credentialScope, readBody } from './request.ts';
import type { Handler, Route, ServiceRouter } from './service-router.ts';
import type { Store } from './state.ts';
import { TRAIL_CALLER_HEADER, trailCallerOf } from './trail-callers.ts';

/** Everything a request may touch: the account's state and the gates before it. */
export interface EmulatorParts {
  account: string;
  store: Store;
  quotas: Quotas;
  bus: EventBus;
  /** Set with the `iam` option. */
  authorizer?: Authorizer;
  faultRate: number;
  faultRandom: Random;
  intercept?: (request: InterceptedRequest) => Interception | undefined;
  host?: EmulatorHost;
  route: ServiceRouter;
  calls: ApiCall[];
  log: (line: string) => void;
  now: () => number;
}

/** What became of a routed request. */
interface Outcome {
  /** The request's input ({} when its body was not JSON). */
  input: Record<string, unknown>;
  output?: unknown;
  /** How `intercept` answered instead of the emulator (never `delay`: a delayed request is then handled normally). */
  interception?: Exclude<Interception, { kind: 'delay' }>;
  /** The operation ran and made its change (also when an interception then answered). */
  applied: boolean;
  error?: WireError;
}

/** The emulator's request listener body: answers one request (or, intercepted with `hang`, never). */
export function requestHandler(
  parts: EmulatorParts,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const requestId = randomUUID();
    const text = await readBody(req);
    const target = req.method === 'POST' ? parts.route(req, text) : undefined;
    const scope = credentialScope(req);
    const region = scope?.region ?? 'us-east-1';
    if (!target) {
      writeJson(res, 400, { __type: 'UnknownOperationException', message: 'Unknown target' }, requestId);
      return;
    }
    const call: ApiCall = {
      service: target.service,
      operation: target.operation,
      region,
      at: parts.now(),
      ...(parts.authorizer && scope ? { accessKeyId: scope.accessKeyId } : {}),
    };
    parts.calls.push(call);
    const outcome = await run(parts, target, call, scope, text);
    answer(parts, res, requestId, target, call, outcome);
    publishTrailEvent(parts, req, requestId, call, scope, outcome);
  };
}

/**
 * The request up to its result: admission, then interception or the gates and the operation; an error as the
 * request's protocol spells it.
 */
async function run(
  parts: EmulatorParts,
  target: Route,
  call: ApiCall,
  scope: CredentialScope | undefined,
  text: string,
): Promise<Outcome> {
  const { service, operation, region } = call;
  const outcome: Outcome = { input: {}, applied: false };
  try {
    if (target.input) {
      outcome.input = target.input;
    } else {
      try {
        outcome.input = text ? JSON.parse(text) : {};
      } catch {
        throw new ApiError('SerializationException', 'Request body is not valid JSON');
      }
    }
    const { input } = outcome;
    const handler = target.handlers[operation];
    if (!handler) throw new ApiError('UnknownOperationException', `Operation ${operation} is not emulated`);
    parts.host?.admit?.({ service, operation, region, ...(scope ? { accessKeyId: scope.accessKeyId } : {}) });
    let interception = parts.intercept?.({ service, operation, region, input: structuredClone(input) });
    if (interception?.kind === 'delay') {
      call.intercepted = 'delay';
      await interception.until.catch(() => undefined);
      interception = undefined;
      call.at = parts.now();
    }
    if (interception) {
      outcome.interception = interception;
      call.intercepted = interception.kind;
      if (interception.applied) {
        // The work is done (or fails by itself); the interception still decides the answer.
        try {
          outcome.output = handler({ store: parts.store, region, now: call.at }, input);
          outcome.applied = true;
        } catch {}
      }
      if (interception.kind === 'error') {
        throw new ApiError(interception.name, interception.message ?? 'injected error', interception.status);
      }
    } else {
      outcome.output = await operate(parts, handler, call, scope, input);
      outcome.applied = true;
    }
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError('InternalFailure', String(err), 500);
    outcome.error = wireError(target.protocol, e);
    call.error = outcome.error.name;
  }
  return outcome;
}

/** The gates of a request nobody intercepted (IAM, quotas, faults), then the operation; its output. */
async function operate(
  parts: EmulatorParts,
  handler: Handler,
  call: ApiCall,
  scope: CredentialScope | undefined,
  input: Record<string, unknown>,
): Promise<unknown> {
  const { service, operation, region } = call;
  const { authorizer, faultRandom } = parts;
  // IAM comes after intercept (which sees every request) and before quotas, as AWS authorizes first.
  const caller: Caller | undefined = authorizer?.identify(scope?.accessKeyId);
  const authRequest = { service, operation, region, input, at: call.at };
  if (authorizer && caller) await authorizer.authorizeCall(caller, authRequest);
  // No request quotas for SQS and Lambda Invoke: far above what a test sends.
  if ((service === 'kms' || service === 'logs') && !parts.quotas.admit(service, region, operation, call.at))
    throw new ApiError('ThrottlingException', 'Rate exceeded');
  if (
    service === 'logs' &&
    LOGS_MUTATING.has(operation) &&
    parts.faultRate > 0 &&
    faultRandom() < parts.faultRate
  ) {
    throw faultRandom() < 0.5
      ? new ApiError('ServiceUnavailableException', 'The service cannot complete the request.', 503)
      : new ApiError(
          'OperationAbortedException',
          'Multiple concurrent requests to update the same resource were in conflict.',
        );
  }
  const lockoutChecked = authorizer && caller ? await authorizer.beforeOperation(caller, authRequest) : false;
  const ctx: Ctx = {
    store: parts.store,
    region,
    now: call.at,
    ...(lockoutChecked ? { lockoutChecked } : {}),
  };
  return handler(ctx, input);
}

/** Writes the answer (an intercepted `hang` writes none) and the request's log line. */
function answer(
  parts: EmulatorParts,
  res: ServerResponse,
  requestId: string,
  target: Route,
  call: ApiCall,
  outcome: Outcome,
): void {
  const stamp = `${new Date(call.at).toISOString()} ${call.region} ${call.service}.${call.operation}`;
  const { interception } = outcome;
  if (interception?.kind === 'hang') {
    parts.log(`${stamp} hanging (intercepted)`);
  } else if (interception?.kind === 'raw') {
    if ((interception.status ?? 200) >= 300) call.error = 'RawResponse';
    const status = writeRaw(res, target.protocol, requestId, interception);
    parts.log(`${stamp} ${status} (intercepted)`);
  } else {
    let status: number;
    if (outcome.error) {
      writeError(res, target.protocol, requestId, outcome.error);
      status = outcome.error.status;
    } else status = writeOutput(res, target.protocol, requestId, outcome.output);
    parts.log(`${stamp} ${status}${call.error ? ` ${call.error}` : ''}`);
  }
}

/**
 * The CloudTrail event of a recorded KMS or Logs call. CloudTrail records what happened, not what the client was
 * told: an intercepted answer with `applied` is a success, any other failure (IAM, throttling, faults, the
 * operation's own errors) has errorCode/errorMessage.
 */
function publishTrailEvent(
  parts: EmulatorParts,
  req: IncomingMessage,
  requestId: string,
  call: ApiCall,
  scope: CredentialScope | undefined,
  outcome: Outcome,
): void {
  const { service, operation, region } = call;
  const { account, authorizer, store } = parts;
  const requestParameters = requestParametersOf(service, operation, outcome.input);
  if (!requestParameters || (service !== 'kms' && service !== 'logs')) return;
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
  // A test may ask for its call to be recorded as an infrastructure-as-code tool's (trail-callers.ts).
  const tool = trailCallerOf(req.headers[TRAIL_CALLER_HEADER]);
  const identity = userIdentityOf(account, accessKeyId, call.at, principal);
  const event = cloudTrailEvent({
    service,
    operation,
    region,
    account,
    at: call.at,
    requestId,
    userIdentity: tool?.invokedBy ? { ...identity, invokedBy: tool.invokedBy } : identity,
    userAgent: tool?.userAgent ?? String(req.headers['user-agent'] ?? ''),
    sourceIp: tool?.sourceIp ?? req.socket.remoteAddress ?? '127.0.0.1',
    ...(tool?.console ? { consoleSession: true } : {}),
    requestParameters,
    ...(service === 'kms'
      ? kmsTrailDetails(store, region, operation, outcome.input, outcome.applied, call.at)
      : { responseElements: null }),
    ...(outcome.applied
      ? {}
      : {
          error: {
            code: call.error ?? 'InternalFailure',
            message: outcome.error?.message ?? 'no answer',
          },
        }),
  });
  if (HISTORY_ONLY.has(operation)) parts.bus.record(event);
  else parts.bus.publish(event);
}
