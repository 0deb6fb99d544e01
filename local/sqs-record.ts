/**
 * One SQS record as Lambda's SQS event source delivers it (the shape of test/events/sqs-batch-two-events.json):
 * the local queue, the tests and the bench build their batches with it.
 */
export interface RecordInput {
  messageId: string;
  body: string;
  receiveCount?: number;
  sentAt?: number;
}

/** The SQS record Lambda would deliver for message `m` of queue `where.queueName`. */
export function sqsRecord(m: RecordInput, where: { region: string; account: string; queueName: string }) {
  const sent = String(m.sentAt ?? Date.now());
  return {
    messageId: m.messageId,
    receiptHandle: m.messageId,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount ?? 1),
      SentTimestamp: sent,
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${where.region}:${where.account}:${where.queueName}`,
    awsRegion: where.region,
  };
}
