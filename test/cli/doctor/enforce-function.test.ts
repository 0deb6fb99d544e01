/**
 * The doctor's enforce function check (functions/cli/doctor/enforce-function.ts) against aws-sdk-client-mock:
 * the function named by --function or found as the queue's consumer, and the failed decisions in its log over
 * the last day.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { checkRecentFailures } from '../../../functions/cli/doctor/enforce-function.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';

const logs = mockClient(CloudWatchLogsClient);
const lambda = mockClient(LambdaClient);
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:events`;
const NOW = 1_800_000_000_000;

describe('checkRecentFailures', () => {
  beforeEach(() => {
    logs.reset();
    lambda.reset();
  });

  it('is ok when the function --function names logged no failed decision in the last day', async () => {
    // Prepare
    logs.on(FilterLogEventsCommand).resolves({ events: [] });

    // Act
    const result = await checkRecentFailures({
      clients: defaultClientFactory()(REGION),
      options: { function: 'enforce' },
      queueArn: QUEUE,
      now: NOW,
    });

    // Assess
    expect(result.findings).toEqual([
      { check: 'recent failures', status: 'ok', detail: 'no failed decision by enforce in the last 24 h' },
    ]);
    expect(result.learned).toEqual({ enforceFunction: 'enforce' });
    expect(lambda.calls()).toHaveLength(0);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/aws/lambda/enforce',
      startTime: NOW - 24 * 3600_000,
    });
  });

  it("finds the function from the queue's consumer, failing a consumer that is not enabled", async () => {
    // Prepare
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [
        { FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:guard-enforce:live`, State: 'Disabled' },
      ],
    });
    logs.on(FilterLogEventsCommand).resolves({ events: [] });

    // Act
    const result = await checkRecentFailures({
      clients: defaultClientFactory()(REGION),
      options: {},
      queueArn: QUEUE,
      now: NOW,
    });

    // Assess
    expect(result.findings.map((f) => [f.check, f.status])).toEqual([
      ['consumer', 'fail'],
      ['recent failures', 'ok'],
    ]);
    expect(result.findings[0]?.detail).toBe("the queue's event source mapping is Disabled");
    expect(result.learned).toEqual({ enforceFunction: 'guard-enforce' });
  });

  it('warns with the count and the latest reason, "+" when there are more', async () => {
    // Prepare
    logs.on(FilterLogEventsCommand).resolves({
      events: [{ message: '{"reason":"first"}' }, { message: '{"outcome":"failed","reason":"KMS denied"}' }],
      nextToken: 'more',
    });

    // Act
    const result = await checkRecentFailures({
      clients: defaultClientFactory()(REGION),
      options: { function: 'enforce' },
      now: NOW,
    });

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'recent failures',
        status: 'warn',
        detail: '2+ failed decision(s) by enforce in the last 24 h; latest: KMS denied',
        fix: 'see the function logs; run logs-kms-guard audit to find groups left unencrypted',
      },
    ]);
  });

  it('warns that it could not check when the function is unknown', async () => {
    // Act
    const result = await checkRecentFailures({
      clients: defaultClientFactory()(REGION),
      options: {},
      now: NOW,
    });

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'recent failures',
        status: 'warn',
        detail: 'could not check: the enforce function is unknown (pass --function NAME)',
      },
    ]);
    expect(result.learned).toEqual({ enforceFunction: undefined });
  });
});
