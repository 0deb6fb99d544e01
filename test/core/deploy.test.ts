/**
 * The deploy-time custom resource's guards (functions/core/deploy.ts): which events are the guard key
 * resource's requests, and which ResponseURLs the answer may be sent to. The resource end to end is
 * test/e2e/deploy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isCustomResourceEvent, responseUrlAllowed } from '../../functions/core/deploy.ts';

const request = {
  RequestType: 'Create',
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=y',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
  RequestId: 'r',
  LogicalResourceId: 'GuardKeyReady',
  ResourceType: 'Custom::LogsKmsGuardKey',
};

describe('isCustomResourceEvent', () => {
  it('accepts the guard key resource request', () => {
    expect(isCustomResourceEvent(request)).toBe(true);
  });

  it.each([
    ['another resource type', { ...request, ResourceType: 'Custom::Other' }],
    ['an unknown request type', { ...request, RequestType: 'Poke' }],
    ['no ResponseURL', { ...request, ResponseURL: undefined }],
    ['a CloudTrail event', { source: 'aws.logs', detail: {} }],
    ['null', null],
  ])('refuses %s', (_label, event) => {
    expect(isCustomResourceEvent(event)).toBe(false);
  });
});

describe('responseUrlAllowed', () => {
  it('allows CloudFormation pre-signed S3 URLs (https, amazonaws.com, .com.cn)', () => {
    expect(responseUrlAllowed(request.ResponseURL, undefined)).toBe(true);
    expect(responseUrlAllowed('https://bucket.s3.cn-north-1.amazonaws.com.cn/x', undefined)).toBe(true);
  });

  it.each([
    'http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
    'https://amazonaws.com.evil.example/x',
    'https://evil.example/?host=amazonaws.com',
    'http://127.0.0.1:9/x',
    'file:///etc/passwd',
    'not a url',
  ])('refuses %s outside a local run', (url) => {
    expect(responseUrlAllowed(url, undefined)).toBe(false);
  });

  it('allows loopback only when the SDK itself talks to a loopback endpoint', () => {
    expect(responseUrlAllowed('http://127.0.0.1:9/x', 'http://127.0.0.1:4566')).toBe(true);
    expect(responseUrlAllowed('http://127.0.0.1:9/x', 'https://kms.us-east-1.amazonaws.com')).toBe(false);
    expect(responseUrlAllowed('http://10.0.0.1:9/x', 'http://127.0.0.1:4566')).toBe(false);
  });
});
