/**
 * functions/cli/completeness.ts and the error hints of functions/cli/aws.ts: which pairs make a run incomplete,
 * the headline, CSV's trailing `#` lines, and what an error tells the user to check (issue 20, item 1).
 */
import { describe, expect, it } from 'vitest';
import { describeAwsError, whatToCheck } from '../../functions/cli/aws.ts';
import type { PairSummary } from '../../functions/cli/completeness.ts';
import { completenessOf, csvTrailer, incompleteHeadline } from '../../functions/cli/completeness.ts';
import { emptyCounts } from '../../functions/core/sweep/report.ts';

const pair = (status: PairSummary['status'], extra: Partial<PairSummary> = {}): PairSummary => ({
  account: '111111111111',
  region: 'us-east-1',
  status,
  counts: emptyCounts(),
  ...extra,
});

describe('completenessOf', () => {
  it('done and skipped (suspended, Region not enabled) pairs are complete', () => {
    const c = completenessOf([pair('done'), pair('skipped', { reason: 'account is SUSPENDED' })]);
    expect(c).toEqual({ complete: true, pairs: 2, notDone: 0, errors: [] });
    expect(incompleteHeadline(c)).toBe('');
    expect(csvTrailer(c)).toBe('');
  });

  it('failed and interrupted pairs are not: each an error with its reason and what to check', () => {
    const c = completenessOf([
      pair('done'),
      pair('failed', {
        region: 'eu-west-1',
        reason: 'cannot reach AWS,\nECONNREFUSED',
        check: 'the endpoint',
      }),
      pair('interrupted', { region: 'eu-north-1', reason: 'not started' }),
    ]);
    expect(c.complete).toBe(false);
    expect(c.errors).toEqual([
      {
        account: '111111111111',
        region: 'eu-west-1',
        status: 'failed',
        error: 'cannot reach AWS,\nECONNREFUSED',
        check: 'the endpoint',
      },
      { account: '111111111111', region: 'eu-north-1', status: 'interrupted', error: 'not started' },
    ]);
    expect(incompleteHeadline(c)).toBe(
      'INCOMPLETE: 2 of 3 account-region(s) not audited (1 failed, 1 interrupted); the totals cover only what was listed',
    );
    // One line per error, each a `#` line even if the reason had a line break.
    expect(csvTrailer(c).split('\n').filter(Boolean)).toEqual([
      '# INCOMPLETE: 2 of 3 account-region(s) not audited (1 failed, 1 interrupted); the totals cover only what was listed',
      '# failed: account 111111111111 region eu-west-1: cannot reach AWS, ECONNREFUSED; check the endpoint',
      '# interrupted: account 111111111111 region eu-north-1: not started',
    ]);
  });
});

describe('what an error tells the user to check', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), {
    code: 'ECONNREFUSED',
    address: '127.0.0.1',
    port: 4566,
    $action: 'logs:DescribeLogGroups',
  });
  it('a refused connection names AWS_ENDPOINT_URL when it is set', () => {
    expect(describeAwsError(refused, { endpoint: 'http://127.0.0.1:4566' })).toBe(
      'cannot reach AWS: ECONNREFUSED 127.0.0.1:4566 (logs:DescribeLogGroups); check the endpoint AWS_ENDPOINT_URL=http://127.0.0.1:4566: is it up and reachable?',
    );
    expect(whatToCheck(refused)).toMatch(/network path to AWS/);
  });
  it('missing or invalid credentials name the profile', () => {
    const missing = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(describeAwsError(missing, { profile: 'prod' })).toMatch(/for profile prod: check that it exists/);
    const invalid = Object.assign(new Error('invalid'), {
      name: 'UnrecognizedClientException',
      $action: 'kms:DescribeKey',
    });
    expect(describeAwsError(invalid, { profile: 'prod' })).toMatch(
      /not valid here \(kms:DescribeKey\): check the profile prod and its credentials/,
    );
    expect(whatToCheck(invalid)).toMatch(/credentials \(--profile, AWS_PROFILE/);
  });
  it('a denial names the IAM permissions', () => {
    expect(
      whatToCheck({ name: 'AccessDeniedException', message: 'not authorized to perform: logs:X' }),
    ).toMatch(/IAM/);
  });
});
