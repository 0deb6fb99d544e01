/**
 * A paced call's attempts and the SDK's retries (functions/core/token-bucket.ts singleAttempt): a real
 * CloudWatch Logs client with the guard's retry settings (standard mode, several attempts), answered by a
 * fake HTTP handler, so that the SDK's own retry middleware would run if nothing replaced it. A throttled
 * attempt must come back through the bucket (a token taken, the throttle reported), not be sent again by the
 * SDK behind it. Fake clock; no timed assertion.
 */
import { Readable } from 'node:stream';
import { CloudWatchLogsClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { associateKey } from '../../functions/core/associate.ts';
import { CLIENT_SETTINGS } from '../../functions/core/clients.ts';
import { silentLog } from '../../functions/core/log.ts';
import { readTags } from '../../functions/core/sweep/listing.ts';
import { AdaptiveTokenBucket, singleAttempt } from '../../functions/core/token-bucket.ts';
import { fakeClock } from '../helpers.ts';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** An HTTP answer as CloudWatch Logs (JSON 1.1) gives it. */
function answer(status: number, body: Record<string, unknown>) {
  return {
    response: {
      statusCode: status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'r' },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    },
  };
}

/** A client with the guard's SDK retry settings whose every request is answered by `script` in turn (the last repeats). */
function scriptedClient(script: ('throttle' | 'ok')[], maxAttempts: number = CLIENT_SETTINGS.maxAttempts) {
  const sent: string[] = [];
  const client = new CloudWatchLogsClient({
    region: 'us-east-1',
    retryMode: 'standard',
    maxAttempts,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        const step = script[Math.min(sent.length, script.length - 1)] ?? 'ok';
        sent.push(request.headers['x-amz-target'] ?? '');
        return step === 'throttle'
          ? answer(400, { __type: 'ThrottlingException', message: 'Rate exceeded' })
          : answer(200, { tags: {} });
      },
    },
  });
  return { client, sent };
}

/** An adaptive bucket on a fake clock that counts the tokens taken. */
function countingBucket() {
  const clock = fakeClock();
  const bucket = new AdaptiveTokenBucket(5, 1, clock);
  let takes = 0;
  const take = bucket.take.bind(bucket);
  bucket.take = () => {
    takes++;
    return take();
  };
  return { clock, bucket, takes: () => takes };
}

describe('a paced call and the SDK retries', () => {
  it('without singleAttempt the SDK sends a throttled call again on its own (what the pacer never saw)', async () => {
    // Prepare: the control, so the test below means something: the client does retry throttles itself.
    const { client, sent } = scriptedClient(['throttle', 'ok'], 3);
    // Act
    await client.send(new ListTagsForResourceCommand({ resourceArn: 'arn:x' }));
    // Assess
    expect(sent).toHaveLength(2);
  });

  it('singleAttempt: the SDK sends the command once and hands the throttle back', async () => {
    // Prepare
    const { client, sent } = scriptedClient(['throttle', 'ok']);
    // Act
    const err = await client
      .send(singleAttempt(new ListTagsForResourceCommand({ resourceArn: 'arn:x' })))
      .catch((e: Error) => e);
    // Assess
    expect((err as Error).name).toBe('ThrottlingException');
    expect(sent).toHaveLength(1);
  });

  it('associateKey: each throttled AssociateKmsKey attempt goes back through the bucket, one token and one report each', async () => {
    // Prepare: two throttles, then success, on a client that would retry 3 times by itself.
    const { client, sent } = scriptedClient(['throttle', 'throttle', 'ok']);
    const { clock, bucket, takes } = countingBucket();
    // Act
    const result = await associateKey({
      logs: client,
      name: '/x',
      keyArn: KEY,
      deadline: clock.now() + 60_000,
      log: silentLog,
      clock,
      bucket,
      backoff: { baseMs: 1, maxMs: 1, random: () => 0 },
    });
    // Assess: three requests, three tokens, two throttles seen by the bucket, which slowed down.
    expect(result).toEqual({ outcome: 'associated', attempts: 3 });
    expect(sent).toHaveLength(3);
    expect(sent.every((t) => t.endsWith('.AssociateKmsKey'))).toBe(true);
    expect(takes()).toBe(3);
    expect(bucket.throttles).toBe(2);
    expect(bucket.rate).toBeLessThan(5);
  });

  it('associateKey without a bucket keeps the SDK retries (nothing paces it)', async () => {
    // Prepare
    const { client, sent } = scriptedClient(['throttle', 'ok']);
    const clock = fakeClock();
    // Act
    const result = await associateKey({
      logs: client,
      name: '/x',
      keyArn: KEY,
      deadline: clock.now() + 60_000,
      log: silentLog,
      clock,
    });
    // Assess: the SDK retried inside the one attempt the loop counts.
    expect(result).toEqual({ outcome: 'associated', attempts: 1 });
    expect(sent).toHaveLength(2);
  });

  it('the sweep and CLI reads (readTags): each throttled attempt takes a token and reaches the bucket', async () => {
    // Prepare
    const { client, sent } = scriptedClient(['throttle', 'throttle', 'ok']);
    const { clock, bucket, takes } = countingBucket();
    // Act
    const tags = await readTags({ logs: client, kms: undefined as never }, 'arn:x', { bucket, clock });
    // Assess
    expect(tags).toEqual({});
    expect(sent).toHaveLength(3);
    expect(takes()).toBe(3);
    expect(bucket.throttles).toBe(2);
  });
});
