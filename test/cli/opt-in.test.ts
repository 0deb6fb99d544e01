/**
 * functions/cli/opt-in.ts: an invalid-token answer means "Region not enabled" only in an opt-in Region; in a
 * default Region it is a credentials failure (issue 20, item 1g). Pure functions, no AWS.
 */
import { describe, expect, it } from 'vitest';
import { COMMERCIAL_REGIONS } from '../../functions/cli/aws.ts';
import { isOptInRegion, isRegionNotEnabled, OPT_IN_REGIONS } from '../../functions/cli/opt-in.ts';

const invalidToken = Object.assign(new Error('The security token included in the request is invalid.'), {
  name: 'UnrecognizedClientException',
});

describe('isRegionNotEnabled', () => {
  it.each(['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2', 'sa-east-1'])(
    'an invalid token in the default Region %s is a failure, never a Region not enabled',
    (region) => {
      expect(isRegionNotEnabled(invalidToken, region)).toBe(false);
      expect(isRegionNotEnabled({ name: 'InvalidClientTokenId' }, region)).toBe(false);
    },
  );

  it.each([
    'af-south-1',
    'ap-east-1',
    'eu-south-1',
    'me-south-1',
    'il-central-1',
    'mx-central-1',
    'ca-west-1',
  ])('an invalid token (or OptInRequired) in the opt-in Region %s is a Region not enabled', (region) => {
    expect(isRegionNotEnabled(invalidToken, region)).toBe(true);
    expect(isRegionNotEnabled({ name: 'InvalidClientTokenId' }, region)).toBe(true);
    expect(isRegionNotEnabled({ name: 'OptInRequired' }, region)).toBe(true);
  });

  it('any other error in an opt-in Region is not', () => {
    expect(isRegionNotEnabled({ name: 'AccessDeniedException' }, 'eu-south-1')).toBe(false);
    expect(isRegionNotEnabled(undefined, 'eu-south-1')).toBe(false);
  });
});

describe('OPT_IN_REGIONS', () => {
  it('are commercial Regions the CLI knows, and none of the Regions enabled by default', () => {
    for (const r of OPT_IN_REGIONS) expect(COMMERCIAL_REGIONS).toContain(r);
    for (const r of ['us-east-1', 'us-east-2', 'us-west-1', 'eu-central-1', 'eu-north-1', 'ap-northeast-3'])
      expect(isOptInRegion(r)).toBe(false);
  });
});
