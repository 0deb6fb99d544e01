/**
 * The queue checks: the SQS queue between the EventBridge rule and the enforce function (how much is waiting),
 * and its dead-letter queue, where the log groups the guard could not encrypt end up.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { parseArn } from '../../core/arn.ts';
import type { CliClients } from '../aws.ts';
import { type CheckInput, type CheckResult, couldNot, type Finding, finding } from './check.ts';

/** `queue` and `dlq`: the rule's queue, its depth, and its dead-letter queue, which should be empty. */
export async function checkQueue({
  clients,
  queueArn,
}: Pick<CheckInput, 'clients' | 'queueArn'>): Promise<CheckResult> {
  if (!queueArn) return { findings: [] };
  const findings: Finding[] = [];
  try {
    const { url, attrs } = await queueAttributes(clients, queueArn);
    findings.push(
      finding(
        'queue',
        'ok',
        `${url} (${attrs.ApproximateNumberOfMessages ?? '?'} waiting, ${attrs.ApproximateNumberOfMessagesNotVisible ?? '?'} in flight)`,
      ),
    );
    findings.push(await dlqFinding(clients, attrs.RedrivePolicy));
  } catch (err) {
    // One label for both: the dead-letter queue is found through the queue's redrive policy.
    findings.push(couldNot('queue', err));
  }
  return { findings };
}

/** The `dlq` finding from the queue's RedrivePolicy attribute: none, empty, or holding failed groups. */
async function dlqFinding(clients: CliClients, redrivePolicy: string | undefined): Promise<Finding> {
  const redrive = redrivePolicy ? (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: string }) : undefined;
  if (!redrive?.deadLetterTargetArn)
    return finding(
      'dlq',
      'warn',
      'the queue has no dead-letter queue: failures are retried until they expire',
      'redeploy the stack',
    );
  const dlq = await queueAttributes(clients, redrive.deadLetterTargetArn);
  const depth = Number(dlq.attrs.ApproximateNumberOfMessages ?? 0);
  if (depth > 0)
    return finding(
      'dlq',
      'warn',
      `${depth} message(s) in ${dlq.url}: log groups the guard could not encrypt`,
      // The enforce queue refuses every sender but the guard's rules and sweep: a redrive into it is refused.
      "read them (aws sqs receive-message), fix the cause, then run `logs-kms-guard enforce` in this region (the queue accepts only the guard's rules and sweep, so a redrive is refused) and purge the DLQ (aws sqs purge-queue)",
    );
  return finding('dlq', 'ok', `${dlq.url} is empty`);
}

/** A queue's URL and every attribute, from its ARN (the owner account named, for a queue of another account). */
async function queueAttributes(clients: CliClients, arn: string) {
  const parts = parseArn(arn);
  const name = parts?.resource ?? arn;
  const { QueueUrl: url } = await clients.sqs().send(
    new GetQueueUrlCommand({
      QueueName: name,
      ...(parts?.account ? { QueueOwnerAWSAccountId: parts.account } : {}),
    }),
  );
  const out = await clients
    .sqs()
    .send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return { url: url ?? name, attrs: out.Attributes ?? {} };
}
