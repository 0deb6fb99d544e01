/**
 * `startEmulator`: builds one account's emulator (what it offers and its options: emulator.ts) from its parts
 * (state, quotas, CloudTrail bus, SQS, Lambda, IAM) and serves it on an HTTP server of its own on 127.0.0.1, or
 * hosted by the organization front (account-router.ts). What a request goes through: dispatch.ts; how it is
 * routed: service-router.ts; how it is answered: protocols.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authorizer } from './authorize.ts';
import { CloudTrailService } from './cloudtrail.ts';
import { ConfigService } from './config.ts';
import { type EmulatorParts, requestHandler } from './dispatch.ts';
import type { Emulator, EmulatorHost, EmulatorOptions } from './emulator.ts';
import { EventBridgeService } from './eventbridge.ts';
import { EventBus } from './events.ts';
import { LambdaService } from './lambda.ts';
import { Quotas } from './quota.ts';
import { seededRandom } from './random.ts';
import { SecurityHubService } from './securityhub.ts';
import { serviceRouter } from './service-router.ts';
import { SqsService } from './sqs.ts';
import { Store, stateApi } from './state.ts';

/** Starts one account's emulator: on a free (or the given) port, or hosted by `host` with no socket of its own. */
export async function startEmulator(options: EmulatorOptions = {}, host?: EmulatorHost): Promise<Emulator> {
  const account = options.account ?? '123456789012';
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('timeScale must be > 0');
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const now = () => Date.now();
  const store = new Store(account, (options.propagationDelayMs ?? 3000) / timeScale);
  store.newKeyHiddenMs = (options.kmsNewKeyHiddenMs ?? 0) / timeScale;
  const sqs = new SqsService(account, {
    ...(options.sqsMaxPayloadBytes !== undefined ? { maxPayloadBytes: options.sqsMaxPayloadBytes } : {}),
    log,
  });
  const lambda = new LambdaService(account, log);
  const bus = new EventBus(options.events ?? {}, timeScale, seededRandom(seed ^ 0x5bd1e995), log);
  const cloudtrail = new CloudTrailService(bus);
  const eventBridge = new EventBridgeService(account, log);
  const config = new ConfigService(account, log);
  const securityHub = new SecurityHubService(account);
  const authorizer = options.iam
    ? new Authorizer(store, options.iam, timeScale, {
        sqs: (req) => sqs.checks(req.region, req.operation, req.input),
        lambda: (req) => lambda.checks(req.region, req.operation, req.input),
        events: (req) => eventBridge.checks(req.region, req.operation, req.input),
        config: (req) => config.checks(req.region, req.operation, req.input),
        securityhub: (req) => securityHub.checks(req.region, req.operation, req.input),
        cloudtrail: (req) => cloudtrail.checks(req.operation),
      })
    : undefined;
  const parts: EmulatorParts = {
    account,
    store,
    quotas: new Quotas({ enabled: options.throttle ?? true, timeScale, overrides: options.quotas ?? {} }),
    // Separate streams, so that event delivery never shifts which calls get faults.
    faultRandom: seededRandom(seed),
    faultRate: options.faultRate ?? 0,
    bus,
    ...(authorizer ? { authorizer } : {}),
    ...(options.intercept ? { intercept: options.intercept } : {}),
    ...(host ? { host } : {}),
    route: serviceRouter(sqs.handlers, lambda.handlers, {
      events: eventBridge.handlers,
      config: config.handlers,
      securityhub: securityHub.handlers,
      cloudtrail: cloudtrail.handlers,
    }),
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
    onPutEvent: (listener) => eventBridge.onPutEvent(listener),
    onConfigRuleInvocation: (listener) => config.onConfigRuleInvocation(listener),
    state: {
      ...stateApi(store, now),
      ...sqs.stateApi(now),
      ...lambda.stateApi(now),
      ...eventBridge.stateApi(),
      ...config.stateApi(now),
      ...securityHub.stateApi(),
    },
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
