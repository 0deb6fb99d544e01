/**
 * The wire protocols the account emulator speaks, and how each writes an answer and an error (README, "What it
 * models" and "SQS and Lambda"):
 * - awsJson1_1 (KMS, CloudWatch Logs): JSON bodies; errors HTTP 4xx/5xx with `{"__type", "message"}` and the
 *   `x-amzn-errortype` header, so that `err.name` and `instanceof` the SDK's exception classes work;
 * - SQS's awsJson1_0, query-compatible: errors carry the query-era code in `x-amzn-query-error` and the JSON shape
 *   in `__type` (sqs.ts `sqsErrorShape`);
 * - Lambda's REST Invoke: the status, headers and raw body of a LambdaAnswer; errors `{Type, Message}` with Lambda's
 *   HTTP statuses (lambda.ts `lambdaErrorStatus`).
 */
import type { ServerResponse } from 'node:http';
import type { Interception } from './emulator.ts';
import type { ApiError } from './errors.ts';
import { isLambdaAnswer, lambdaErrorStatus } from './lambda.ts';
import { sqsErrorShape } from './sqs.ts';

/** awsJson1_1 (`json`), SQS's awsJson1_0 (`sqs`), Lambda's REST (`rest`). */
export type Protocol = 'json' | 'sqs' | 'rest';

/** An error as a protocol puts it on the wire. */
export interface WireError {
  status: number;
  /** The name the SDK gives the error: what `calls[].error` records. */
  name: string;
  /** The error's message, as CloudTrail records it. */
  message: string;
  body: unknown;
  headers: Record<string, string>;
}

const CONTENT_TYPE: Record<Protocol, string> = {
  json: 'application/x-amz-json-1.1',
  sqs: 'application/x-amz-json-1.0',
  rest: 'application/json',
};

/** Writes `body` (text) with the content type (when there is a body), its length, the request id and `headers`. */
function writeText(
  res: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  contentType: string | undefined,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...(contentType ? { 'content-type': contentType } : {}),
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    ...headers,
  });
  res.end(body);
}

/** An awsJson1_1 answer with no error header (a request no service takes). */
export function writeJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  writeText(res, status, JSON.stringify(body), requestId, CONTENT_TYPE.json);
}

/** The error `e` as `protocol` answers it. */
export function wireError(protocol: Protocol, e: ApiError): WireError {
  if (protocol === 'sqs') {
    const shape = sqsErrorShape(e.name, e.status);
    return {
      status: shape.status,
      // The name the SDK gives the error (the query code, or the class its awsQueryError trait maps it to).
      name: shape.code
        .replace(/^AWS\.SimpleQueueService\./, '')
        .replace(/^NonExistentQueue$/, 'QueueDoesNotExist'),
      message: e.message,
      body: { __type: shape.type, message: e.message },
      headers: { 'x-amzn-query-error': `${shape.code};${shape.fault}` },
    };
  }
  if (protocol === 'rest') {
    const status = lambdaErrorStatus(e.name, e.status);
    return {
      status,
      name: e.name,
      message: e.message,
      body: { Type: status < 500 ? 'User' : 'Service', Message: e.message, message: e.message },
      headers: { 'x-amzn-errortype': e.name },
    };
  }
  return {
    status: e.status,
    name: e.name,
    message: e.message,
    body: { __type: e.name, message: e.message },
    headers: { 'x-amzn-errortype': e.name },
  };
}

/** Writes an error answer. */
export function writeError(
  res: ServerResponse,
  protocol: Protocol,
  requestId: string,
  error: WireError,
): void {
  writeText(res, error.status, JSON.stringify(error.body), requestId, CONTENT_TYPE[protocol], error.headers);
}

/** Writes a successful operation's output (REST: the LambdaAnswer it is); returns the status written. */
export function writeOutput(
  res: ServerResponse,
  protocol: Protocol,
  requestId: string,
  output: unknown,
): number {
  if (protocol !== 'rest') {
    writeText(res, 200, JSON.stringify(output), requestId, CONTENT_TYPE[protocol]);
    return 200;
  }
  if (!isLambdaAnswer(output)) {
    writeText(res, 500, '', requestId, undefined);
    return 500;
  }
  const contentType = output.body.length > 0 ? CONTENT_TYPE.rest : undefined;
  writeText(res, output.status, output.body, requestId, contentType, output.headers);
  return output.status;
}

/** Writes an intercepted `raw` answer as it is (content type: the protocol's unless given); returns its status. */
export function writeRaw(
  res: ServerResponse,
  protocol: Protocol,
  requestId: string,
  raw: Extract<Interception, { kind: 'raw' }>,
): number {
  const status = raw.status ?? 200;
  res.writeHead(status, {
    'content-type': raw.contentType ?? CONTENT_TYPE[protocol],
    'content-length': Buffer.byteLength(raw.body),
    'x-amzn-requestid': requestId,
  });
  res.end(raw.body);
  return status;
}
