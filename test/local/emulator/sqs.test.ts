/**
 * The emulator's SQS (local/emulator/sqs.ts) through the real SDK: the JSON wire protocol, batch results and
 * limits, AWS's errors, queue URLs and attributes, intercept, and authorization under IAM.
 */
import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { SqsMessage } from '../../../local/emulator/sqs.ts';
import { ACCOUNT, credentials } from '../../../local/world.ts';
import { rejection, setup } from './helpers.ts';

const REGION = 'eu-west-1';
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:work`;

/** An emulator with a queue `work`, an SQS client on it (no retries) and every accepted message. */
async function sqsSetup(options: Parameters<typeof setup>[0] = {}, accessKeyId = credentials.accessKeyId) {
  const env = await setup(options, REGION);
  const queue = env.emulator.state.createQueue(REGION, 'work');
  const messages: SqsMessage[] = [];
  env.emulator.onMessage((m) => messages.push(m));
  const sqs = new SQSClient({
    region: REGION,
    endpoint: env.emulator.endpoint,
    credentials: { ...credentials, accessKeyId },
    maxAttempts: 1,
  });
  return { ...env, queue, messages, sqs };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('SQS wire protocol (awsJson1_0 as @aws-sdk/client-sqs speaks it)', () => {
  it('SendMessage hands the message to onMessage listeners and answers its MessageId and body MD5', async () => {
    // Prepare
    const { sqs, queue, messages, emulator } = await sqsSetup();

    // Act
    const out = await sqs.send(new SendMessageCommand({ QueueUrl: queue.localUrl, MessageBody: 'héllo' }));

    // Assess: the SDK's MD5 check passed (it throws otherwise), the listener got the message
    expect(out.MD5OfMessageBody).toBe(md5('héllo'));
    expect(messages).toEqual([
      {
        region: REGION,
        queueName: 'work',
        queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/work`,
        messageId: out.MessageId,
        body: 'héllo',
        delaySeconds: 0,
      },
    ]);
    expect(emulator.calls.at(-1)).toMatchObject({ service: 'sqs', operation: 'SendMessage', region: REGION });
  });

  it('accepts any QueueUrl whose last two path segments are the account and the queue name', async () => {
    // Prepare
    const { sqs, messages } = await sqsSetup();

    // Act: the AWS form, as the template's Ref gives it (the client has an explicit endpoint, so it stays local)
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/work`,
        MessageBody: 'x',
        DelaySeconds: 5,
      }),
    );

    // Assess
    expect(messages.map((m) => [m.queueName, m.delaySeconds])).toEqual([['work', 5]]);
  });

  it('SendMessageBatch answers Successful and Failed per entry, as AWS does', async () => {
    // Prepare
    const { sqs, queue, messages } = await sqsSetup();

    // Act
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.localUrl,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two', DelaySeconds: 901 },
          { Id: 'c', MessageBody: 'three', DelaySeconds: 900 },
        ],
      }),
    );

    // Assess
    expect(out.Successful?.map((s) => [s.Id, s.MD5OfMessageBody])).toEqual([
      ['a', md5('one')],
      ['c', md5('three')],
    ]);
    expect(out.Failed).toEqual([
      expect.objectContaining({ Id: 'b', SenderFault: true, Code: 'InvalidParameterValue' }),
    ]);
    expect(messages.map((m) => [m.body, m.delaySeconds])).toEqual([
      ['one', 0],
      ['three', 900],
    ]);
  });

  it('refuses more than 10 entries, an empty batch, repeated ids, and a batch over the payload limit', async () => {
    // Prepare
    const { sqs, queue, messages } = await sqsSetup({ sqsMaxPayloadBytes: 262_144 });
    const entries = (n: number, body = 'x') =>
      Array.from({ length: n }, (_, i) => ({ Id: String(i), MessageBody: body }));

    // Act
    const tooMany = await rejection(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.localUrl, Entries: entries(11) })),
    );
    const empty = await rejection(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.localUrl, Entries: [] })),
    );
    const repeated = await rejection(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.localUrl,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
      ),
    );
    const tooLong = await rejection(
      sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queue.localUrl, Entries: entries(3, 'x'.repeat(100_000)) }),
      ),
    );

    // Assess: the SDK's own exception classes, nothing accepted
    expect(tooMany).toBeInstanceOf(TooManyEntriesInBatchRequest);
    expect(tooMany.message).toBe('Maximum number of entries per request are 10. You have sent 11.');
    expect(empty.name).toBe('EmptyBatchRequest');
    expect(repeated.name).toBe('BatchEntryIdsNotDistinct');
    expect(tooLong.name).toBe('BatchRequestTooLong');
    expect(tooLong.$metadata?.httpStatusCode).toBe(400);
    expect(messages).toEqual([]);
  });

  it('a queue that does not exist is QueueDoesNotExist, with the query-era code as well', async () => {
    // Prepare
    const { sqs } = await sqsSetup();

    // Act
    const send = await rejection(
      sqs.send(new SendMessageCommand({ QueueUrl: `http://127.0.0.1/${ACCOUNT}/missing`, MessageBody: 'x' })),
    );
    const otherAccount = await rejection(
      sqs.send(new SendMessageCommand({ QueueUrl: 'http://127.0.0.1/210987654321/work', MessageBody: 'x' })),
    );
    const url = await rejection(sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' })));

    // Assess
    for (const err of [send, otherAccount, url]) {
      expect(err).toBeInstanceOf(QueueDoesNotExist);
      expect(err.message).toBe('The specified queue does not exist.');
      expect((err as { Code?: string }).Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
    }
  });

  it('InvalidParameterValue for a bad DelaySeconds, an empty body and a body over the limit', async () => {
    // Prepare
    const { sqs, queue } = await sqsSetup({ sqsMaxPayloadBytes: 1000 });

    // Act
    const errors = await Promise.all([
      rejection(
        sqs.send(new SendMessageCommand({ QueueUrl: queue.localUrl, MessageBody: 'x', DelaySeconds: -1 })),
      ),
      rejection(sqs.send(new SendMessageCommand({ QueueUrl: queue.localUrl, MessageBody: '' }))),
      rejection(
        sqs.send(new SendMessageCommand({ QueueUrl: queue.localUrl, MessageBody: 'x'.repeat(1001) })),
      ),
    ]);

    // Assess
    expect(errors.map((e) => e.name)).toEqual([
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
    ]);
    expect(errors[2]?.message).toBe(
      'One or more parameters are invalid. Reason: Message must be shorter than 1000 bytes.',
    );
  });

  it('GetQueueUrl answers a URL on the emulator endpoint; GetQueueAttributes the modelled attributes', async () => {
    // Prepare
    const { sqs, emulator } = await sqsSetup();
    emulator.state.createQueue(REGION, 'with-dlq', { redriveTo: 'work', maxReceiveCount: 5 });

    // Act
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'with-dlq' }));
    const all = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    const some = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }),
    );
    const none = await sqs.send(new GetQueueAttributesCommand({ QueueUrl }));
    const unknown = await rejection(
      sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Nope' as never] })),
    );

    // Assess
    expect(QueueUrl).toBe(`${emulator.endpoint}/${ACCOUNT}/with-dlq`);
    expect(all.Attributes).toMatchObject({
      QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:with-dlq`,
      ApproximateNumberOfMessages: '0',
    });
    expect(JSON.parse(all.Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: QUEUE_ARN,
      maxReceiveCount: 5,
    });
    expect(some.Attributes).toEqual({ QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:with-dlq` });
    expect(none.Attributes).toBeUndefined();
    expect(unknown.name).toBe('InvalidAttributeName');
  });

  it('intercept sees SQS requests and may answer with any SQS error', async () => {
    // Prepare
    const { sqs, queue, messages, emulator } = await sqsSetup({
      intercept: (r) =>
        r.service === 'sqs' && r.operation === 'SendMessageBatch'
          ? { kind: 'error', name: 'QueueDoesNotExist', message: 'gone' }
          : undefined,
    });

    // Act
    const err = await rejection(
      sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queue.localUrl, Entries: [{ Id: '1', MessageBody: 'x' }] }),
      ),
    );

    // Assess
    expect(err).toBeInstanceOf(QueueDoesNotExist);
    expect(messages).toEqual([]);
    expect(emulator.calls.at(-1)).toMatchObject({ error: 'QueueDoesNotExist', intercepted: 'error' });
  });
});

