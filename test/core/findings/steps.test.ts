/**
 * The findings the guard's steps report (issue 22): a group it cannot encrypt (lasting refusals only; a later
 * success resolves it; transient failures and reserved groups are not findings), a repaired key policy, and the
 * sweep yielding (resolved by a completed run). Each is a valid GuardFinding the findings function accepts.
 */
import { describe, expect, it } from 'vitest';
import {
  AssociationError,
  DeadlineExceededError,
  KeyPolicyError,
  UnsafeKeyError,
} from '../../../functions/core/errors.ts';
import { findingProblem } from '../../../functions/core/findings/subscription.ts';
import { groupFindingOf } from '../../../functions/core/group-finding.ts';
import { keyPolicyRepairedFinding } from '../../../functions/core/key-policy-finding.ts';
import { sweepHealthFinding } from '../../../functions/core/sweep/health-finding.ts';

const where = { account: '111122223333', region: 'eu-west-1', attempt: 1, now: '2026-12-07T10:00:00.000Z' };
const failed = (error: Error) => ({
  outcome: 'failed',
  logGroupName: '/app/x',
  reason: `${error.name}: ${error.message}`,
  error,
});

describe('group-not-encryptable', () => {
  it('is ACTIVE for an unsafe key, a key policy shutting Logs out, a refused association and an AccessDenied', () => {
    const denied = Object.assign(new Error('explicit deny in a service control policy'), {
      name: 'AccessDeniedException',
    });
    for (const error of [
      new UnsafeKeyError('pending deletion'),
      new KeyPolicyError('no Logs statement'),
      new AssociationError('refused'),
      denied,
    ]) {
      const f = groupFindingOf(failed(error), where);
      expect(f, error.name).toMatchObject({
        kind: 'group-not-encryptable',
        state: 'ACTIVE',
        resource: { arn: 'arn:aws:logs:eu-west-1:111122223333:log-group:/app/x' },
      });
      expect(findingProblem(f)).toBeUndefined();
    }
  });

  it('is not a finding for transient failures, other outcomes, or a first-time success', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    expect(groupFindingOf(failed(throttled), where)).toBeUndefined();
    expect(groupFindingOf(failed(new DeadlineExceededError('no time')), where)).toBeUndefined();
    expect(
      groupFindingOf({ outcome: 'not-encryptable', logGroupName: 'aws/spans', reason: 'reserved' }, where),
    ).toBeUndefined();
    expect(
      groupFindingOf({ outcome: 'encrypted', logGroupName: '/app/x', reason: 'ok' }, where),
    ).toBeUndefined();
  });

  it('is RESOLVED when the queue delivered the work again and it succeeded', () => {
    const f = groupFindingOf(
      { outcome: 'encrypted', logGroupName: '/app/x', reason: 'ok' },
      { ...where, attempt: 3 },
    );
    expect(f).toMatchObject({ state: 'RESOLVED', kind: 'group-not-encryptable' });
    expect(findingProblem(f)).toBeUndefined();
  });
});

describe('key-policy-repaired and guard-unhealthy', () => {
  it('a repaired key policy is an ACTIVE finding on the key with the CloudTrail lookup as its fix', () => {
    const f = keyPolicyRepairedFinding(
      'arn:aws:kms:eu-west-1:111122223333:key/k',
      'alias/logs-kms-guard',
      where,
    );
    expect(f).toMatchObject({ kind: 'key-policy-repaired', state: 'ACTIVE', resource: { type: 'kms-key' } });
    expect(f.fix).toContain('lookup-events');
    expect(findingProblem(f)).toBeUndefined();
  });

  it('the sweep yielding is ACTIVE on the sweep function; a completed run resolves the same finding', () => {
    const fn = {
      ...where,
      functionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:logs-kms-guard-prod-sweep',
    };
    const yielded = sweepHealthFinding(fn, 'run-1');
    const done = sweepHealthFinding(fn);
    expect(yielded).toMatchObject({ kind: 'guard-unhealthy', state: 'ACTIVE' });
    expect(done).toMatchObject({ kind: 'guard-unhealthy', state: 'RESOLVED' });
    expect(done.resource).toEqual(yielded.resource);
    for (const f of [yielded, done]) expect(findingProblem(f)).toBeUndefined();
  });
});
