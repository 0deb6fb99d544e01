/**
 * The function settings from environment variables (functions/core/config.ts loadConfig): defaults, every
 * variable, refusals naming the variable, and the refusal of a KMS_KEY_ARN of another account.
 */
import { describe, expect, it } from 'vitest';
import {
  assertKeyInAccount,
  assertMessageKeyIsOwn,
  DEFAULT_KEY_ALIAS,
  loadConfig,
} from '../../functions/core/config.ts';
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

describe('MESSAGE_KEY_* (MessageKmsKey=guard: what the guard key admits for the queues and the topic)', () => {
  const env = {
    MESSAGE_KEY_QUEUES:
      'arn:aws:sqs:us-east-1:123456789012:lkg-EnforceQueue-A1, arn:aws:sqs:us-east-1:123456789012:lkg-EnforceDlq-B2',
    MESSAGE_KEY_RULES: 'arn:aws:events:us-east-1:123456789012:rule/lkg-CreateLogGroupRule-C3',
    MESSAGE_KEY_ALARMS: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:lkg-*',
  };

  it('reads the queues, rules and alarm pattern; none set: no message key', () => {
    expect(loadConfig(env).messageKey).toEqual({
      queueArns: [
        'arn:aws:sqs:us-east-1:123456789012:lkg-EnforceQueue-A1',
        'arn:aws:sqs:us-east-1:123456789012:lkg-EnforceDlq-B2',
      ],
      ruleArns: ['arn:aws:events:us-east-1:123456789012:rule/lkg-CreateLogGroupRule-C3'],
      alarmArnPattern: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:lkg-*',
    });
    expect(
      loadConfig({ MESSAGE_KEY_QUEUES: '', MESSAGE_KEY_RULES: '', MESSAGE_KEY_ALARMS: '' }).messageKey,
    ).toBe(undefined);
  });

  it('refuses a partial or malformed set by name', () => {
    expect(() => loadConfig({ ...env, MESSAGE_KEY_RULES: '' })).toThrow(/MESSAGE_KEY_RULES must be/);
    expect(() => loadConfig({ ...env, MESSAGE_KEY_QUEUES: 'my-queue' })).toThrow(
      /MESSAGE_KEY_QUEUES must be/,
    );
    expect(() =>
      loadConfig({ ...env, MESSAGE_KEY_ALARMS: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:*' }),
    ).toThrow(/MESSAGE_KEY_ALARMS must be/);
  });

  it("is the guard's own key only: with KMS_KEY_ARN it is refused, in the parameters' terms", () => {
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(() => assertMessageKeyIsOwn(loadConfig({ ...env, KMS_KEY_ARN: keyArn }))).toThrow(
      /MessageKmsKey=guard needs the guard's own key, but KmsKeyArn is set/,
    );
    expect(() => assertMessageKeyIsOwn(loadConfig(env))).not.toThrow();
    expect(() => assertMessageKeyIsOwn(loadConfig({ KMS_KEY_ARN: keyArn }))).not.toThrow();
  });
});
