/**
 * The protection statements (functions/core/key-protection.ts) as pure logic: what they deny to whom, how a
 * policy's protection is read back, and how the policy merge writes them, corrects them, and leaves them alone
 * during a break-glass.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, parseBreakGlassRoles } from '../../functions/core/config.ts';
import { keyContext } from '../../functions/core/key.ts';
import {
  BACKSTOP_UNUSED_DAYS,
  BREAK_GLASS_TAG,
  BREAK_GLASS_TAG_SID,
  breakGlassInProgress,
  DENY_KEY_LOSS_SID,
  DENY_POLICY_CHANGE_SID,
  DENY_USED_KEY_LOSS_SID,
  isBreakGlassRole,
  protectionStatements,
  protectionStatus,
} from '../../functions/core/key-protection.ts';
import { defaultKeyPolicy, mergeKeyPolicy, type PolicyContext } from '../../functions/core/policy.ts';

const ACCOUNT = '123456789012';
const GUARD = `arn:aws:iam::${ACCOUNT}:role/guard`;
const BREAK = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
const BREAK2 = `arn:aws:iam::${ACCOUNT}:role/break-glass-2`;
const base: PolicyContext = { partition: 'aws', region: 'eu-west-1', account: ACCOUNT, guardRoles: [GUARD] };
const ctx: PolicyContext = { ...base, breakGlassRoles: [BREAK] };
const bySid = (statements: Record<string, unknown>[], sid: string) => statements.find((s) => s.Sid === sid);

describe('protectionStatements', () => {
  it('denies deletion and disabling to every principal but the break-glass roles', () => {
    // Act
    const deny = bySid(protectionStatements(ctx), DENY_KEY_LOSS_SID);
    // Assess
    expect(deny).toEqual({
      Sid: DENY_KEY_LOSS_SID,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['kms:DisableKey', 'kms:ScheduleKeyDeletion'],
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': BREAK } },
    });
  });

  it('adds the kms:TrailingDaysWithoutKeyUsage backstop, break-glass roles excepted', () => {
    // Act
    const backstop = bySid(protectionStatements(ctx), DENY_USED_KEY_LOSS_SID);
    // Assess
    expect(backstop?.Condition).toEqual({
      NumericLessThan: { 'kms:TrailingDaysWithoutKeyUsage': String(BACKSTOP_UNUSED_DAYS) },
      ArnNotLike: { 'aws:PrincipalArn': BREAK },
    });
  });

  it('lets only the guard and break-glass roles replace the policy, and only break-glass set the tag', () => {
    // Act
    const statements = protectionStatements({ ...ctx, breakGlassRoles: [BREAK2, BREAK] });
    // Assess
    expect(bySid(statements, DENY_POLICY_CHANGE_SID)?.Condition).toEqual({
      ArnNotLike: { 'aws:PrincipalArn': [BREAK, BREAK2, GUARD] },
    });
    expect(bySid(statements, BREAK_GLASS_TAG_SID)?.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'aws:TagKeys': [BREAK_GLASS_TAG] },
      ArnNotLike: { 'aws:PrincipalArn': [BREAK, BREAK2] },
    });
  });

  it('writes nothing without break-glass roles (a key nobody could ever delete is not offered)', () => {
    expect(protectionStatements(base)).toEqual([]);
  });
});

describe('protectionStatus', () => {
  it('reads a protected policy back, with its break-glass roles', () => {
    expect(protectionStatus(defaultKeyPolicy(ctx))).toEqual({
      protected: true,
      breakGlassRoles: [BREAK],
      missing: [],
    });
  });

  it('names what is missing or weakened', () => {
    // Prepare
    const policy = defaultKeyPolicy(ctx);
    const backstop = bySid(policy.Statement, DENY_USED_KEY_LOSS_SID) as Record<string, unknown>;
    backstop.Action = ['kms:DisableKey'];
    policy.Statement = policy.Statement.filter((s) => s.Sid !== DENY_POLICY_CHANGE_SID);
    // Act
    const status = protectionStatus(policy);
    // Assess
    expect(status.protected).toBe(false);
    expect(status.missing).toEqual([
      'the kms:TrailingDaysWithoutKeyUsage backstop',
      'the deny of policy changes (guard and break-glass roles excepted)',
    ]);
  });

  it('an unprotected policy is not protected', () => {
    expect(protectionStatus(defaultKeyPolicy(base)).protected).toBe(false);
  });
});

describe('mergeKeyPolicy and the protection', () => {
  it('adds the protection to the own key, never to a race candidate', () => {
    // Act
    const merged = mergeKeyPolicy(defaultKeyPolicy(base), ctx, { own: true });
    const candidate = defaultKeyPolicy(ctx, { candidate: true });
    // Assess
    expect(merged.changes).toContain('the deny of deletion and disabling (break-glass roles excepted) added');
    expect(protectionStatus(merged.policy).protected).toBe(true);
    expect(protectionStatus(candidate).protected).toBe(false);
  });

  it('corrects a narrowed Deny', () => {
    // Prepare
    const policy = defaultKeyPolicy(ctx);
    (bySid(policy.Statement, DENY_KEY_LOSS_SID) as Record<string, unknown>).Action = 'kms:DisableKey';
    // Act
    const merged = mergeKeyPolicy(policy, ctx, { own: true });
    // Assess
    expect(merged.changes).toEqual([
      'the deny of deletion and disabling (break-glass roles excepted) corrected',
    ]);
  });

  it('leaves the protection as it is during a break-glass, and does not write it into a configured key unasked', () => {
    // Prepare
    const opened = defaultKeyPolicy(base);
    // Act
    const duringBreakGlass = mergeKeyPolicy(opened, ctx, { own: true, breakGlass: true });
    const configured = mergeKeyPolicy(opened, ctx, {});
    const asked = mergeKeyPolicy(opened, ctx, { protect: true });
    // Assess
    expect(duringBreakGlass.changed).toBe(false);
    expect(configured.changed).toBe(false);
    expect(protectionStatus(asked.policy).protected).toBe(true);
  });

  it('never removes the protection when break-glass roles are no longer configured', () => {
    // Act
    const merged = mergeKeyPolicy(defaultKeyPolicy(ctx), base, { own: true });
    // Assess
    expect(merged.changed).toBe(false);
  });
});

describe('the break-glass signal and setting', () => {
  it('the tag, whatever its value, says a break-glass is in progress', () => {
    expect(breakGlassInProgress([{ TagKey: 'ManagedBy' }, { TagKey: BREAK_GLASS_TAG }])).toBe(true);
    expect(breakGlassInProgress([{ TagKey: 'ManagedBy' }])).toBe(false);
    expect(breakGlassInProgress(undefined)).toBe(false);
    expect(isBreakGlassRole(BREAK, [BREAK])).toBe(true);
    expect(isBreakGlassRole(undefined, [BREAK])).toBe(false);
  });

  it('BREAK_GLASS_ROLE_ARNS: role ARNs, sorted and unique, into the key context', () => {
    // Act
    const config = loadConfig({ BREAK_GLASS_ROLE_ARNS: `${BREAK2}, ${BREAK},${BREAK}` });
    // Assess
    expect(config.breakGlassRoleArns).toEqual([BREAK, BREAK2]);
    expect(keyContext(config, 'eu-west-1', ACCOUNT).breakGlassRoles).toEqual([BREAK, BREAK2]);
    expect(keyContext(loadConfig({}), 'eu-west-1', ACCOUNT).breakGlassRoles).toBeUndefined();
  });

  it('refuses wildcards and non-role ARNs, naming the setting', () => {
    expect(() => parseBreakGlassRoles([`arn:aws:iam::${ACCOUNT}:role/*`], '--break-glass-role')).toThrow(
      /--break-glass-role must be IAM role ARNs/,
    );
    expect(() => loadConfig({ BREAK_GLASS_ROLE_ARNS: `arn:aws:iam::${ACCOUNT}:user/alice` })).toThrow(
      /BREAK_GLASS_ROLE_ARNS must be IAM role ARNs/,
    );
  });
});
