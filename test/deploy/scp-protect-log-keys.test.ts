/**
 * infra/scp-protect-log-keys.mjs (issue 21, item 2), as iam-simulate decides with the SCP attached at the
 * organization root (beside FullAWSAccess, as SCPs are used): an administrator of a member account
 * (AdministratorAccess) can neither schedule the deletion of, disable nor untag a guard key (tagged
 * ManagedBy=logs-kms-guard), nor remove any log group's key; a break-glass role can; keys without the tag and
 * other actions are untouched.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { protectLogKeysScp, SCP_MAX_CHARS } from '../../infra/scp-protect-log-keys.mjs';

const ACCOUNT = '111122223333';
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/LogKeysBreakGlass`;
const PIPELINE = `arn:aws:iam::${ACCOUNT}:role/terraform`;
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const GROUP = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/app/orders`;
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
};
const scp = protectLogKeysScp({
  breakGlassRoleArns: ['arn:aws:iam::*:role/LogKeysBreakGlass'],
  disassociateExceptRoleArns: [PIPELINE],
});

/** One request by `role` (AdministratorAccess) under the SCP; `tags` are the key's. */
async function decide(
  role: string,
  action: string,
  options: { tags?: Record<string, string>; tagKeys?: string[] } = {},
) {
  const kms = action.startsWith('kms:');
  const context: Record<string, string | string[]> = {
    'aws:PrincipalArn': role,
    'aws:PrincipalAccount': ACCOUNT,
  };
  for (const [k, v] of Object.entries(options.tags ?? {})) context[`aws:ResourceTag/${k}`] = v;
  if (options.tagKeys) context['aws:TagKeys'] = options.tagKeys;
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.split('/').pop()}/session`,
        action,
        resource: { resource: kms ? KEY : `${GROUP}:log-stream:`, accountId: ACCOUNT },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'AdministratorAccess', policy: ALLOW_ALL }],
      serviceControlPolicies: [
        {
          orgIdentifier: 'r-abcd',
          policies: [
            { name: 'FullAWSAccess', policy: ALLOW_ALL },
            { name: 'ProtectLogKeys', policy: scp },
          ],
        },
        { orgIdentifier: ACCOUNT, policies: [{ name: 'FullAWSAccess', policy: ALLOW_ALL }] },
      ],
      resourceControlPolicies: [],
      ...(kms ? { resourcePolicy: KEY_POLICY } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  const runs = result.resultType === 'single' ? [result.result] : result.results;
  return runs.every((r) => r.analysis.result === 'Allowed')
    ? 'Allowed'
    : runs.some((r) => r.analysis.result === 'ExplicitlyDenied')
      ? 'ExplicitlyDenied'
      : 'ImplicitlyDenied';
}

const GUARD = { ManagedBy: 'logs-kms-guard' };

describe('SCP protect-log-keys, as iam-simulate decides', () => {
  it('an account administrator can neither delete nor disable a guard key, nor untag or retag it', async () => {
    expect(await decide(ADMIN, 'kms:ScheduleKeyDeletion', { tags: GUARD })).toBe('ExplicitlyDenied');
    expect(await decide(ADMIN, 'kms:DisableKey', { tags: GUARD })).toBe('ExplicitlyDenied');
    expect(await decide(ADMIN, 'kms:UntagResource', { tags: GUARD, tagKeys: ['ManagedBy'] })).toBe(
      'ExplicitlyDenied',
    );
    expect(await decide(ADMIN, 'kms:TagResource', { tags: GUARD, tagKeys: ['ManagedBy'] })).toBe(
      'ExplicitlyDenied',
    );
  });

  it('an account administrator cannot remove a log group key; the named pipeline role still can', async () => {
    expect(await decide(ADMIN, 'logs:DisassociateKmsKey')).toBe('ExplicitlyDenied');
    expect(await decide(PIPELINE, 'logs:DisassociateKmsKey')).toBe('Allowed');
  });

  it('the break-glass role (any account, by ARN pattern) can do all of it', async () => {
    expect(await decide(BREAK_GLASS, 'kms:ScheduleKeyDeletion', { tags: GUARD })).toBe('Allowed');
    expect(await decide(BREAK_GLASS, 'kms:DisableKey', { tags: GUARD })).toBe('Allowed');
    expect(await decide(BREAK_GLASS, 'kms:UntagResource', { tags: GUARD, tagKeys: ['ManagedBy'] })).toBe(
      'Allowed',
    );
    expect(await decide(BREAK_GLASS, 'logs:DisassociateKmsKey')).toBe('Allowed');
  });

  it('leaves other keys, other tags and other actions alone', async () => {
    expect(await decide(ADMIN, 'kms:ScheduleKeyDeletion', { tags: { team: 'orders' } })).toBe('Allowed');
    expect(await decide(ADMIN, 'kms:DisableKey')).toBe('Allowed');
    expect(await decide(ADMIN, 'kms:TagResource', { tags: GUARD, tagKeys: ['team'] })).toBe('Allowed');
    expect(await decide(ADMIN, 'kms:EnableKey', { tags: GUARD })).toBe('Allowed');
    expect(await decide(ADMIN, 'logs:AssociateKmsKey')).toBe('Allowed');
  });

  it('fits an SCP (5,120 characters) and refuses an empty break-glass list or a non-role ARN', () => {
    expect(JSON.stringify(scp).length).toBeLessThanOrEqual(SCP_MAX_CHARS);
    expect(() => protectLogKeysScp({ breakGlassRoleArns: [] })).toThrow(/at least one/);
    expect(() => protectLogKeysScp({ breakGlassRoleArns: [`arn:aws:iam::${ACCOUNT}:user/alice`] })).toThrow(
      /not an IAM role ARN/,
    );
  });
});
