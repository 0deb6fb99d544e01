/**
 * Parsing the changes function's messages (functions/core/change-event.ts parseChangeEvent): later changes and
 * guard key checks are taken; a new log group or a sweep work item is the enforce function's (its own queue)
 * and is refused with the reason, so a misrouted message never reaches the wrong handling silently.
 */
import { describe, expect, it } from 'vitest';
import { KEY_CHECK_DETAIL_TYPE, keyCheckItem, parseChangeEvent } from '../../functions/core/change-event.ts';
import { SWEEP_SOURCE, sweepWorkItem } from '../../functions/core/event.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { loadEvent } from '../helpers.ts';

const home = { account: ACCOUNT, region: REGION };
const ENFORCE_ONLY = /the enforce function handles these, from its own queue/;

describe('parseChangeEvent', () => {
  it('refuses a CreateLogGroup event, saying the enforce function handles it', () => {
    // Prepare: a new group's event, which the CreateLogGroupRule sends to the enforce queue, not here
    const event = loadEvent('create-log-group-lambda.json');
    // Act
    const parsed = parseChangeEvent(event, home);
    // Assess
    expect(parsed).toMatchObject({ kind: 'rejected', name: '/aws/lambda/orders-api' });
    expect(parsed.kind === 'rejected' && parsed.reason).toMatch(ENFORCE_ONLY);
  });

  it('refuses a sweep work item, saying the enforce function handles it', () => {
    // Prepare: the sweep's work item (enqueue mode), which goes to the enforce queue
    const item = sweepWorkItem({ name: '/aws/lambda/x', region: REGION, account: ACCOUNT, runId: 'run-1' });
    // Act
    const parsed = parseChangeEvent(JSON.parse(JSON.stringify(item)), home);
    // Assess
    expect(parsed).toMatchObject({ kind: 'rejected', name: '/aws/lambda/x' });
    expect(parsed.kind === 'rejected' && parsed.reason).toMatch(ENFORCE_ONLY);
  });

  it('accepts the scheduled guard key check (KeyCheckScheduleRule, keyCheckItem)', () => {
    // Prepare: the check as the schedule's input transformer builds it, through JSON as the queue delivers it
    const item = JSON.parse(
      JSON.stringify(keyCheckItem({ region: REGION, account: ACCOUNT, id: 'sched-1' })),
    );
    // Act
    const parsed = parseChangeEvent(item, home);
    // Assess: a key check of this guard's region and account, handled once by its own id
    expect(item).toMatchObject({ source: 'logs-kms-guard.schedule', 'detail-type': KEY_CHECK_DETAIL_TYPE });
    expect(parsed).toEqual({
      kind: 'change',
      change: 'key-check',
      eventId: 'sched-1',
      region: REGION,
      account: ACCOUNT,
    });
  });

  it('accepts a key check from the sweep source too (logs-kms-guard.sweep)', () => {
    // Prepare: a key check sent with the sweep's source (as earlier sweeps did, still in a queue at an upgrade)
    const item = {
      ...keyCheckItem({ region: REGION, account: ACCOUNT, id: 'sweep-1' }),
      source: SWEEP_SOURCE,
    };
    // Act
    const parsed = parseChangeEvent(item, home);
    // Assess
    expect(item.source).toBe('logs-kms-guard.sweep');
    expect(parsed).toMatchObject({ kind: 'change', change: 'key-check', eventId: 'sweep-1', region: REGION });
  });

  it('refuses a key check for another region than its own', () => {
    const parsed = parseChangeEvent(keyCheckItem({ region: 'eu-west-1', account: ACCOUNT, id: 'c' }), home);
    expect(parsed).toMatchObject({ kind: 'rejected' });
    expect(parsed.kind === 'rejected' && parsed.reason).toMatch(/region "eu-west-1" is not this guard's/);
  });

  it('accepts a later change (DisassociateKmsKey), which is what this function is for', () => {
    const parsed = parseChangeEvent(loadEvent('logs-disassociate-kms-key.json'), home);
    expect(parsed).toMatchObject({ kind: 'change', change: 'disassociated', name: '/platform/audit' });
  });
});
