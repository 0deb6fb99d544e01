/**
 * The deploy-time custom resource (Custom::LogsKmsGuardKey) as CloudFormation drives it, for local runs: the
 * request CloudFormation sends the enforce function, and a stand-in for the pre-signed response URL it answers
 * on (loopback: the function answers it only because AWS_ENDPOINT_URL is loopback too and it does not run in the
 * Lambda runtime, AWS_LAMBDA_RUNTIME_API unset; functions/core/custom-resource-request.ts
 * loopbackResponsesAllowed. The StackId must still be of the target's account and region). The e2e tests and the
 * benchmark's deployed-key run share it; free of the emulator, so that a benchmark child process imports it.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stand-in for CloudFormation's pre-signed response URL: every body PUT to `url`, in order. */
export interface ResponseSink {
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a response sink on a free loopback port. */
export async function startResponseSink(): Promise<ResponseSink> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      bodies.push({ method: req.method, ...JSON.parse(text) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=local`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Who a custom resource request is for: the stack and its enforce function, and where to answer. */
export interface CustomResourceTarget {
  region: string;
  account: string;
  stackName: string;
  functionName: string;
  responseUrl: string;
  /** The resource's properties (the template passes KeyAlias, KeyArn, AllowKeyPolicyUpdate). */
  properties: Record<string, string>;
}

/**
 * The request CloudFormation sends the enforce function for the GuardKeyReady resource; an Update or Delete
 * names the resource the Create answered with (`logs-kms-guard-key-<region>`).
 */
export function customResourceRequest(
  target: CustomResourceTarget,
  type: 'Create' | 'Update' | 'Delete' = 'Create',
) {
  const { region, account } = target;
  return {
    RequestType: type,
    ServiceToken: `arn:aws:lambda:${region}:${account}:function:${target.functionName}`,
    ResponseURL: target.responseUrl,
    StackId: `arn:aws:cloudformation:${region}:${account}:stack/${target.stackName}/${randomUUID()}`,
    RequestId: randomUUID(),
    LogicalResourceId: 'GuardKeyReady',
    ResourceType: 'Custom::LogsKmsGuardKey',
    ResourceProperties: target.properties,
    ...(type === 'Create' ? {} : { PhysicalResourceId: `logs-kms-guard-key-${region}` }),
  };
}
