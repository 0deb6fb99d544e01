/**
 * The function settings from environment variables (functions/core/config.ts loadConfig): defaults, every
 * variable, refusals naming the variable, and the refusal of a KMS_KEY_ARN of another account.
 */
import { describe, expect, it } from 'vitest';
import { assertKeyInAccount, DEFAULT_KEY_ALIAS, loadConfig } from '../../functions/core/config.ts';
import { ConfigError } from '../../functions/core/errors.ts';

describe('loadConfig', () => {
  it('works with no variables set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      keyArn: undefined,
      keyAlias: DEFAULT_KEY_ALIAS,
      dryRun: false,
      allowKeyOverride: false,
      allowKeyPolicyUpdate: false,
      keyCacheTtlMs: 300_000,
      associateRate: 5,
    });
  });

  it('reads every setting', () => {
    const config = loadConfig({
      KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718',
      KMS_KEY_ALIAS: 'alias/team-logs',
      INCLUDE_LOG_GROUPS: '/aws/lambda/, /ecs/*',
      EXCLUDE_LOG_GROUPS: '/aws/lambda/tmp-',
      DRY_RUN: 'yes',
      ALLOW_KEY_OVERRIDE: 'true',
      ALLOW_KEY_POLICY_UPDATE: '1',
      KEY_CACHE_TTL_SECONDS: '60',
      ASSOCIATE_RATE: '2.5',
    });
    expect(config.include.map((p) => p.source)).toEqual(['/aws/lambda/', '/ecs/*']);
    expect(config).toMatchObject({
      dryRun: true,
      allowKeyOverride: true,
      keyCacheTtlMs: 60_000,
      associateRate: 2.5,
    });
  });

  it.each([
    [{ KMS_KEY_ARN: 'alias/logs' }, /KMS_KEY_ARN/],
    [{ KMS_KEY_ARN: '1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718' }, /KMS_KEY_ARN/],
    [{ KMS_KEY_ALIAS: 'logs' }, /KMS_KEY_ALIAS/],
    [{ KMS_KEY_ALIAS: 'alias/aws/logs' }, /KMS_KEY_ALIAS/],
    [{ DRY_RUN: 'maybe' }, /DRY_RUN/],
    [{ KEY_CACHE_TTL_SECONDS: '-1' }, /KEY_CACHE_TTL_SECONDS/],
    [{ ASSOCIATE_RATE: 'fast' }, /ASSOCIATE_RATE/],
    [{ KEY_DELETION_WINDOW_DAYS: '3' }, /KEY_DELETION_WINDOW_DAYS/],
    [{ INCLUDE_LOG_GROUPS: '/ok,not ok' }, /INCLUDE_LOG_GROUPS/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('assertKeyInAccount (a KMS_KEY_ARN of another account)', () => {
  const key = (account: string) =>
    `arn:aws:kms:us-east-1:${account}:key/1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718`;

  it('refuses a key of another account, naming the variable and the reason', () => {
    const config = loadConfig({ KMS_KEY_ARN: key('210987654321') });
    expect(() => assertKeyInAccount(config, '123456789012')).toThrow(ConfigError);
    expect(() => assertKeyInAccount(config, '123456789012')).toThrow(
      /KMS_KEY_ARN names a key of account 210987654321.*runs in account 123456789012.*GetKeyPolicy or PutKeyPolicy across accounts/,
    );
  });

  it('accepts a key of the same account, no key, and an unknown account', () => {
    expect(() =>
      assertKeyInAccount(loadConfig({ KMS_KEY_ARN: key('123456789012') }), '123456789012'),
    ).not.toThrow();
    expect(() => assertKeyInAccount(loadConfig({}), '123456789012')).not.toThrow();
    expect(() =>
      assertKeyInAccount(loadConfig({ KMS_KEY_ARN: key('210987654321') }), undefined),
    ).not.toThrow();
  });
});
