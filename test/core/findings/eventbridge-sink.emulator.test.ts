/**
 * The EventBridge sink (functions/core/findings/eventbridge-sink.ts) through the real SDK against the emulator's
 * PutEvents (local/emulator/eventbridge.ts), under IAM as the findings function's role would be: every event it
 * puts validates against docs/events.schema.json, and the grant (events:PutEvents on the default bus, only for
 * source logs-kms-guard) is enough and no wider.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { eventBridgeSink } from '../../../functions/core/findings/eventbridge-sink.ts';
import type { PutEvent } from '../../../local/emulator/eventbridge.ts';
import { ACCOUNT } from '../../../local/world.ts';
import { rejection, setup } from '../../local/emulator/helpers.ts';
import { validate } from './json-schema.ts';
import { SAMPLE_FINDINGS } from './sample-findings.ts';

const REGION = 'eu-west-1';
const root = path.resolve(import.meta.dirname, '..', '..', '..');
const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'events.schema.json'), 'utf8'));
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;

/** The statement docs/EVENTS.md gives the findings function's role. */
const GRANT = {
  Effect: 'Allow',
  Action: 'events:PutEvents',
  Resource: BUS,
  Condition: { StringEquals: { 'events:source': 'logs-kms-guard' } },
};

/** An emulator whose access key AKIDFINDINGS is a role with `statement`, and an EventBridge client signed by it. */
async function eventsSetup(statement: Record<string, unknown> = GRANT) {
  const principal = {
    arn: `arn:aws:iam::${ACCOUNT}:role/findings`,
    policies: [{ name: 'findings', policy: { Version: '2012-10-17', Statement: [statement] } }],
  };
  const world = await setup({ iam: { principals: { AKIDFINDINGS: principal }, admins: [] } }, REGION);
  const events: PutEvent[] = [];
  world.emulator.onPutEvent((e) => events.push(e));
  const client = new EventBridgeClient({
    region: REGION,
    endpoint: world.emulator.endpoint,
    credentials: { accessKeyId: 'AKIDFINDINGS', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  return { world, events, client };
}

/** The event as EventBridge delivers it to a rule's target (the envelope around what was put). */
const delivered = (e: PutEvent) => ({
  version: '0',
  id: e.id,
  'detail-type': e.detailType,
  source: e.source,
  account: e.account,
  time: e.time,
  region: e.region,
  resources: e.resources,
  detail: e.detail,
});

describe('EventBridge sink', () => {
  it('puts one event per finding, each valid against docs/events.schema.json', async () => {
    // Prepare
    const { events, client, world } = await eventsSetup();
    const findings = Array.from({ length: 4 }, () => SAMPLE_FINDINGS).flat();

    // Act
    await eventBridgeSink({ client }).send(findings);

    // Assess
    expect(events).toHaveLength(findings.length);
    for (const e of events) expect(validate(delivered(e), schema)).toEqual([]);
    expect(events.map((e) => e.detailType).slice(0, 5)).toEqual([
      'Log Group Not Encryptable',
      'Key At Risk',
      'Key Policy Repaired',
      'Log Group Fought Over',
      'Guard Unhealthy',
    ]);
    // 20 findings: two requests of 10.
    expect(world.emulator.calls.filter((c) => c.operation === 'PutEvents')).toHaveLength(2);
    expect(world.emulator.authorizations.every((a) => a.decision === 'Allowed')).toBe(true);
  });

  it('the grant admits no other source: a PutEvents as another product is AccessDeniedException', async () => {
    // Prepare
    const { client } = await eventsSetup();

    // Act
    const err = await rejection(
      client.send(
        new PutEventsCommand({ Entries: [{ Source: 'someone-else', DetailType: 'x', Detail: '{}' }] }),
      ),
    );

    // Assess
    expect(err.name).toBe('AccessDeniedException');
  });

  it('without the grant the sink fails, naming the denial', async () => {
    // Prepare
    const { client } = await eventsSetup({ ...GRANT, Resource: `${BUS}-other` });

    // Act
    const err = await rejection(eventBridgeSink({ client }).send(SAMPLE_FINDINGS));

    // Assess
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toContain('events:PutEvents');
  });

  it('entries EventBridge refuses are reported, the others are put (a bus that does not exist)', async () => {
    // Prepare
    const { client, events } = await eventsSetup({
      ...GRANT,
      Resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/*`,
    });

    // Act
    const err = await rejection(
      eventBridgeSink({ client, eventBusName: 'missing' }).send(SAMPLE_FINDINGS.slice(0, 2)),
    );

    // Assess
    expect(err.message).toMatch(
      /^EventBridge PutEvents: 2 event\(s\) not put: Log Group Not Encryptable .*ResourceNotFoundException/,
    );
    expect(events).toEqual([]);
  });
});
