/**
 * Which custom-resource requests the enforce function may answer (functions/core/custom-resource-request.ts),
 * without mocks: CloudFormation's response bucket of the function's own region in every partition, virtual-hosted
 * and path-style, against forged URLs (other buckets and hosts, http:, file:, userinfo, IPs, ports), StackIds
 * of another account or region, and malformed requests. Through the built bundle: test/e2e/deploy-requests.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  looksLikeCustomResourceRequest,
  loopbackResponsesAllowed,
  requestShapeProblem,
  responseBucketOf,
  responseUrlProblem,
  stackIdProblem,
  vetCustomResourceRequest,
} from '../../functions/core/custom-resource-request.ts';

const SIG = '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc';
const KEY = 'arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/s/1%7CGuardKeyReady%7Cr';

describe('responseBucketOf', () => {
  it.each([
    ['us-east-1', 'cloudformation-custom-resource-response-useast1'],
    ['cn-north-1', 'cloudformation-custom-resource-response-cnnorth1'],
    ['us-gov-west-1', 'cloudformation-custom-resource-response-usgovwest1'],
  ])('%s → %s', (region, bucket) => {
    expect(responseBucketOf(region)).toBe(bucket);
  });
});

describe('responseUrlProblem: CloudFormation response URLs are answered', () => {
  it.each([
    // aws: virtual-hosted on the global, dot-region and dash-region endpoints; path-style on the same
    ['us-east-1', `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${KEY}${SIG}`],
    [
      'us-east-2',
      `https://cloudformation-custom-resource-response-useast2.s3.us-east-2.amazonaws.com/${KEY}${SIG}`,
    ],
    [
      'us-west-2',
      `https://cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com/${KEY}${SIG}`,
    ],
    [
      'eu-west-1',
      `https://s3.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/${KEY}${SIG}`,
    ],
    [
      'eu-west-1',
      `https://s3-eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/${KEY}${SIG}`,
    ],
    ['us-east-1', `https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1/${KEY}${SIG}`],
    // aws-cn
    [
      'cn-north-1',
      `https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/${KEY}${SIG}`,
    ],
    [
      'cn-northwest-1',
      `https://s3.cn-northwest-1.amazonaws.com.cn/cloudformation-custom-resource-response-cnnorthwest1/${KEY}`,
    ],
    // aws-us-gov
    [
      'us-gov-west-1',
      `https://cloudformation-custom-resource-response-usgovwest1.s3.us-gov-west-1.amazonaws.com/${KEY}`,
    ],
    [
      'us-gov-east-1',
      `https://s3-us-gov-east-1.amazonaws.com/cloudformation-custom-resource-response-usgoveast1/${KEY}`,
    ],
    // case and default port are normalised by the URL parser
    ['us-east-1', `HTTPS://CloudFormation-Custom-Resource-Response-UsEast1.S3.AmazonAWS.com:443/${KEY}`],
  ])('%s: %s', (region, url) => {
    expect(responseUrlProblem(url, region)).toBeUndefined();
  });
});

describe('responseUrlProblem: anything else is refused', () => {
  const bucket = 'cloudformation-custom-resource-response-useast1';
  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['not a URL', 'not a url'],
    ['file:', 'file:///etc/passwd'],
    ['http:', `http://${bucket}.s3.amazonaws.com/${KEY}`],
    ['ftp:', `ftp://${bucket}.s3.amazonaws.com/${KEY}`],
    ['userinfo before another host', `https://${bucket}.s3.amazonaws.com@evil.com/`],
    ['userinfo on the real host', `https://user:pw@${bucket}.s3.amazonaws.com/${KEY}`],
    ['a port', `https://${bucket}.s3.amazonaws.com:8443/${KEY}`],
    ['a suffix host', `https://${bucket}.s3.amazonaws.com.evil.com/${KEY}`],
    ['a trailing-dot host', `https://${bucket}.s3.amazonaws.com./${KEY}`],
    [
      'another region (bucket)',
      `https://cloudformation-custom-resource-response-uswest2.s3.amazonaws.com/${KEY}`,
    ],
    ['another region (endpoint)', `https://${bucket}.s3.eu-west-1.amazonaws.com/${KEY}`],
    ['another bucket anyone can own', `https://my-bucket.s3.amazonaws.com/${KEY}`],
    ['a look-alike bucket', `https://${bucket}-evil.s3.amazonaws.com/${KEY}`],
    ['a bucket prefix', `https://x${bucket}.s3.amazonaws.com/${KEY}`],
    ['path-style, another bucket', `https://s3.amazonaws.com/my-bucket/${bucket}/${KEY}`],
    ['path-style, look-alike bucket', `https://s3.amazonaws.com/${bucket}-evil/${KEY}`],
    ['path-style, bucket without a key', `https://s3.amazonaws.com/${bucket}`],
    ['API Gateway', 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/'],
    ['Lambda function URL', 'https://abc.lambda-url.us-east-1.on.aws/'],
    ['an S3 website host', `https://${bucket}.s3-website-us-east-1.amazonaws.com/${KEY}`],
    ['the .cn suffix in aws', `https://${bucket}.s3.us-east-1.amazonaws.com.cn/${KEY}`],
    ['an IPv4 host', 'https://52.216.0.1/x'],
    ['an IPv6 host', 'https://[2600:1f18::1]/x'],
    ['a decimal IP host', 'https://886970369/x'],
    ['loopback outside a local run', 'http://127.0.0.1:9001/2018-06-01/runtime/invocation/next'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['evil.example', 'https://evil.example/?host=amazonaws.com'],
  ])('%s', (_label, url) => {
    expect(responseUrlProblem(url, 'us-east-1')).toMatch(/ResponseURL/);
  });

  it('no global S3 endpoint in aws-cn or aws-us-gov', () => {
    const cn = 'cloudformation-custom-resource-response-cnnorth1';
    expect(responseUrlProblem(`https://${cn}.s3.amazonaws.com.cn/${KEY}`, 'cn-north-1')).toMatch(/host/);
    expect(responseUrlProblem(`https://${cn}.s3.cn-north-1.amazonaws.com/${KEY}`, 'cn-north-1')).toMatch(
      /host/,
    );
    const gov = 'cloudformation-custom-resource-response-usgovwest1';
    expect(responseUrlProblem(`https://${gov}.s3.amazonaws.com/${KEY}`, 'us-gov-west-1')).toMatch(/host/);
  });

  it('other partitions (ISO) are not answered at all', () => {
    const iso = 'cloudformation-custom-resource-response-usisoeast1';
    expect(responseUrlProblem(`https://${iso}.s3.us-iso-east-1.c2s.ic.gov/${KEY}`, 'us-iso-east-1')).toMatch(
      /host/,
    );
  });
});

describe('the loopback exception for local runs', () => {
  it('answers loopback only when allowed', () => {
    for (const url of ['http://127.0.0.1:4321/response', 'http://localhost:9/x', 'http://[::1]:9/x']) {
      expect(responseUrlProblem(url, 'us-east-1', true)).toBeUndefined();
      expect(responseUrlProblem(url, 'us-east-1', false)).toMatch(/ResponseURL/);
    }
    expect(responseUrlProblem('http://10.0.0.1:9/x', 'us-east-1', true)).toMatch(/ResponseURL/);
    expect(responseUrlProblem('http://evil.com@127.0.0.1:9/x', 'us-east-1', true)).toMatch(/ResponseURL/);
    expect(responseUrlProblem('http://127.0.0.1.evil.com/x', 'us-east-1', true)).toMatch(/ResponseURL/);
  });

  it('is allowed with a loopback AWS_ENDPOINT_URL outside the Lambda runtime only', () => {
    expect(loopbackResponsesAllowed({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(true);
    expect(loopbackResponsesAllowed({ AWS_ENDPOINT_URL: 'http://localhost:4566/' })).toBe(true);
    expect(loopbackResponsesAllowed({})).toBe(false);
    expect(loopbackResponsesAllowed({ AWS_ENDPOINT_URL: 'https://kms.us-east-1.amazonaws.com' })).toBe(false);
    expect(loopbackResponsesAllowed({ AWS_ENDPOINT_URL: 'not a url' })).toBe(false);
    // In the deployed function (the Lambda runtime sets AWS_LAMBDA_RUNTIME_API, a reserved variable): never.
    expect(
      loopbackResponsesAllowed({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
        AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      }),
    ).toBe(false);
  });
});

describe('stackIdProblem', () => {
  const home = { account: '123456789012', region: 'us-east-1' };
  it.each([
    ['aws', 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1', home],
    [
      'aws-cn',
      'arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/1',
      { ...home, region: 'cn-north-1' },
    ],
    [
      'aws-us-gov',
      'arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/s/1',
      { ...home, region: 'us-gov-west-1' },
    ],
  ])('accepts a stack of its own account and region (%s)', (_label, stackId, where) => {
    expect(stackIdProblem(stackId, where)).toBeUndefined();
  });

  it.each([
    ['missing', undefined, /missing/],
    ['not an ARN', 'my-stack', /not a CloudFormation stack ARN/],
    ['another service', 'arn:aws:s3:us-east-1:123456789012:stack/s/1', /not a CloudFormation stack ARN/],
    ['not a stack', 'arn:aws:cloudformation:us-east-1:123456789012:stackset/s:1', /not a CloudFormation/],
    ['another account', 'arn:aws:cloudformation:us-east-1:210987654321:stack/s/1', /210987654321/],
    ['another region', 'arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1', /eu-west-1/],
    ['another partition', 'arn:aws-cn:cloudformation:us-east-1:123456789012:stack/s/1', /aws-cn/],
  ])('refuses a StackId %s', (_label, stackId, reason) => {
    expect(stackIdProblem(stackId, home)).toMatch(reason);
  });

  it('refuses every StackId when the function does not know its account', () => {
    expect(
      stackIdProblem('arn:aws:cloudformation:us-east-1:123456789012:stack/s/1', {
        account: undefined,
        region: 'us-east-1',
      }),
    ).toMatch(/own account/);
  });
});

const home = { account: '123456789012', region: 'us-east-1' };
const request = {
  RequestType: 'Create',
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:logs-kms-guard-prod-enforce',
  ResponseURL: `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${KEY}${SIG}`,
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
  RequestId: 'r',
  LogicalResourceId: 'GuardKeyReady',
  ResourceType: 'Custom::LogsKmsGuardKey',
  ResourceProperties: { ServiceToken: 'x', KeyAlias: 'alias/logs-kms-guard' },
};

describe('requestShapeProblem', () => {
  it('accepts Create, and Update / Delete with their PhysicalResourceId', () => {
    expect(requestShapeProblem(request)).toBeUndefined();
    expect(
      requestShapeProblem({ ...request, RequestType: 'Update', PhysicalResourceId: 'p' }),
    ).toBeUndefined();
    expect(
      requestShapeProblem({ ...request, RequestType: 'Delete', PhysicalResourceId: 'p' }),
    ).toBeUndefined();
  });

  it.each([
    ['RequestType missing', { ...request, RequestType: undefined }, /RequestType null/],
    ['RequestType unknown', { ...request, RequestType: 'Poke' }, /RequestType "Poke"/],
    [
      'another resource type',
      { ...request, ResourceType: 'Custom::Other' },
      /serves Custom::LogsKmsGuardKey only/,
    ],
    ['RequestId missing', { ...request, RequestId: '' }, /RequestId is missing/],
    ['LogicalResourceId not a string', { ...request, LogicalResourceId: 7 }, /LogicalResourceId is missing/],
    ['Update without PhysicalResourceId', { ...request, RequestType: 'Update' }, /PhysicalResourceId/],
    ['properties not an object', { ...request, ResourceProperties: 'x' }, /ResourceProperties/],
  ])('%s', (_label, event, reason) => {
    expect(requestShapeProblem(event)).toMatch(reason);
  });
});

describe('vetCustomResourceRequest', () => {
  it('serves a real-shaped request', () => {
    expect(vetCustomResourceRequest(request, home, false)).toEqual({ verdict: 'serve' });
  });

  it('answers FAILED for a malformed request with a valid URL and StackId', () => {
    expect(vetCustomResourceRequest({ ...request, RequestType: 'Poke' }, home, false)).toMatchObject({
      verdict: 'fail',
      reason: expect.stringMatching(/RequestType/),
    });
  });

  it('does not answer a forged URL or a foreign StackId, however malformed the rest', () => {
    const forged = { ...request, RequestType: 'Poke', ResponseURL: 'https://evil.example/' };
    expect(vetCustomResourceRequest(forged, home, false)).toMatchObject({ verdict: 'ignore' });
    const foreign = { ...request, StackId: 'arn:aws:cloudformation:us-east-1:210987654321:stack/s/1' };
    expect(vetCustomResourceRequest(foreign, home, false)).toMatchObject({ verdict: 'ignore' });
    expect(
      vetCustomResourceRequest(request, { account: '123456789012', region: undefined }, false),
    ).toMatchObject({
      verdict: 'ignore',
    });
  });
});

describe('looksLikeCustomResourceRequest', () => {
  it.each([
    ['a real request', request, true],
    ['a request without its URL', { ...request, ResponseURL: undefined }, true],
    ['only a custom resource type', { ResourceType: 'Custom::LogsKmsGuardKey' }, true],
    ['a CloudTrail event', { source: 'aws.logs', detail: {} }, false],
    ['an SQS batch', { Records: [] }, false],
    ['null', null, false],
  ])('%s → %s', (_label, event, expected) => {
    expect(looksLikeCustomResourceRequest(event)).toBe(expected);
  });
});
