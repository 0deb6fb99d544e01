/**
 * The configured key checked once, up front (functions/cli/key-check.ts; issue 20 review findings 3, 7, 8): a
 * --key-arn (or KMS_KEY_ARN) that does not exist, is disabled, or belongs to another account is one usage error
 * (exit 2) before any log group is touched, with no per-group failure and no resume token; and an unknown
 * AWS_PROFILE is refused even when access keys are set too (the SDK's chain then uses the profile). Run
 * in-process through the real SDK against the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { ACCOUNT, credentials, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let emu: Emulator;
let disabled: string;
const missing = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const mutating = (from: number) =>
  emu.calls.slice(from).filter((c) => !/^(Describe|List|Get)/.test(c.operation));

function cli(env: Record<string, string> = {}) {
  return testIo({
    clients: defaultClientFactory({ endpoint: emu.endpoint, credentials }),
    env: { AWS_REGION: REGION, ...env },
  });
}

beforeAll(async () => {
  clearKeyCache();
  ({ emulator: emu } = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 } }));
  const policy = JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT }));
  disabled = emu.state.createKeyDirect(REGION, { policy, state: 'Disabled' }).arn;
  for (let i = 0; i < 4; i++) emu.state.putLogGroup(REGION, `/app/svc-00${i}`);
}, 60_000);
afterAll(async () => {
  await emu?.stop();
});

describe('a --key-arn that does not exist', () => {
  it('enforce refuses it once, up front, with exit 2, no group failure and no resume command', async () => {
    // Prepare
    const mark = emu.calls.length;
    const t = cli();
    // Act
    const code = await run(['enforce', '--yes', '--key-arn', missing, '--prefix', '/app/svc-'], t.io);
    // Assess
    expect(code).toBe(2);
    expect(t.stderr()).toContain(
      `error: --key-arn ${missing}: no such key in ${ACCOUNT} ${REGION} (KMS NotFoundException)`,
    );
    expect(t.stderr().match(/no such key/g)).toHaveLength(1);
    expect(t.stderr()).not.toMatch(/resume|KMS_KEY_ARN|failed/);
    expect(mutating(mark)).toEqual([]);
    expect(emu.calls.slice(mark).some((c) => c.operation === 'ListTagsForResource')).toBe(false);
  });

  it('enforce --dry-run refuses it too', async () => {
    const t = cli();
    const code = await run(['enforce', '--dry-run', '--key-arn', missing], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toContain('no such key');
  });

  it('associate refuses it with exit 2 in the flag’s terms', async () => {
    const mark = emu.calls.length;
    const t = cli();
    const code = await run(['associate', '--log-group', '/app/svc-000', '--key-arn', missing], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toContain(`error: --key-arn ${missing}: no such key in ${ACCOUNT} ${REGION}`);
    expect(mutating(mark)).toEqual([]);
  });

  it('names KMS_KEY_ARN when the key came from the environment', async () => {
    const t = cli({ KMS_KEY_ARN: missing });
    const code = await run(['enforce', '--yes'], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toContain(`error: KMS_KEY_ARN (set in the environment) ${missing}: no such key`);
  });

  it('audit refuses it too', async () => {
    const t = cli();
    const code = await run(['audit', '--key-arn', missing], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toContain('no such key');
    expect(t.stdout()).toBe('');
  });
});

describe('a --key-arn CloudWatch Logs cannot use', () => {
  it('enforce refuses a disabled key up front with exit 2', async () => {
    const mark = emu.calls.length;
    const t = cli();
    const code = await run(['enforce', '--yes', '--key-arn', disabled], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toContain(`error: --key-arn: refusing KMS key ${disabled}: its state is Disabled`);
    expect(t.stderr()).not.toMatch(/resume/);
    expect(mutating(mark)).toEqual([]);
  });

  it('audit still audits against a disabled key (it reports, it changes nothing)', async () => {
    const t = cli();
    const code = await run(['audit', '--key-arn', disabled], t.io);
    expect(code).not.toBe(2);
  });
});

describe('a --key-arn of another account', () => {
  const foreign = `arn:aws:kms:${REGION}:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  it.each([['audit'], ['enforce', '--yes'], ['associate', '--log-group', '/app/svc-000']])(
    '%s refuses it with exit 2 before any group is read',
    async (...argv) => {
      const mark = emu.calls.length;
      const t = cli();
      const code = await run([...argv, '--key-arn', foreign], t.io);
      expect(code).toBe(2);
      expect(t.stderr()).toContain('--key-arn names a key of account 999999999999');
      expect(t.stdout()).toBe('');
      expect(mutating(mark)).toEqual([]);
    },
  );
});

describe('AWS_PROFILE with access keys in the environment', () => {
  it('an unknown AWS_PROFILE is refused up front even with AWS_ACCESS_KEY_ID set (the SDK uses the profile)', async () => {
    // Prepare: no shared files at all, keys in the environment.
    const mark = emu.calls.length;
    const t = cli({
      AWS_PROFILE: 'nosuch',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    });
    // Act
    const code = await run(['audit'], t.io);
    // Assess
    expect(code).toBe(2);
    expect(t.stderr()).toContain(
      'AWS_PROFILE: profile "nosuch" is not in the shared config or credentials files',
    );
    expect(t.stdout()).toBe('');
    expect(emu.calls.length).toBe(mark);
  });
});