describe('SQS authorization (iam)', () => {
  const ROLE_KEY = 'AKIDSENDER';
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/Sender`;
  const withPolicy = (statements: Record<string, unknown>[]) => ({
    iam: {
      principals: {
        [ROLE_KEY]: {
          arn: roleArn,
          policies: [{ name: 'p', policy: { Version: '2012-10-17', Statement: statements } }],
        },
      },
      admins: ['test'],
    },
  });

  it('SendMessageBatch is authorized as sqs:SendMessage on the queue ARN; a denial is AccessDenied in AWS text', async () => {
    // Prepare
    const allowed = await sqsSetup(
      withPolicy([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE_ARN }]),
      ROLE_KEY,
    );
    const denied = await sqsSetup(
      withPolicy([{ Effect: 'Allow', Action: 'sqs:GetQueueUrl', Resource: QUEUE_ARN }]),
      ROLE_KEY,
    );
    const batch = (q: { localUrl: string }) =>
      new SendMessageBatchCommand({ QueueUrl: q.localUrl, Entries: [{ Id: '1', MessageBody: 'x' }] });

    // Act
    const ok = await allowed.sqs.send(batch(allowed.queue));
    const err = await rejection(denied.sqs.send(batch(denied.queue)));
    const url = await denied.sqs.send(new GetQueueUrlCommand({ QueueName: 'work' }));

    // Assess
    expect(ok.Successful).toHaveLength(1);
    expect(allowed.emulator.authorizations).toEqual([
      expect.objectContaining({
        operation: 'SendMessageBatch',
        action: 'sqs:SendMessage',
        resource: QUEUE_ARN,
        decision: 'Allowed',
      }),
    ]);
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/Sender/${ROLE_KEY} is not authorized to perform: sqs:sendmessage on resource: ${QUEUE_ARN} because no identity-based policy allows the sqs:sendmessage action`,
    );
    expect(denied.messages).toEqual([]);
    expect(url.QueueUrl).toContain('/work');
  });

  it('a queue policy naming the role grants by itself; an unknown key is InvalidClientTokenId', async () => {
    // Prepare
    const env = await setup(withPolicy([]), REGION);
    env.emulator.state.createQueue(REGION, 'work', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: roleArn }, Action: 'sqs:SendMessage', Resource: QUEUE_ARN },
        ],
      },
    });
    const client = (accessKeyId: string) =>
      new SQSClient({
        region: REGION,
        endpoint: env.emulator.endpoint,
        credentials: { accessKeyId, secretAccessKey: 'x' },
        maxAttempts: 1,
      });
    const url = `${env.emulator.endpoint}/${ACCOUNT}/work`;

    // Act
    const sent = await client(ROLE_KEY).send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const attributes = await rejection(
      client(ROLE_KEY).send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })),
    );
    const stranger = await rejection(
      client('AKIDUNKNOWN').send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
    );

    // Assess
    expect(sent.MessageId).toBeDefined();
    expect(attributes.name).toBe('AccessDenied');
    expect(stranger.name).toBe('InvalidClientTokenId');
    expect(stranger.$metadata?.httpStatusCode).toBe(403);
  });
});
