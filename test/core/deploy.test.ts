/**
 * The deploy-time custom resource's shape guard (functions/core/deploy.ts): which events are well-formed guard
 * key resource requests. Which requests may be answered at all is test/core/custom-resource-request.test.ts;
 * the resource end to end is test/e2e/deploy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { isCustomResourceEvent } from '../../functions/core/deploy.ts';

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
