/**
 * Amazon SQS (`AmazonSQS.*`, awsJson1_0 with the query-compatible error header) — the sending half only:
 * SendMessage, SendMessageBatch, GetQueueUrl, GetQueueAttributes. Queues are created by the test/state API;
 * accepted messages are not stored for receiving, they are handed to `onMessage` listeners (the local queue,
 * a test's array). Standard queues only.
 *
 * Sources: Amazon SQS API Reference (SendMessage, SendMessageBatch, GetQueueUrl, GetQueueAttributes,
 * BatchResultErrorEntry); Amazon SQS Developer Guide ("Amazon SQS batch actions": "You cannot set permissions
 * explicitly for SendMessageBatch ... setting permissions for SendMessage ... sets permissions for the
 * corresponding batch versions"; "Amazon SQS API permissions: Actions and resource reference"); the JSON error
 * shape as AWS sends it: `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender` with
 * `{"__type": "com.amazonaws.sqs#QueueDoesNotExist"}` (aws/aws-sdk-cpp tests/aws-cpp-sdk-sqs-unit-tests/
 * SQSUnitTests.cpp, a captured response), `InvalidParameterValue;Sender` with
 * `com.amazon.coral.service#InvalidParameterValueException` and the query codes of the batch errors
 * (localstack/localstack, aws/protocol/serializer.py, SqsJsonResponseSerializer, noting AWS's answers).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Check } from './authorize.ts';
import { ApiError, fail } from './errors.ts';
import type { Ctx, Input } from './kms.ts';
import { Listeners } from './listeners.ts';
import { partitionOf } from './policy-eval.ts';

type Handler = (ctx: Ctx, input: Input) => unknown;

/** A message SQS accepted, as `onMessage` listeners get it. */
export interface SqsMessage {
  region: string;
  queueName: string;
  /** The queue URL in AWS's form, `https://sqs.<region>.amazonaws.com/<account>/<name>`. */
  queueUrl: string;
  messageId: string;
  body: string;
  /** The entry's DelaySeconds (0 when not given: the emulator's queues have no default delay). */
  delaySeconds: number;
}

export interface QueueInfo {
  name: string;
  region: string;
  /** AWS's form: `https://sqs.<region>.amazonaws.com/<account>/<name>` (`.com.cn` in China). */
  url: string;
  /**
   * The same queue on the emulator's endpoint, `http://127.0.0.1:PORT/<account>/<name>`: what a client must use.
   * The SDK sends SQS requests to the QueueUrl's host unless the client was given `endpoint` explicitly
   * (AWS_ENDPOINT_URL does not count: @aws-sdk/middleware-sdk-sqs, queueUrlMiddleware), so AWS's form would
   * leave the machine.
   */
  localUrl: string;
  arn: string;
  createdAt: number;
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
  policy?: string;
}

/** The SQS part of `emulator.state`. */
export interface SqsStateApi {
  /**
   * Creates a standard queue (as CloudFormation would). `redriveTo` names the dead-letter queue (a name or
   * ARN of this region; it need not exist, as with AWS's RedrivePolicy), `policy` a queue policy (resource
   * policy for authorization; none unless set).
   */
  createQueue(
    region: string,
    name: string,
    options?: { redriveTo?: string; maxReceiveCount?: number; policy?: string | object },
  ): QueueInfo;
  queue(region: string, name: string): QueueInfo | undefined;
  queues(region: string): QueueInfo[];
}

/**
 * SendMessage / SendMessageBatch size limit: "The maximum allowed individual message size and the maximum total
 * payload size (the sum of the individual lengths of all of the batched messages) are both 1 MiB (1,048,576
 * bytes)" (SQS API Reference, SendMessageBatch, current; it was 256 KiB, 262,144 bytes, before 2025).
 */
const SQS_MAX_PAYLOAD_BYTES = 1_048_576;
/** "the maximum number of entries ... in a single SendMessageBatch ... request is 10" (TooManyEntriesInBatchRequest). */
const SQS_MAX_BATCH_ENTRIES = 10;

