/**
 * The emulator's intercept test hook (local/emulator/server.ts) through the real SDK: seeing each request,
 * and answering with an error, a lost success, a raw body, a hang or a delay.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import type { InterceptedRequest } from '../../../local/emulator/emulator.ts';
import { credentials } from '../../../local/world.ts';
import { rejection, setup } from './helpers.ts';

describe('intercept (test hook)', () => {
  it('sees every request with its input; undefined lets the emulator answer as usual', async () => {
    // Prepare
    const seen: InterceptedRequest[] = [];
    const { logs, emulator } = await setup({ intercept: (r) => void seen.push(r) });
    // Act
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/a', tags: { t: 'v' } }));
    // Assess
    expect(seen).toEqual([
      {
        service: 'logs',
        operation: 'CreateLogGroup',
        region: 'us-east-1',
        input: { logGroupName: '/a', tags: { t: 'v' } },
      },
    ]);
    expect(emulator.state.logGroup('us-east-1', '/a')).toBeDefined();
    expect(emulator.calls[0]?.intercepted).toBeUndefined();
  });

  it('error: any exception name and status, nothing changes, the CloudTrail event carries the error', async () => {
    // Prepare
    const { logs, emulator } = await setup({
      intercept: (r) =>
        r.operation === 'CreateLogGroup'
          ? { kind: 'error', name: 'FrobnicationException', message: 'never seen', status: 418 }
          : undefined,
    });
    const events: any[] = [];
    emulator.onEvent((e) => events.push(e));
    // Act
    const err = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: '/b' })));
    await new Promise((r) => setTimeout(r, 20));
    // Assess
    expect(err.name).toBe('FrobnicationException');
    expect(err.message).toBe('never seen');
    expect(err.$metadata?.httpStatusCode).toBe(418);
    expect(emulator.state.logGroup('us-east-1', '/b')).toBeUndefined();
    expect(emulator.calls[0]).toMatchObject({ error: 'FrobnicationException', intercepted: 'error' });
    expect(events[0]?.detail.errorCode).toBe('FrobnicationException');
  });

  it('applied: the work is done but the answer is the injected one (a lost success)', async () => {
    // Prepare
    const { kms, logs, emulator } = await setup({
      intercept: (r) =>
        r.operation === 'CreateAlias' || r.operation === 'CreateLogGroup'
          ? { kind: 'error', name: 'ServiceUnavailableException', status: 503, applied: true }
          : undefined,
    });
    const events: any[] = [];
    emulator.onEvent((e) => events.push(e));
    const key = await kms.send(new CreateKeyCommand({}));
    // Act
    const aliasErr = await rejection(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: key.KeyMetadata?.KeyId })),
    );
    const groupErr = await rejection(logs.send(new CreateLogGroupCommand({ logGroupName: '/c' })));
    await new Promise((r) => setTimeout(r, 20));
    // Assess
    expect(aliasErr.name).toBe('ServiceUnavailableException');
    expect(groupErr.name).toBe('ServiceUnavailableException');
    expect(emulator.state.key('us-east-1', 'alias/x')?.keyId).toBe(key.KeyMetadata?.KeyId);
    expect(emulator.state.logGroup('us-east-1', '/c')).toBeDefined();
    expect(events[0]?.detail.errorCode).toBeUndefined(); // CloudTrail records what happened
  });

  it('raw: the body and status as given (malformed JSON reaches the SDK as a deserialization error)', async () => {
    // Prepare
    const bodies = ['{"logGroups": [', '{}'];
    const { logs, emulator } = await setup({
      intercept: (r) =>
        r.operation === 'DescribeLogGroups' ? { kind: 'raw', body: bodies.shift() ?? '' } : undefined,
    });
    emulator.state.putLogGroup('us-east-1', '/d');
    // Act
    const garbled = await rejection(logs.send(new DescribeLogGroupsCommand({})));
    const empty = await logs.send(new DescribeLogGroupsCommand({}));
    // Assess
    expect(garbled.name).toBe('SyntaxError');
    expect(empty.logGroups).toBeUndefined();
    expect(emulator.calls.map((c) => c.intercepted)).toEqual(['raw', 'raw']);
  });

  it('hang: never answered; the client times out and stop() still returns', async () => {
    // Prepare
    const { emulator } = await setup({ intercept: () => ({ kind: 'hang' }) });
    const logs = new CloudWatchLogsClient({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      credentials,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    // Act
    const err = await rejection(logs.send(new DescribeLogGroupsCommand({})));
    // Assess
    expect(err.name).toBe('TimeoutError');
    expect(emulator.calls[0]?.intercepted).toBe('hang');
  });

  it('delay: answered normally once the promise settles, after calls that came later', async () => {
    // Prepare
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { kms } = await setup({
      intercept: (r) => (r.operation === 'CreateKey' ? { kind: 'delay', until: gate } : undefined),
    });
    const order: string[] = [];
    // Act
    const created = kms.send(new CreateKeyCommand({})).then((k) => {
      order.push('CreateKey');
      return k;
    });
    await rejection(kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })));
    order.push('DescribeKey');
    release();
    const key = await created;
    // Assess
    expect(order).toEqual(['DescribeKey', 'CreateKey']);
    expect(key.KeyMetadata?.KeyState).toBe('Enabled');
  });
});
