/**
 * Picks the service and operation a request is for, and the protocol it speaks. The awsJson protocols name them in
 * `X-Amz-Target: <Prefix>.<Operation>` (KMS `TrentService`, CloudWatch Logs `Logs_20140328`, SQS `AmazonSQS`,
 * EventBridge `AWSEvents`, AWS Config `StarlingDoveService`, CloudTrail `CloudTrail_20131101`; the prefix is everything before the last dot);
 * Lambda's REST API names them in the path (`POST /2015-03-31/functions/<name>/invocations`, lambda.ts), whose input
 * is built from the path, the query, the headers and the body. Security Hub's REST JSON API names them in the path
 * too (`POST /findings/import` BatchImportFindings, `POST /findings` GetFindings: securityhub.ts); its errors are
 * answered as awsJson ones (`x-amzn-errortype`, which the SDK's restJson1 deserializer reads first).
 */
import type { IncomingMessage } from 'node:http';
import type { Service } from './emulator.ts';
import { type Ctx, kmsHandlers } from './kms.ts';
import { logsHandlers } from './logs.ts';
import type { Protocol } from './protocols.ts';

/** One operation of a service: the store and region in, the answer's output (or an ApiError) out. */
export type Handler = (ctx: Ctx, input: Record<string, unknown>) => unknown;

/** How a request was addressed: the service, its operation, the protocol it speaks and the service's operations. */
export interface Route {
  service: Service;
  operation: string;
  protocol: Protocol;
  handlers: Record<string, Handler>;
  /** REST: the input built from the path, query, headers and body (JSON protocols parse the body). */
  input?: Record<string, unknown>;
}

/** Picks a request's route from its headers, path and body text; undefined for a request no service takes. */
export type ServiceRouter = (req: IncomingMessage, text: string) => Route | undefined;

const LAMBDA_INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The router of an emulator whose SQS and Lambda operations (holding its queues and functions) are these. */
export function serviceRouter(
  sqs: Record<string, Handler>,
  lambda: Record<string, Handler>,
  more: {
    events?: Record<string, Handler>;
    config?: Record<string, Handler>;
    securityhub?: Record<string, Handler>;
    cloudtrail?: Record<string, Handler>;
  } = {},
): ServiceRouter {
  // Security Hub is REST-JSON: its operation is the request's path (Security Hub API reference).
  const securityHubPaths: Record<string, string> = {
    '/findings/import': 'BatchImportFindings',
    '/findings': 'GetFindings',
  };
  const byTarget: Record<string, Omit<Route, 'operation'>> = {
    TrentService: { service: 'kms', protocol: 'json', handlers: kmsHandlers },
    Logs_20140328: { service: 'logs', protocol: 'json', handlers: logsHandlers },
    AmazonSQS: { service: 'sqs', protocol: 'sqs', handlers: sqs },
    // EventBridge (AWSEvents) and AWS Config (StarlingDoveService): awsJson1_1 like KMS and Logs.
    ...(more.events
      ? { AWSEvents: { service: 'events' as const, protocol: 'json' as const, handlers: more.events } }
      : {}),
    ...(more.config
      ? {
          StarlingDoveService: {
            service: 'config' as const,
            protocol: 'json' as const,
            handlers: more.config,
          },
        }
      : {}),
    // awsJson1_1: the SDK's client-cloudtrail sends `X-Amz-Target: CloudTrail_20131101.<Op>` (its serviceTarget);
    // the CloudTrail API reference's examples spell it `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`.
    ...(more.cloudtrail
      ? {
          CloudTrail_20131101: {
            service: 'cloudtrail' as const,
            protocol: 'json' as const,
            handlers: more.cloudtrail,
          },
          'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101': {
            service: 'cloudtrail' as const,
            protocol: 'json' as const,
            handlers: more.cloudtrail,
          },
        }
      : {}),
  };
  return (req, text) => {
    const header = String(req.headers['x-amz-target'] ?? '');
    const dot = header.lastIndexOf('.');
    const prefix = dot < 0 ? header : header.slice(0, dot);
    const operation = dot < 0 ? '' : header.slice(dot + 1);
    const target = prefix ? byTarget[prefix] : undefined;
    if (target) return { ...target, operation };
    const hub = securityHubPaths[new URL(req.url ?? '/', 'http://emulator').pathname];
    if (hub && more.securityhub) {
      return { service: 'securityhub', protocol: 'json', handlers: more.securityhub, operation: hub };
    }
    return lambdaInvokeRoute(req, text, lambda);
  };
}

/** Lambda Invoke: FunctionName from the path, Qualifier from the query, InvocationType from a header, Payload the body. */
function lambdaInvokeRoute(
  req: IncomingMessage,
  text: string,
  handlers: Record<string, Handler>,
): Route | undefined {
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
    handlers,
    input: {
      FunctionName: functionName,
      ...(invocationType !== undefined ? { InvocationType: invocationType } : {}),
      ...(qualifier !== null ? { Qualifier: qualifier } : {}),
      Payload: text,
    },
  };
}
