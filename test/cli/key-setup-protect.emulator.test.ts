/**
 * `key setup --break-glass-role` on a configured key (KMS_KEY_ARN / --key-arn), issue 21 item 2: in-process
 * through the real SDK against the emulator with IAM. Written by an administrator who is not break-glass, KMS's
 * lockout check refuses the protected policy (it would lock the writer out) and the CLI says why and what to do;
 * written by a break-glass role it protects the key, after which the administrator can neither delete nor
 * disable it and the break-glass role can; `doctor`'s key protection check reads it back.
 */
import { DisableKeyCommand, ScheduleKeyDeletionCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { checkKeyProtection, protectionFinding } from '../../functions/cli/doctor/key-protection.ts';
import { run } from '../../functions/cli/program.ts';
import { loadConfig } from '../../functions/core/config.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { BREAK_GLASS_TAG, protectionStatus } from '../../functions/core/key-protection.ts';
import { defaultKeyPolicy, parsePolicy } from '../../functions/core/policy.ts';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import type { KeyInfo } from '../../local/emulator/state.ts';
import { REGION, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let world: World;
let key: KeyInfo;
const ACCOUNT = '123456789012';
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
const BREAK_GLASS_ROLE = `arn:aws:iam::${ACCOUNT}:role/LogKeysBreakGlass`;
const admin = (arn: string): IamPrincipal => ({
  arn,
  policies: [
    {
      name: 'AdministratorAccess',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    },
  ],
});
const as = (accessKeyId: string) =>
  defaultClientFactory({
    endpoint: world.emulator.endpoint,
    credentials: { accessKeyId, secretAccessKey: 'x' },
  });
const cli = (accessKeyId: string) => testIo({ clients: as(accessKeyId), env: { AWS_REGION: REGION } });
const policyNow = () => parsePolicy(world.emulator.state.key(REGION, key.keyId)?.policy ?? '');

beforeAll(async () => {
  clearKeyCache();
  world = await startWorld({
    iam: {
      principals: { AKIDADMINROLE: admin(ADMIN_ROLE), AKIDBREAKGLASS: admin(BREAK_GLASS_ROLE) },
      authorizationLagMs: 0,
    },
  });
  // A team's key, configured with KMS_KEY_ARN: its policy admits CloudWatch Logs and delegates to IAM.
  key = world.emulator.state.createKeyDirect(REGION, {
    policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account })),
  });
  world.emulator.state.setKeyLastUsage(REGION, key.keyId, Date.now());
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

describe('key setup --break-glass-role (configured key)', () => {
  it('refuses a role that is not an IAM role ARN, naming the flag (exit 2)', async () => {
    const t = cli('AKIDADMINROLE');
    const code = await run(
      ['key', 'setup', '--key-arn', key.arn, '--break-glass-role', `arn:aws:iam::${ACCOUNT}:role/*`],
      t.io,
    );
    expect(code).toBe(2);
    expect(t.stderr()).toContain('--break-glass-role must be IAM role ARNs');
  });

  it('as an administrator who is not break-glass: KMS refuses (lockout), the CLI says to use a break-glass role', async () => {
    const t = cli('AKIDADMINROLE');
    const code = await run(
      ['key', 'setup', '--key-arn', key.arn, '--break-glass-role', BREAK_GLASS_ROLE, '--json'],
      t.io,
    );
    expect(code).not.toBe(0);
    expect(t.stderr()).toContain('would lock themselves out');
    expect(t.stderr()).toContain('credentials of a break-glass role');
    expect(protectionStatus(policyNow()).protected).toBe(false);
  });

  it('as the break-glass role: protects the key and reports it; then only break-glass may delete or disable it', async () => {
    // Act
    const t = cli('AKIDBREAKGLASS');
    const code = await run(
      ['key', 'setup', '--key-arn', key.arn, '--break-glass-role', BREAK_GLASS_ROLE, '--json'],
      t.io,
    );
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(t.stdout()).keys[0]).toMatchObject({
      keyArn: key.arn,
      protected: true,
      breakGlassRoles: [BREAK_GLASS_ROLE],
    });
    expect(protectionStatus(policyNow())).toMatchObject({
      protected: true,
      breakGlassRoles: [BREAK_GLASS_ROLE],
    });
    const adminKms = as('AKIDADMINROLE')(REGION).kms;
    const denied = await adminKms
      .send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }))
      .catch((e: Error) => e);
    const deniedDisable = await adminKms
      .send(new DisableKeyCommand({ KeyId: key.arn }))
      .catch((e: Error) => e);
    expect((denied as Error).name).toBe('AccessDeniedException');
    expect((deniedDisable as Error).name).toBe('AccessDeniedException');
    // The doctor check reads it back (ok), and sees a break-glass once the tag is set.
    const clients = as('AKIDBREAKGLASS')(REGION);
    const config = loadConfig({ KMS_KEY_ARN: key.arn, BREAK_GLASS_ROLE_ARNS: BREAK_GLASS_ROLE });
    const check = await checkKeyProtection({
      clients,
      config,
      region: REGION,
      key: { Arn: key.arn, KeyId: key.keyId },
      keyPolicy: policyNow(),
    });
    expect(check.findings).toEqual([expect.objectContaining({ check: 'key protection', status: 'ok' })]);
    await clients.kms.send(
      new TagResourceCommand({
        KeyId: key.arn,
        Tags: [{ TagKey: BREAK_GLASS_TAG, TagValue: 'INC-7' }],
      }),
    );
    const during = await checkKeyProtection({
      clients,
      config,
      region: REGION,
      key: { Arn: key.arn, KeyId: key.keyId },
      keyPolicy: policyNow(),
    });
    expect(during.findings[1]).toMatchObject({ status: 'warn', detail: expect.stringContaining('INC-7') });
    await clients.kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    expect(world.emulator.state.key(REGION, key.keyId)?.state).toBe('Disabled');
  }, 60_000);
});

describe('doctor: key protection finding (pure)', () => {
  const status = (roles: string[]) => ({ protected: roles.length > 0, breakGlassRoles: roles, missing: [] });

  it('fails when BREAK_GLASS_ROLE_ARNS is set and the key is not protected', () => {
    const f = protectionFinding(
      { protected: false, breakGlassRoles: [], missing: ['the kms:TrailingDaysWithoutKeyUsage backstop'] },
      [BREAK_GLASS_ROLE],
      REGION,
      true,
    );
    expect(f.status).toBe('fail');
    expect(f.detail).toContain('missing the kms:TrailingDaysWithoutKeyUsage backstop');
    expect(f.fix).toContain(`--break-glass-role ${BREAK_GLASS_ROLE}`);
  });

  it('warns when the policy excepts other roles than configured; informs when nothing is configured', () => {
    expect(protectionFinding(status([ADMIN_ROLE]), [BREAK_GLASS_ROLE], REGION, false).status).toBe('warn');
    expect(protectionFinding(status([]), [], REGION, false).status).toBe('info');
    expect(protectionFinding(status([BREAK_GLASS_ROLE]), [], REGION, false).status).toBe('ok');
  });
});
