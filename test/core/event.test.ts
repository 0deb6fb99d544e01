/**
 * Parsing the queue's messages (functions/core/event.ts): CreateLogGroup CloudTrail events (the captured
 * samples in test/events and variations of them), which are accepted, ignored or rejected with a reason, and
 * the sweep's work items; the changes function's events (later changes, key checks) are rejected: their parser
 * is functions/core/change-event.ts (test/core/change-event.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { keyCheckItem } from '../../functions/core/change-event.ts';
import { parseCreateLogGroupEvent, sweepWorkItem } from '../../functions/core/event.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { loadEvent } from '../helpers.ts';

const home = { account: ACCOUNT, region: REGION };

describe('parseCreateLogGroupEvent', () => {
  it.each([
    ['create-log-group-lambda.json', '/aws/lambda/orders-api'],
    ['create-log-group-cloudformation.json', 'payments-prod-ApiAccessLogs-1F3K9QZ7XW2B'],
    ['create-log-group-ecs-cli.json', '/ecs/checkout-service'],
  ])('accepts the captured event %s', (file, name) => {
    // Prepare
    const event = loadEvent(file);
    // Act
    const parsed = parseCreateLogGroupEvent(event, home);
    // Assess
    expect(parsed).toMatchObject({ kind: 'create', name, region: REGION, account: ACCOUNT });
    expect(parsed.eventId).toBe(event.detail.eventID);
  });

  it('carries the tags and the requested key of the create call', () => {
    const parsed = parseCreateLogGroupEvent(loadEvent('create-log-group-with-kms-key.json'), home);
    expect(parsed).toMatchObject({
      kind: 'create',
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718',
      tags: { owner: 'security' },
    });
  });

  it('marks a failed call as ignored, not rejected', () => {
    const parsed = parseCreateLogGroupEvent(loadEvent('create-log-group-failed-already-exists.json'), home);
    expect(parsed.kind).toBe('failed-call');
    expect(parsed.kind === 'failed-call' && parsed.reason).toContain('ResourceAlreadyExistsException');
  });

  it('rejects another Logs API call', () => {
    const parsed = parseCreateLogGroupEvent(loadEvent('put-retention-policy.json'), home);
    expect(parsed).toMatchObject({ kind: 'rejected' });
    expect(parsed.kind === 'rejected' && parsed.reason).toContain('PutRetentionPolicy');
  });

  const variations: [string, (e: Record<string, any>) => unknown, RegExp][] = [
    ['not an object', () => 'CreateLogGroup', /not a JSON object/],
    ['null', () => null, /not a JSON object/],
    ['an array', () => [], /not a JSON object/],
    ['another source', (e) => ({ ...e, source: 'aws.s3' }), /source/],
    ['another detail-type', (e) => ({ ...e, 'detail-type': 'Scheduled Event' }), /detail-type/],
    ['no detail', (e) => ({ ...e, detail: undefined }), /detail is missing/],
    [
      'another eventSource',
      (e) => ({ ...e, detail: { ...e.detail, eventSource: 'kms.amazonaws.com' } }),
      /eventSource/,
    ],
    [
      'no requestParameters',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: null } }),
      /requestParameters/,
    ],
    [
      'a name with a space',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: 'a b' } } }),
      /not a log group name/,
    ],
    [
      'a name of 513 characters',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: 'a'.repeat(513) } } }),
      /not a log group name/,
    ],
    [
      'an empty name',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: '' } } }),
      /not a log group name/,
    ],
    [
      'a numeric name',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: 42 } } }),
      /not a log group name/,
    ],
    [
      'an injection-looking name',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: "x'; DROP TABLE--" } } }),
      /not a log group name/,
    ],
    [
      'another region',
      (e) => ({ ...e, region: 'eu-west-1', detail: { ...e.detail, awsRegion: 'eu-west-1' } }),
      /region eu-west-1/,
    ],
    ['regions that disagree', (e) => ({ ...e, region: 'eu-west-1' }), /disagree/],
    [
      'another account',
      (e) => ({ ...e, account: '210987654321', detail: { ...e.detail, recipientAccountId: '210987654321' } }),
      /account 210987654321/,
    ],
    [
      'a malformed account',
      (e) => ({ ...e, account: 'abc', detail: { ...e.detail, recipientAccountId: 'abc' } }),
      /account/,
    ],
    [
      'tags that are not strings',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: '/x', tags: { a: 1 } } } }),
      /tags/,
    ],
    [
      'a kmsKeyId that is not a string',
      (e) => ({ ...e, detail: { ...e.detail, requestParameters: { logGroupName: '/x', kmsKeyId: {} } } }),
      /kmsKeyId/,
    ],
  ];
  it.each(variations)('rejects %s with a reason', (_label, change, reason) => {
    // Prepare
    const event = change(loadEvent('create-log-group-ecs-cli.json'));
    // Act
    const parsed = parseCreateLogGroupEvent(event, home);
    // Assess
    expect(parsed.kind).toBe('rejected');
    expect(parsed.kind === 'rejected' && parsed.reason).toMatch(reason);
  });

  it('rejects a later change (a DisassociateKmsKey event): the changes function handles those, not this parser', () => {
    // Prepare: a change the KeyChangesRule routes to the changes queue, here reaching the enforce function's parser
    const event = loadEvent('logs-disassociate-kms-key.json');
    // Act
    const parsed = parseCreateLogGroupEvent(event, home);
    // Assess: refused with the reason, not taken for a new group
    expect(parsed).toMatchObject({ kind: 'rejected', eventId: event.detail.eventID });
    expect(parsed.kind === 'rejected' && parsed.reason).toMatch(
      /eventName is "DisassociateKmsKey", not "CreateLogGroup"/,
    );
  });

  it('rejects a guard key check: the enforce function creates no key (the changes function checks it)', () => {
    const parsed = parseCreateLogGroupEvent(
      keyCheckItem({ region: REGION, account: ACCOUNT, id: 'check-1' }),
      home,
    );
    expect(parsed).toMatchObject({ kind: 'rejected', eventId: 'check-1' });
    expect(parsed.kind === 'rejected' && parsed.reason).toMatch(/source is "logs-kms-guard.schedule"/);
  });

  it('accepts any account and region when the function does not know its own', () => {
    const event = loadEvent('create-log-group-eu-west-1.json');
    const parsed = parseCreateLogGroupEvent(event, { account: undefined, region: undefined });
    expect(parsed).toMatchObject({ kind: 'create', region: 'eu-west-1', name: '/ecs/inventory-worker' });
  });

  it('clips a huge name in the rejection so logs stay small', () => {
    const event = loadEvent('create-log-group-ecs-cli.json');
    event.detail.requestParameters.logGroupName = `/${'x'.repeat(1_000_000)}`;
    const parsed = parseCreateLogGroupEvent(event, home);
    expect(parsed.kind).toBe('rejected');
    expect(JSON.stringify(parsed).length).toBeLessThan(2_000);
  });
});

describe('sweepWorkItem', () => {
  it('round-trips through the parser', () => {
    const item = sweepWorkItem({ name: '/aws/lambda/x', region: REGION, account: ACCOUNT, runId: 'run-1' });
    const parsed = parseCreateLogGroupEvent(JSON.parse(JSON.stringify(item)), home);
    expect(parsed).toMatchObject({ kind: 'create', name: '/aws/lambda/x', region: REGION, account: ACCOUNT });
  });

  it('rejects a work item for another account', () => {
    const item = sweepWorkItem({ name: '/x', region: REGION, account: '210987654321', runId: 'r' });
    expect(parseCreateLogGroupEvent(item, home).kind).toBe('rejected');
  });
});
