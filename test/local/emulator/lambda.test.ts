/**
 * The emulator's Lambda Invoke (local/emulator/lambda.ts) through the real SDK: invocation types, unknown
 * functions, bad payloads, and authorization under IAM.
 */
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import type { LambdaInvocation } from '../../../local/emulator/lambda.ts';
import { ACCOUNT, credentials } from '../../../local/world.ts';
import { rejection, setup } from './helpers.ts';

const REGION = 'eu-west-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:worker`;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** An emulator with a function `worker`, a Lambda client on it (no retries) and every accepted invocation. */
async function lambdaSetup(options: Parameters<typeof setup>[0] = {}, accessKeyId = credentials.accessKeyId) {
  const env = await setup(options, REGION);
  env.emulator.state.createFunction(REGION, 'worker');
  const invocations: LambdaInvocation[] = [];
  env.emulator.onInvoke((i) => invocations.push(i));
  const lambda = new LambdaClient({
    region: REGION,
    endpoint: env.emulator.endpoint,
    credentials: { ...credentials, accessKeyId },
    maxAttempts: 1,
  });
  return { ...env, invocations, lambda };
}

describe('Lambda Invoke (REST JSON as @aws-sdk/client-lambda speaks it)', () => {
  it('an Event invocation is handed to onInvoke and answered 202, by name, ARN or partial ARN', async () => {
    // Prepare
    const { lambda, invocations, emulator } = await lambdaSetup();

    // Act
    const outs = [];
    for (const FunctionName of ['worker', FUNCTION_ARN, `${ACCOUNT}:function:worker`]) {
      outs.push(
        await lambda.send(
          new InvokeCommand({ FunctionName, InvocationType: 'Event', Payload: encode({ n: 1 }) }),
        ),
      );
    }

    // Assess
    expect(outs.map((o) => o.StatusCode)).toEqual([202, 202, 202]);
    expect(invocations).toEqual(
      ['worker', FUNCTION_ARN, `${ACCOUNT}:function:worker`].map((requestedName) => ({
        region: REGION,
        functionName: 'worker',
        functionArn: FUNCTION_ARN,
        requestedName,
        invocationType: 'Event',
        payload: '{"n":1}',
      })),
    );
    expect(emulator.calls.map((c) => [c.service, c.operation, c.error])).toEqual([
      ['lambda', 'Invoke', undefined],
      ['lambda', 'Invoke', undefined],
      ['lambda', 'Invoke', undefined],
    ]);
  });

  it('RequestResponse answers 200 with a payload; DryRun 204 and invokes nothing', async () => {
    // Prepare
    const { lambda, invocations } = await lambdaSetup();

    // Act
    const sync = await lambda.send(new InvokeCommand({ FunctionName: 'worker', Payload: encode({}) }));
    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'worker', InvocationType: 'DryRun' }));

    // Assess
    expect(sync.StatusCode).toBe(200);
    expect(sync.ExecutedVersion).toBe('$LATEST');
    expect(new TextDecoder().decode(sync.Payload)).toBe('{}');
    expect(dry.StatusCode).toBe(204);
    expect(invocations.map((i) => i.invocationType)).toEqual(['RequestResponse']);
  });

  it('a function that is not registered (or of another account, or qualified) is ResourceNotFoundException', async () => {
    // Prepare
    const { lambda, invocations } = await lambdaSetup();

    // Act
    const errors = await Promise.all(
      [
        'missing',
        `arn:aws:lambda:${REGION}:210987654321:function:worker`,
        'worker:live',
        `arn:aws:lambda:us-east-1:${ACCOUNT}:function:worker`,
      ].map((FunctionName) =>
        rejection(lambda.send(new InvokeCommand({ FunctionName, InvocationType: 'Event' }))),
      ),
    );

    // Assess
    for (const err of errors) {
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err.$metadata?.httpStatusCode).toBe(404);
    }
    expect(errors[0]?.message).toBe(
      `Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:missing`,
    );
    expect(errors[2]?.message).toBe(`Function not found: ${FUNCTION_ARN}:live`);
    expect(invocations).toEqual([]);
  });

  it('a payload that is not JSON is InvalidRequestContentException', async () => {
    // Prepare
    const { lambda } = await lambdaSetup();

    // Act
    const err = await rejection(
      lambda.send(
        new InvokeCommand({
          FunctionName: 'worker',
          InvocationType: 'Event',
          Payload: new TextEncoder().encode('{'),
        }),
      ),
    );

    // Assess
    expect(err.name).toBe('InvalidRequestContentException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});

describe('Lambda authorization (iam)', () => {
  it('lambda:InvokeFunction on the function ARN; a denial is AccessDeniedException 403 in AWS text', async () => {
    // Prepare
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/Caller`;
    const principal = (resource: string) => ({
      arn: roleArn,
      policies: [
        {
          name: 'p',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: resource }],
          },
        },
      ],
    });
    const allowed = await lambdaSetup(
      { iam: { principals: { AKIDCALLER: principal(FUNCTION_ARN) }, admins: [] } },
      'AKIDCALLER',
    );
    const denied = await lambdaSetup(
      { iam: { principals: { AKIDCALLER: principal(`${FUNCTION_ARN}-other`) }, admins: [] } },
      'AKIDCALLER',
    );
    const invoke = new InvokeCommand({
      FunctionName: FUNCTION_ARN,
      InvocationType: 'Event',
      Payload: encode({}),
    });

    // Act
    const ok = await allowed.lambda.send(invoke);
    const err = await rejection(denied.lambda.send(invoke));

    // Assess
    expect(ok.StatusCode).toBe(202);
    expect(allowed.emulator.authorizations).toEqual([
      expect.objectContaining({
        action: 'lambda:InvokeFunction',
        resource: FUNCTION_ARN,
        decision: 'Allowed',
      }),
    ]);
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/Caller/AKIDCALLER is not authorized to perform: lambda:InvokeFunction on resource: ${FUNCTION_ARN} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
    expect(denied.invocations).toEqual([]);
  });
});