/** How an SQS error travels: the query-era code (x-amzn-query-error), the JSON `__type`, the HTTP status. */
export interface SqsErrorShape {
  code: string;
  type: string;
  status: number;
  fault: 'Sender' | 'Receiver';
}

const PREFIXED = new Set([
  'BatchEntryIdsNotDistinct',
  'BatchRequestTooLong',
  'EmptyBatchRequest',
  'InvalidBatchEntryId',
  'TooManyEntriesInBatchRequest',
  'UnsupportedOperation',
]);

/**
 * The wire shape of an error by the name the emulator raises. The SDK (awsQueryCompatible) reads the code from
 * `x-amzn-query-error` first and maps it to its exception class through the `awsQueryError` trait, so
 * `err.name` is `QueueDoesNotExist`, `TooManyEntriesInBatchRequest`, ...; codes without a class
 * (`InvalidParameterValue`, `MissingParameter`, `AccessDenied`, `InvalidClientTokenId`) are `err.name` as they are.
 */
export function sqsErrorShape(name: string, status: number): SqsErrorShape {
  const sender = status < 500 ? 'Sender' : 'Receiver';
  switch (name) {
    case 'QueueDoesNotExist':
      return {
        code: 'AWS.SimpleQueueService.NonExistentQueue',
        type: 'com.amazonaws.sqs#QueueDoesNotExist',
        status: 400,
        fault: 'Sender',
      };
    case 'InvalidParameterValue':
      return {
        code: name,
        type: 'com.amazon.coral.service#InvalidParameterValueException',
        status: 400,
        fault: 'Sender',
      };
    case 'MissingParameter':
      return {
        code: name,
        type: 'com.amazon.coral.service#MissingRequiredParameterException',
        status: 400,
        fault: 'Sender',
      };
    // IAM denials: "An error occurred (AccessDenied) when calling the SendMessageBatch operation: User: ... is
    // not authorized to perform: sqs:sendmessage on resource: ..." (aws/serverless-application-model#3633);
    // 403 as SQS answers a denied send (MassTransit/MassTransit#1525: "ErrorCode":"AccessDenied", 403).
    case 'AccessDeniedException':
    case 'AccessDenied':
      return {
        code: 'AccessDenied',
        type: 'com.amazon.coral.service#AccessDeniedException',
        status: 403,
        fault: 'Sender',
      };
    // An unknown access key: "api error InvalidClientTokenId: The security token included in the request is
    // invalid." with StatusCode 403 on GetQueueUrl (argoproj/notifications-engine#382).
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
      return {
        code: 'InvalidClientTokenId',
        type: 'com.amazon.coral.service#UnrecognizedClientException',
        status: 403,
        fault: 'Sender',
      };
    case 'InvalidMessageContents':
    case 'InvalidAttributeName':
      return { code: name, type: `com.amazonaws.sqs#${name}`, status: 400, fault: 'Sender' };
    default:
      if (PREFIXED.has(name)) {
        return {
          code: `AWS.SimpleQueueService.${name}`,
          type: `com.amazonaws.sqs#${name}`,
          status: 400,
          fault: 'Sender',
        };
      }
      return { code: name, type: name, status, fault: sender };
  }
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF" (SendMessage, MessageBody). */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Every attribute name GetQueueAttributes accepts (SQS API Reference, GetQueueAttributes, AttributeNames).
 * The emulator answers the modelled ones (QueueArn, the message counts, CreatedTimestamp, RedrivePolicy when
 * set, Policy when set); the others are valid and left out of the answer.
 */
const ATTRIBUTE_NAMES = new Set([
  'All',
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'ApproximateNumberOfMessagesDelayed',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);

interface QueueRecord {
  name: string;
  region: string;
  arn: string;
  createdAt: number;
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
  policy?: string;
}

/** One account's SQS queues, the sending operations and the listeners accepted messages are handed to. */
export class SqsService {
  readonly account: string;
  /** `http://127.0.0.1:PORT`, set once the server listens (GetQueueUrl answers URLs on it). */
  endpoint = '';
  private readonly regions = new Map<string, Map<string, QueueRecord>>();
  private readonly listeners: Listeners<SqsMessage>;
  private readonly maxPayloadBytes: number;

  constructor(account: string, options: { maxPayloadBytes?: number; log?: (line: string) => void } = {}) {
    this.account = account;
    this.maxPayloadBytes = options.maxPayloadBytes ?? SQS_MAX_PAYLOAD_BYTES;
    this.listeners = new Listeners('sqs: onMessage listener', options.log ?? (() => {}));
  }

  onMessage(listener: (message: SqsMessage) => void): () => void {
    return this.listeners.add(listener);
  }

  queueArn(region: string, name: string): string {
    return `arn:${partitionOf(region)}:sqs:${region}:${this.account}:${name}`;
  }

  awsUrl(region: string, name: string): string {
    const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    return `https://sqs.${region}.${suffix}/${this.account}/${name}`;
  }

  localUrl(name: string): string {
    return `${this.endpoint}/${this.account}/${name}`;
  }

  private queuesOf(region: string): Map<string, QueueRecord> {
    let queues = this.regions.get(region);
    if (!queues) {
      queues = new Map();
      this.regions.set(region, queues);
    }
    return queues;
  }

  private info(q: QueueRecord): QueueInfo {
    return {
      name: q.name,
      region: q.region,
      url: this.awsUrl(q.region, q.name),
      localUrl: this.localUrl(q.name),
      arn: q.arn,
      createdAt: q.createdAt,
      ...(q.redrivePolicy ? { redrivePolicy: { ...q.redrivePolicy } } : {}),
      ...(q.policy !== undefined ? { policy: q.policy } : {}),
    };
  }

  /**
   * The queue a QueueUrl names: its last two path segments are `<account>/<name>` (any host: the SDK sends to
   * the endpoint, and the emulator's own URLs are on it). Undefined when it names no queue of this region.
   */
  findByUrl(region: string, queueUrl: unknown): QueueRecord | undefined {
    if (typeof queueUrl !== 'string') return undefined;
    let path: string;
    try {
      path = new URL(queueUrl).pathname;
    } catch {
      return undefined;
    }
    const [account, name] = path
      .split('/')
      .filter((s) => s.length > 0)
      .slice(-2);
    if (account !== this.account || name === undefined) return undefined;
    return this.queuesOf(region).get(name);
  }

  stateApi(now: () => number): SqsStateApi {
    return {
      createQueue: (region, name, options = {}) => {
        if (!QUEUE_NAME.test(name)) {
          throw new Error(
            `emulator sqs: invalid queue name ${name} (1-80 of [A-Za-z0-9_-]; FIFO queues are not modelled)`,
          );
        }
        const queues = this.queuesOf(region);
        if (queues.has(name)) throw new Error(`emulator sqs: queue ${name} exists in ${region}`);
        const target = options.redriveTo;
        const record: QueueRecord = {
          name,
          region,
          arn: this.queueArn(region, name),
          createdAt: now(),
          ...(target !== undefined
            ? {
                redrivePolicy: {
                  deadLetterTargetArn: target.startsWith('arn:') ? target : this.queueArn(region, target),
                  maxReceiveCount: options.maxReceiveCount ?? 10,
                },
              }
            : {}),
          ...(options.policy !== undefined
            ? { policy: typeof options.policy === 'string' ? options.policy : JSON.stringify(options.policy) }
            : {}),
        };
        queues.set(name, record);
        return this.info(record);
      },
      queue: (region, name) => {
        const q = this.queuesOf(region).get(name);
        return q ? this.info(q) : undefined;
      },
      queues: (region) =>
        [...this.queuesOf(region).values()]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((q) => this.info(q)),
    };
  }

  /**
   * The IAM checks of an SQS request ("Amazon SQS API permissions: Actions and resource reference"): the queue
   * ARN, its queue policy as resource policy. SendMessageBatch is authorized as sqs:SendMessage (SQS Developer
   * Guide, "Amazon SQS batch actions"); AWS's denial prints the action in lower case ("not authorized to
   * perform: sqs:sendmessage", aws/serverless-application-model#3633). No check for a queue that does not
   * exist: QueueDoesNotExist stays (as for KMS keys in this emulator).
   */
  checks(region: string, operation: string, input: Input): Check[] {
    const queue =
      operation === 'GetQueueUrl'
        ? typeof input.QueueName === 'string' &&
          (input.QueueOwnerAWSAccountId === undefined || input.QueueOwnerAWSAccountId === this.account)
          ? this.queuesOf(region).get(input.QueueName)
          : undefined
        : this.findByUrl(region, input.QueueUrl);
    if (!queue) return [];
    const action =
      operation === 'SendMessageBatch'
        ? 'sqs:SendMessage'
        : ['SendMessage', 'GetQueueUrl', 'GetQueueAttributes'].includes(operation)
          ? `sqs:${operation}`
          : undefined;
    if (!action) return [];
    return [
      {
        action,
        resource: queue.arn,
        ...(queue.policy !== undefined ? { resourcePolicy: JSON.parse(queue.policy) } : {}),
        context: {},
        actionInMessage: action.toLowerCase(),
      },
    ];
  }

  private existing(region: string, input: Input): QueueRecord {
    if (input.QueueUrl === undefined)
      fail('MissingParameter', 'The request must contain the parameter QueueUrl.');
    return (
      this.findByUrl(region, input.QueueUrl) ??
      fail('QueueDoesNotExist', 'The specified queue does not exist.')
    );
  }

  /** A message body and delay as SendMessage checks them; the error a batch entry fails with, or the values. */
  private validate(
    body: unknown,
    delay: unknown,
  ): { body: string; delaySeconds: number } | { code: string; message: string } {
    if (body === undefined)
      return { code: 'MissingParameter', message: 'The request must contain the parameter MessageBody.' };
    if (typeof body !== 'string')
      return { code: 'InvalidParameterValue', message: 'MessageBody must be a string.' };
    if (body.length === 0) {
      return {
        code: 'InvalidParameterValue',
        message: 'One or more parameters are invalid. Reason: Message must be at least one character.',
      };
    }
    if (Buffer.byteLength(body) > this.maxPayloadBytes) {
      return {
        code: 'InvalidParameterValue',
        message: `One or more parameters are invalid. Reason: Message must be shorter than ${this.maxPayloadBytes} bytes.`,
      };
    }
    if (INVALID_CHARACTER.test(body)) {
      return {
        code: 'InvalidMessageContents',
        message: 'Invalid binary character in the message body.',
      };
    }
    // "Valid values: 0 to 900. Maximum: 15 minutes." (SendMessage, DelaySeconds)
    const delaySeconds = delay === undefined ? 0 : Number(delay);
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      return {
        code: 'InvalidParameterValue',
        message: `Value ${String(delay)} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`,
      };
    }
    return { body, delaySeconds };
  }

  private accept(queue: QueueRecord, body: string, delaySeconds: number) {
    const message: SqsMessage = {
      region: queue.region,
      queueName: queue.name,
      queueUrl: this.awsUrl(queue.region, queue.name),
      messageId: randomUUID(),
      body,
      delaySeconds,
    };
    this.listeners.notify(message);
    // The SDK checks MD5OfMessageBody against the body it sent (@aws-sdk/middleware-sdk-sqs).
    return { MessageId: message.messageId, MD5OfMessageBody: md5(body) };
  }

  readonly handlers: Record<string, Handler> = {
    SendMessage: (ctx, input) => {
      const queue = this.existing(ctx.region, input);
      const checked = this.validate(input.MessageBody, input.DelaySeconds);
      if ('code' in checked) throw new ApiError(checked.code, checked.message);
      return this.accept(queue, checked.body, checked.delaySeconds);
    },

    SendMessageBatch: (ctx, input) => {
      const queue = this.existing(ctx.region, input);
      const entries = input.Entries;
      if (!Array.isArray(entries) || entries.length === 0) {
        fail(
          'EmptyBatchRequest',
          'There should be at least one SendMessageBatchRequestEntry in the request.',
        );
      }
      const list = entries as Record<string, unknown>[];
      if (list.length > SQS_MAX_BATCH_ENTRIES) {
        fail(
          'TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are ${SQS_MAX_BATCH_ENTRIES}. You have sent ${list.length}.`,
        );
      }
      const ids = new Set<string>();
      for (const entry of list) {
        const id = entry?.Id;
        if (typeof id !== 'string' || !BATCH_ID.test(id)) {
          fail(
            'InvalidBatchEntryId',
            'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
          );
        }
        if (ids.has(id as string)) fail('BatchEntryIdsNotDistinct', `Id ${String(id)} repeated.`);
        ids.add(id as string);
      }
      const total = list.reduce(
        (sum, e) => sum + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0),
        0,
      );
      if (total > this.maxPayloadBytes) {
        fail(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than ${this.maxPayloadBytes} bytes. You have sent ${total} bytes.`,
        );
      }
      // "The result of sending each message is reported individually in the response" (SendMessageBatch):
      // an entry SQS refuses is a Failed entry (BatchResultErrorEntry: Id, SenderFault, Code, Message).
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of list) {
        const checked = this.validate(entry.MessageBody, entry.DelaySeconds);
        if ('code' in checked) {
          Failed.push({ Id: entry.Id, SenderFault: true, Code: checked.code, Message: checked.message });
          continue;
        }
        Successful.push({ Id: entry.Id, ...this.accept(queue, checked.body, checked.delaySeconds) });
      }
      return { Successful, Failed };
    },

    GetQueueUrl: (ctx, input) => {
      if (input.QueueName === undefined) {
        fail('MissingParameter', 'The request must contain the parameter QueueName.');
      }
      const owner = input.QueueOwnerAWSAccountId;
      const queue =
        typeof input.QueueName === 'string' && (owner === undefined || owner === this.account)
          ? this.queuesOf(ctx.region).get(input.QueueName)
          : undefined;
      if (!queue) fail('QueueDoesNotExist', 'The specified queue does not exist.');
      // On the emulator's endpoint, not AWS's host: see QueueInfo.localUrl.
      return { QueueUrl: this.localUrl((queue as QueueRecord).name) };
    },

    GetQueueAttributes: (ctx, input) => {
      const queue = this.existing(ctx.region, input);
      const names = input.AttributeNames === undefined ? [] : input.AttributeNames;
      if (!Array.isArray(names)) fail('InvalidParameterValue', 'AttributeNames must be a list.');
      for (const name of names as unknown[]) {
        if (typeof name !== 'string' || !ATTRIBUTE_NAMES.has(name)) {
          fail('InvalidAttributeName', `Unknown Attribute ${String(name)}.`);
        }
      }
      const wanted = new Set(names as string[]);
      const all = wanted.has('All');
      const modelled: Record<string, string | undefined> = {
        QueueArn: queue.arn,
        // Accepted messages go to the listeners: the queue itself is always empty.
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
        RedrivePolicy: queue.redrivePolicy ? JSON.stringify(queue.redrivePolicy) : undefined,
        Policy: queue.policy,
      };
      const Attributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(modelled)) {
        if (value !== undefined && (all || wanted.has(name))) Attributes[name] = value;
      }
      return Object.keys(Attributes).length > 0 ? { Attributes } : {};
    },
  };
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}
