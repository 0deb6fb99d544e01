/**
 * Forged and malformed custom-resource requests through the built enforce bundle (dist/enforce.mjs, emulator):
 * whether a request may be answered is decided before any AWS call. A forged ResponseURL or a StackId of
 * another account gets no answer, no AWS call, an error log line and the CustomResourceRefused metric; a
 * malformed request with CloudFormation's URL gets FAILED with the reason, no AWS call; the loopback answer of
 * local runs is refused inside the Lambda runtime. Real-shaped requests end to end: test/e2e/deploy.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { customResourceRequest, startResponseSink } from '../../local/custom-resource.ts';
import { ENFORCE_FUNCTION } from '../../local/functions.ts';
import { GUARD_ALIAS } from '../../local/world.ts';
import { callsSince, lambdaContext, startWorld, type World } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A response sink (a stand-in for CloudFormation's bucket), closed after the test. */
async function responseSink() {
  const sink = await startResponseSink();
  cleanups.push(() => sink.close());
  return sink;
}

/** The guard key resource's Create request of the default stack in `world`, answered on `url`. */
function request(world: World, url: string): Record<string, unknown> {
  return customResourceRequest({
    region: world.region,
    account: world.account,
    stackName: 'logs-kms-guard-prod',
    functionName: ENFORCE_FUNCTION,
    responseUrl: url,
    properties: { KeyAlias: GUARD_ALIAS, KeyArn: '' },
  });
}

/** The world's log lines that refuse a custom-resource request without answering it. */
function notAnswered(world: World): string[] {
  return world.output.lines.filter((l) => l.includes('custom resource request not answered'));
}

describe('custom resource: forged requests get no answer and cause no AWS call', () => {
  const bucket = (region: string) => `cloudformation-custom-resource-response-${region.replaceAll('-', '')}`;
  const forged: [string, (world: World, sink: string) => Record<string, unknown>][] = [
    ['an empty ResponseURL', (w) => request(w, '')],
    ['no ResponseURL', (w) => ({ ...request(w, ''), ResponseURL: undefined })],
    ['a ResponseURL that is not a URL', (w) => request(w, 'not a url')],
    ['a file: ResponseURL', (w) => request(w, 'file:///etc/passwd')],
    ['an API Gateway endpoint', (w) => request(w, `https://abc.execute-api.${w.region}.amazonaws.com/prod/`)],
    ['an S3 bucket anyone can own', (w) => request(w, `https://my-bucket.s3.${w.region}.amazonaws.com/x`)],
    [
      'another region’s response bucket',
      (w) => request(w, `https://${bucket('eu-west-3')}.s3.amazonaws.com/x`),
    ],
    ['a userinfo trick', (w) => request(w, `https://${bucket(w.region)}.s3.amazonaws.com@evil.com/`)],
    ['http: to the response bucket', (w) => request(w, `http://${bucket(w.region)}.s3.amazonaws.com/x`)],
    [
      'userinfo on the loopback sink',
      (_w, sink) => ({ ...request(_w, sink.replace('http://', 'http://evil.com@')) }),
    ],
    [
      'a StackId of another account (URL the sink)',
      (w, sink) => ({
        ...request(w, sink),
        StackId: `arn:aws:cloudformation:${w.region}:210987654321:stack/other/1`,
      }),
    ],
    [
      'a StackId of another region (URL the sink)',
      (w, sink) => ({
        ...request(w, sink),
        StackId: `arn:aws:cloudformation:eu-west-3:${w.account}:stack/s/1`,
      }),
    ],
  ];

  it.each(forged)('%s', async (_label, make) => {
    // Prepare
    const world = await startWorld({ throttle: false });
    world.emulator.state.putLogGroup(world.region, `/aws/lambda/${ENFORCE_FUNCTION}`);
    const sink = await responseSink();
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const out = await handler(make(world, sink.url), lambdaContext(world));

    // Assess: not a single AWS call, no answer, one error line and the alarmed metric
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(sink.bodies).toEqual([]);
    expect(out).toMatchObject({
      deploy: { status: 'FAILED', reason: expect.stringMatching(/^not answered: /) },
    });
    expect(notAnswered(world)).toHaveLength(1);
    expect(world.output.metrics()).toMatchObject({ CustomResourceRefused: 1, NeedsAttention: 1 });
    expect(world.emulator.state.key(world.region, GUARD_ALIAS)).toBeUndefined();
  });

  it('the loopback answer of local runs is refused inside the Lambda runtime (AWS_LAMBDA_RUNTIME_API set)', async () => {
    // Prepare: the same real-shaped request that deploy.test.ts answers, but as the deployed function sees it
    const world = await startWorld({ throttle: false });
    const sink = await responseSink();
    const handler = await world.container();
    process.env.AWS_LAMBDA_RUNTIME_API = '127.0.0.1:9001';
    cleanups.push(() => {
      delete process.env.AWS_LAMBDA_RUNTIME_API;
    });
    const mark = world.emulator.calls.length;

    // Act
    await handler(request(world, sink.url), lambdaContext(world));

    // Assess
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(sink.bodies).toEqual([]);
    expect(notAnswered(world).join('\n')).toMatch(/ResponseURL scheme http: is not https:/);
  });
});

describe('custom resource: a malformed request with a valid URL is answered FAILED, with no AWS call', () => {
  it.each([
    ['an unknown RequestType', { RequestType: 'Poke' }, /RequestType "Poke" is not Create, Update or Delete/],
    ['another resource type', { ResourceType: 'Custom::Other' }, /serves Custom::LogsKmsGuardKey only/],
    ['no RequestId', { RequestId: undefined }, /RequestId is missing/],
    ['an Update without PhysicalResourceId', { RequestType: 'Update' }, /PhysicalResourceId is missing/],
    ['properties that are not an object', { ResourceProperties: 'KeyAlias' }, /ResourceProperties/],
  ])('%s', async (_label, change, reason) => {
    // Prepare
    const world = await startWorld({ throttle: false });
    const sink = await responseSink();
    const handler = await world.container();
    const mark = world.emulator.calls.length;

    // Act
    const out = await handler({ ...request(world, sink.url), ...change }, lambdaContext(world));

    // Assess: CloudFormation hears FAILED at once with the reason (no ServiceTimeout wait); nothing was touched
    expect(callsSince(world.emulator, mark)).toEqual([]);
    expect(out).toMatchObject({ deploy: { status: 'FAILED' } });
    expect(sink.bodies).toHaveLength(1);
    expect(sink.bodies[0]).toMatchObject({
      method: 'PUT',
      Status: 'FAILED',
      LogicalResourceId: 'GuardKeyReady',
    });
    expect(sink.bodies[0]?.Reason).toMatch(/^malformed custom resource request: /);
    expect(sink.bodies[0]?.Reason).toMatch(reason);
    expect(world.output.metrics()).toMatchObject({ CustomResourceRefused: 1, NeedsAttention: 1 });
  });
});
