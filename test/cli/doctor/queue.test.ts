/**
 * The doctor's queue check (functions/cli/doctor/queue.ts) against aws-sdk-client-mock: the depth of the
 * queue the rule check found, and its dead-letter queue (missing, unreadable, or holding messages to
 * redrive).
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { checkQueue } from '../../../functions/cli/doctor/queue.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';

const sqs = mockClient(SQSClient);
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:events`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:events-dlq`;
const url = (name: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;

/** The queue (with a dead-letter queue unless `redrive` is false) and the DLQ holding `dlqDepth` messages. */
function queues(options: { redrive?: boolean; dlqDepth?: number } = {}) {
  sqs.on(GetQueueUrlCommand, { QueueName: 'events' }).resolves({ QueueUrl: url('events') });
  sqs.on(GetQueueUrlCommand, { QueueName: 'events-dlq' }).resolves({ QueueUrl: url('events-dlq') });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: url('events') }).resolves({
    Attributes: {
      ApproximateNumberOfMessages: '3',
      ApproximateNumberOfMessagesNotVisible: '1',
      ...(options.redrive === false
        ? {}
        : { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ, maxReceiveCount: 5 }) }),
    },
  });
  sqs
    .on(GetQueueAttributesCommand, { QueueUrl: url('events-dlq') })
    .resolves({ Attributes: { ApproximateNumberOfMessages: String(options.dlqDepth ?? 0) } });
}

describe('checkQueue', () => {
  beforeEach(() => {
    sqs.reset();
  });

  it('finds nothing, and calls nothing, without a queue from the rule check', async () => {
    // Act
    const result = await checkQueue({ clients: defaultClientFactory()(REGION) });

    // Assess
    expect(result.findings).toEqual([]);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('reports the queue depth and an empty dead-letter queue', async () => {
    // Prepare
    queues();

    // Act
    const result = await checkQueue({ clients: defaultClientFactory()(REGION), queueArn: QUEUE });

    // Assess
    expect(result.findings).toEqual([
      { check: 'queue', status: 'ok', detail: `${url('events')} (3 waiting, 1 in flight)` },
      { check: 'dlq', status: 'ok', detail: `${url('events-dlq')} is empty` },
    ]);
    expect(sqs.commandCalls(GetQueueUrlCommand)[0]?.args[0].input).toEqual({
      QueueName: 'events',
      QueueOwnerAWSAccountId: ACCOUNT,
    });
  });

  // Since issue 19 the queue refuses a redrive (only the rules and the sweep may send): the fix is `enforce`.
  it('warns about messages in the dead-letter queue, with how to get their groups encrypted', async () => {
    // Prepare
    queues({ dlqDepth: 4 });

    // Act
    const result = await checkQueue({ clients: defaultClientFactory()(REGION), queueArn: QUEUE });

    // Assess
    expect(result.findings[1]).toMatchObject({
      check: 'dlq',
      status: 'warn',
      detail: `4 message(s) in ${url('events-dlq')}: log groups the guard could not encrypt`,
      fix: expect.stringContaining('logs-kms-guard enforce'),
    });
  });

  it('warns when the queue has no dead-letter queue', async () => {
    // Prepare
    queues({ redrive: false });

    // Act
    const result = await checkQueue({ clients: defaultClientFactory()(REGION), queueArn: QUEUE });

    // Assess
    expect(result.findings[1]).toEqual({
      check: 'dlq',
      status: 'warn',
      detail: 'the queue has no dead-letter queue: failures are retried until they expire',
      fix: 'redeploy the stack',
    });
  });

  it('warns under the queue label when the dead-letter queue cannot be read', async () => {
    // Prepare
    queues();
    sqs
      .on(GetQueueUrlCommand, { QueueName: 'events-dlq' })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: {} }));

    // Act
    const result = await checkQueue({ clients: defaultClientFactory()(REGION), queueArn: QUEUE });

    // Assess
    expect(result.findings.map((f) => [f.check, f.status])).toEqual([
      ['queue', 'ok'],
      ['queue', 'warn'],
    ]);
  });
});
