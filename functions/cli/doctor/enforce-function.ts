/**
 * The enforce function checks: the queue's consumer (its event source mapping) is enabled, and the function's
 * structured decision logs show no failed decision in the last day.
 */
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { parseArn } from '../../core/arn.ts';
import type { CliClients } from '../aws.ts';
import { type CheckInput, type CheckResult, couldNot, type Finding, finding } from './check.ts';

/** How far back `recent failures` looks. */
const RECENT_MS = 24 * 3600_000;

/**
 * `recent failures` (and `consumer` when the queue's event source mapping is not enabled): failed decisions
 * in the enforce function's logs (learns `enforceFunction`, from --function or the queue's consumer).
 */
export async function checkRecentFailures({
  clients,
  options,
  queueArn,
  now,
}: Pick<CheckInput, 'clients' | 'options' | 'queueArn' | 'now'>): Promise<CheckResult> {
  const findings: Finding[] = [];
  let fn = options.function;
  try {
    if (!fn && queueArn) {
      const consumer = await consumerOf(clients, queueArn);
      fn = consumer.fn;
      if (consumer.finding) findings.push(consumer.finding);
    }
    findings.push(
      fn
        ? await failuresOf(clients, fn, now)
        : finding(
            'recent failures',
            'warn',
            'could not check: the enforce function is unknown (pass --function NAME)',
          ),
    );
  } catch (err) {
    findings.push(couldNot('recent failures', err));
  }
  return { findings, learned: { enforceFunction: fn } };
}

/** The function the queue feeds (its first event source mapping), and a `consumer` failure when it is not enabled. */
async function consumerOf(
  clients: CliClients,
  queueArn: string,
): Promise<{ fn: string | undefined; finding?: Finding }> {
  const mappings = await clients
    .lambda()
    .send(new ListEventSourceMappingsCommand({ EventSourceArn: queueArn }));
  const m = mappings.EventSourceMappings?.[0];
  const fn = m?.FunctionArn
    ? parseArn(m.FunctionArn)
        ?.resource.replace(/^function:/, '')
        .split(':')[0]
    : undefined;
  if (m && m.State !== 'Enabled')
    return {
      fn,
      finding: finding(
        'consumer',
        'fail',
        `the queue's event source mapping is ${m.State}`,
        'enable it (aws lambda update-event-source-mapping --enabled)',
      ),
    };
  return { fn };
}

/** The `recent failures` finding from the function's decision logs: none, or how many and the latest reason. */
async function failuresOf(clients: CliClients, fn: string, now: number): Promise<Finding> {
  const out = await clients.logs.send(
    new FilterLogEventsCommand({
      logGroupName: `/aws/lambda/${fn}`,
      startTime: now - RECENT_MS,
      filterPattern: '{ $.outcome = "failed" }',
      limit: 50,
    }),
  );
  const events = out.events ?? [];
  if (events.length === 0)
    return finding('recent failures', 'ok', `no failed decision by ${fn} in the last 24 h`);
  let reason = '';
  try {
    reason = (JSON.parse(events.at(-1)?.message ?? '{}') as { reason?: string }).reason ?? '';
  } catch {}
  return finding(
    'recent failures',
    'warn',
    `${events.length}${out.nextToken ? '+' : ''} failed decision(s) by ${fn} in the last 24 h${reason ? `; latest: ${reason}` : ''}`,
    'see the function logs; run logs-kms-guard audit to find groups left unencrypted',
  );
}
