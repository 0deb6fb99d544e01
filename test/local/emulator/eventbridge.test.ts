/**
 * The emulator's EventBridge PutEvents (local/emulator/eventbridge.ts) through the real SDK: per-entry answers,
 * the request limits, and the condition keys IAM sees.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, credentials } from '../../../local/world.ts';
import { rejection, setup } from './helpers.ts';

const REGION = 'eu-west-1';

async function eventsSetup(options: Parameters<typeof setup>[0] = {}, accessKeyId = credentials.accessKeyId) {
  const env = await setup(options, REGION);
  const client = new EventBridgeClient({
    region: REGION,
    endpoint: env.emulator.endpoint,
    credentials: { ...credentials, accessKeyId },
    maxAttempts: 1,
  });
  return { ...env, client };
}

describe('EventBridge PutEvents', () => {
  it('answers per entry: an event id, or the reason (missing field, malformed detail, an aws. source)', async () => {
    // Prepare
    const { client, emulator } = await eventsSetup();

    // Act
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'app', DetailType: 'Thing', Detail: '{"a":1}', Resources: ['arn:aws:s3:::b'] },
          { Source: 'app', DetailType: 'Thing' },
          { Source: 'app', DetailType: 'Thing', Detail: '[1]' },
          { Source: 'aws.logs', DetailType: 'Thing', Detail: '{}' },
        ],
      }),
    );

    // Assess
    expect(out.FailedEntryCount).toBe(3);
    expect(out.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Entries?.slice(1).map((e) => e.ErrorCode)).toEqual([
      'InvalidArgument',
      'MalformedDetail',
      'NotAuthorizedForSourceException',
    ]);
    expect(emulator.state.putEvents(REGION)).toEqual([
      expect.objectContaining({
        source: 'app',
        detailType: 'Thing',
        detail: { a: 1 },
        resources: ['arn:aws:s3:::b'],
        eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
      }),
    ]);
  });

  it('refuses more than 10 entries, or none, as a ValidationException', async () => {
    // Prepare
    const { client } = await eventsSetup();
    const entry = { Source: 'app', DetailType: 'Thing', Detail: '{}' };

    // Act
    const tooMany = await rejection(client.send(new PutEventsCommand({ Entries: Array(11).fill(entry) })));
    const none = await rejection(client.send(new PutEventsCommand({ Entries: [] })));

    // Assess
    expect(tooMany.name).toBe('ValidationException');
    expect(none.name).toBe('ValidationException');
  });

  it('authorizes events:PutEvents on the bus with events:source and events:detail-type per entry', async () => {
    // Prepare
    const principal = {
      arn: `arn:aws:iam::${ACCOUNT}:role/Caller`,
      policies: [
        {
          name: 'p',
          policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'events:PutEvents',
                Resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
                Condition: { StringEquals: { 'events:detail-type': 'Allowed' } },
              },
            ],
          },
        },
      ],
    };
    const { client, emulator } = await eventsSetup(
      { iam: { principals: { AKIDCALLER: principal }, admins: [] } },
      'AKIDCALLER',
    );
    const put = (DetailType: string) =>
      client.send(new PutEventsCommand({ Entries: [{ Source: 'app', DetailType, Detail: '{}' }] }));

    // Act
    const ok = await put('Allowed');
    const err = await rejection(put('Other'));

    // Assess
    expect(ok.FailedEntryCount).toBe(0);
    expect(err.name).toBe('AccessDeniedException');
    expect(emulator.authorizations.map((a) => [a.action, a.decision])).toEqual([
      ['events:PutEvents', 'Allowed'],
      ['events:PutEvents', 'ImplicitlyDenied'],
    ]);
  });
});
