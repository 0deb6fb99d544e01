/**
 * The emulator records a call as an infrastructure-as-code tool's when a test asks (the request header of
 * local/emulator/trail-callers.ts): the userAgent, sourceIPAddress, invokedBy and console flag of the captured
 * events in test/events/logs-disassociate-kms-key-*.json, which the guard then recognises as that tool.
 */
import { readFileSync } from 'node:fs';
import { DisassociateKmsKeyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { recogniseTool } from '../../../functions/core/iac.ts';
import { TRAIL_CALLER_HEADER } from '../../../local/emulator/trail-callers.ts';
import { REGION } from '../../../local/world.ts';
import { sleep } from '../../helpers.ts';
import { setup } from './helpers.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

describe('x-emulator-trail-caller: the call recorded as a tool made it', () => {
  it.each([
    ['terraform', 'logs-disassociate-kms-key-terraform.json'],
    ['pulumi', 'logs-disassociate-kms-key-pulumi.json'],
    ['cloudformation', 'logs-disassociate-kms-key-cloudformation.json'],
    ['console', 'logs-disassociate-kms-key-console.json'],
    ['aws-cli', 'logs-disassociate-kms-key.json'],
  ])('%s, as in %s', async (tool, file) => {
    // Prepare
    const world = await setup({ throttle: false });
    const events: Record<string, any>[] = [];
    world.emulator.onEvent((e) => events.push(e as Record<string, any>));
    world.emulator.state.putLogGroup(REGION, '/platform/audit');
    world.logs.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers[TRAIL_CALLER_HEADER] = tool;
        return next(args);
      },
      { step: 'build', name: 'trailCaller' },
    );

    // Act
    await world.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/platform/audit' }));
    await sleep(50);

    // Assess
    const sample = fixture(file).detail;
    const detail = events[0]?.detail;
    expect(detail.userAgent).toBe(sample.userAgent);
    if (sample.userIdentity.invokedBy) {
      expect(detail.sourceIPAddress).toBe(sample.sourceIPAddress);
      expect(detail.userIdentity.invokedBy).toBe(sample.userIdentity.invokedBy);
    }
    expect(detail.sessionCredentialFromConsole).toBe(sample.sessionCredentialFromConsole);
    expect(recogniseTool(detail).tool).toBe(recogniseTool(sample).tool);
  });

  it('without the header (or an unknown name), the SDK request as it came', async () => {
    const world = await setup({ throttle: false });
    const events: Record<string, any>[] = [];
    world.emulator.onEvent((e) => events.push(e as Record<string, any>));
    world.emulator.state.putLogGroup(REGION, '/platform/audit');
    await world.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/platform/audit' }));
    await sleep(50);
    expect(events[0]?.detail.userAgent).toMatch(/aws-sdk-js/);
    expect(events[0]?.detail.userIdentity.invokedBy).toBeUndefined();
  });
});
