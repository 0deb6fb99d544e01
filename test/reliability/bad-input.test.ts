import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FUNCTION_ARN, loadEvent } from '../helpers.ts';

// Promise: malformed input of any shape costs zero AWS calls, never crashes, and leaves a logged reason.
const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const FULL = process.env.RELIABILITY_FULL === '1';
const RUNS = FULL ? 5_000 : 300;

const context = {
  invokedFunctionArn: FUNCTION_ARN,
  functionName: 'f',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const base = loadEvent('create-log-group-ecs-cli.json');
const clone = () => structuredClone(base);
const illegalName = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 513, maxLength: 2_000 }).map((s) => `/${'a'.repeat(513)}${s}`),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(s)),
  fc.constantFrom(
    "'; DROP TABLE log_groups; --",
    '$(rm -rf /)',
    '<script>alert(1)</script>',
    '{{7*7}}',
    '/aws/lambda/x\u0000y',
    '/aws/lambda/\u202eevil',
    '%2Faws%2Flambda',
    'arn:aws:logs:us-east-1:123456789012:log-group:/x',
  ),
  fc.anything().filter((v) => typeof v !== 'string'),
);
const notOurs = fc.oneof(
  fc.constantFrom('aws.s3', 'aws.kms', '', 'custom.app'),
  fc.anything().filter((v) => v !== 'aws.logs'),
);
const otherAccount = fc.stringMatching(/^\d{12}$/).filter((a) => a !== '123456789012');
const otherRegion = fc.constantFrom(
  'eu-west-1',
  'ap-south-1',
  'us-gov-west-1',
  'cn-north-1',
  'mars-1',
  'US-EAST-1',
);

/** Generators, each of which yields an event the guard must refuse without an AWS call. */
const badEvents: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything().filter((v) => !(v && typeof v === 'object' && 'Records' in v)),
  illegalName.map((name) => {
    const e = clone();
    e.detail.requestParameters.logGroupName = name;
    return e;
  }),
  notOurs.map((source) => ({ ...clone(), source })),
  fc.anything().map((dt) => ({ ...clone(), 'detail-type': dt === 'AWS API Call via CloudTrail' ? 'x' : dt })),
  fc
    .constantFrom('PutRetentionPolicy', 'DeleteLogGroup', 'createloggroup', 'CreateLogStream')
    .map((eventName) => {
      const e = clone();
      e.detail.eventName = eventName;
      return e;
    }),
  otherAccount.map((account) => {
    const e = clone();
    e.account = account;
    e.detail.recipientAccountId = account;
    return e;
  }),
  otherRegion.map((region) => {
    const e = clone();
    e.region = region;
    e.detail.awsRegion = region;
    return e;
  }),
  fc.string().map((errorCode) => {
    const e = clone();
    e.detail.errorCode = errorCode || 'AccessDenied';
    return e;
  }),
  fc.anything().map((detail) => ({ ...clone(), detail: typeof detail === 'object' ? detail : { detail } })),
  fc.anything().map((requestParameters) => {
    const e = clone();
    e.detail.requestParameters =
      requestParameters && typeof requestParameters === 'object' && !Array.isArray(requestParameters)
        ? { ...requestParameters, logGroupName: 42 }
        : requestParameters;
    return e;
  }),
  fc.dictionary(fc.string(), fc.anything()).map((tags) => {
    const e = clone();
    e.detail.requestParameters.tags = { ...tags, bad: 7 };
    return e;
  }),
);

describe('bad input', () => {
  let handler: (event: unknown, ctx: Context) => Promise<{ outcome: string; reason: string }>;
  let checked = 0;

  beforeAll(async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    handler = (await import('../../functions/enforce.ts')).handler as never;
  });
  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    console.log(
      `bad input: ${checked} generated events refused, AWS calls made: ${kms.calls().length + logs.calls().length}`,
    );
  });

  it(`refuses ${RUNS} generated malformed events with zero AWS calls and a reason`, async () => {
    await fc.assert(
      fc.asyncProperty(badEvents, async (event) => {
        checked++;
        const before = kms.calls().length + logs.calls().length;
        const result = await handler(event, context);
        expect(['rejected-input', 'ignored-failed-call']).toContain(result.outcome);
        expect(result.reason.length).toBeGreaterThan(5);
        expect(kms.calls().length + logs.calls().length - before).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a huge payload quickly and with a short log line', async () => {
    const e = clone();
    e.detail.requestParameters.logGroupName = `/x/${'y'.repeat(5_000_000)}`;
    const result = await handler(e, context);
    expect(result.outcome).toBe('rejected-input');
    expect(JSON.stringify(result).length).toBeLessThan(2_000);
    expect(kms.calls().length + logs.calls().length).toBe(0);
  });

  it('rejects malformed SQS bodies without failing the batch', async () => {
    const template = loadEvent('sqs-batch-two-events.json').Records[0];
    const bodies = [
      '',
      'null',
      '[]',
      '{"source":"aws.logs"}',
      'x'.repeat(300_000),
      '{"detail":',
      JSON.stringify({ Records: [] }),
    ];
    const event = { Records: bodies.map((body, i) => ({ ...template, messageId: `m${i}`, body })) };
    const result = (await handler(event, context)) as unknown as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toEqual([]);
    expect(kms.calls().length + logs.calls().length).toBe(0);
  });
});
