/**
 * The doctor's key checks (functions/cli/doctor/key.ts) against aws-sdk-client-mock: whether the key is
 * usable (learned for the checks after), a guard key not created yet, KMS refusing, and rotation, with the
 * command to run when one is wrong.
 */
import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { checkKey, checkKeyRotation } from '../../../functions/cli/doctor/key.ts';
import { loadConfig } from '../../../functions/core/config.ts';
import { REGION } from '../../../local/world.ts';
import { KEY_ARN, KEY_ID } from '../../helpers.ts';

const kms = mockClient(KMSClient);
const meta = (KeyState: KeyMetadata['KeyState']): KeyMetadata => ({
  Arn: KEY_ARN,
  KeyId: KEY_ID,
  KeyState,
  KeySpec: 'SYMMETRIC_DEFAULT',
  KeyUsage: 'ENCRYPT_DECRYPT',
});
const input = () => ({ clients: defaultClientFactory()(REGION), config: loadConfig({}), region: REGION });

describe('checkKey', () => {
  beforeEach(() => {
    kms.reset();
  });

  it('is ok for an enabled symmetric key, and learns it', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: meta('Enabled') });

    // Act
    const result = await checkKey(input());

    // Assess
    expect(result.findings).toEqual([
      { check: 'key', status: 'ok', detail: `${KEY_ARN} is enabled and symmetric` },
    ]);
    expect(result.learned).toEqual({ key: meta('Enabled') });
  });

  it('fails for a disabled key, and still learns it for the checks after', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: meta('Disabled') });

    // Act
    const result = await checkKey(input());

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'key',
        status: 'fail',
        detail: expect.stringContaining('its state is Disabled'),
        fix: 'enable the key or point the guard at a usable one (never delete a key log groups use)',
      },
    ]);
    expect(result.learned?.key?.Arn).toBe(KEY_ARN);
  });

  it('warns that a missing guard key is created later, with the command that creates it now', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('no alias'), { name: 'NotFoundException' }));

    // Act
    const result = await checkKey(input());

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'key',
        status: 'warn',
        detail: 'alias/logs-kms-guard does not exist yet (the first event or the sweep creates it)',
        fix: `logs-kms-guard key setup --region ${REGION}`,
      },
    ]);
    expect(result.learned).toBeUndefined();
  });

  it('warns that it could not check when KMS refuses', async () => {
    // Prepare
    kms
      .on(DescribeKeyCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));

    // Act
    const result = await checkKey(input());

    // Assess
    expect(result.findings).toEqual([
      { check: 'key', status: 'warn', detail: expect.stringMatching(/^could not check: access denied/) },
    ]);
  });
});

describe('checkKeyRotation', () => {
  beforeEach(() => {
    kms.reset();
  });

  it('finds nothing without a key', async () => {
    // Act
    const result = await checkKeyRotation({ clients: defaultClientFactory()(REGION), region: REGION });

    // Assess
    expect(result.findings).toEqual([]);
    expect(kms.calls()).toHaveLength(0);
  });

  it('is ok when rotation is on, warns with the command when it is off', async () => {
    // Prepare
    const clients = defaultClientFactory()(REGION);
    kms.on(GetKeyRotationStatusCommand).resolvesOnce({ KeyRotationEnabled: true }).resolves({});

    // Act
    const on = await checkKeyRotation({ clients, region: REGION, key: meta('Enabled') });
    const off = await checkKeyRotation({ clients, region: REGION, key: meta('Enabled') });

    // Assess
    expect(on.findings).toEqual([
      { check: 'key rotation', status: 'ok', detail: 'automatic rotation is on' },
    ]);
    expect(off.findings).toEqual([
      {
        check: 'key rotation',
        status: 'warn',
        detail: 'automatic rotation is off',
        fix: `aws kms enable-key-rotation --key-id ${KEY_ARN} --region ${REGION}`,
      },
    ]);
  });

  it('does not suggest enabling rotation on a key pending deletion: it says to cancel the deletion', async () => {
    // Prepare: KMS reads rotation as off while a key is pending deletion
    const clients = defaultClientFactory()(REGION);
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });

    // Act
    const result = await checkKeyRotation({ clients, region: REGION, key: meta('PendingDeletion') });

    // Assess
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ check: 'key rotation', status: 'info' });
    expect(result.findings[0]?.detail).toMatch(/pending deletion/);
    expect(result.findings[0]?.fix).toMatch(/^aws kms cancel-key-deletion/);
    expect(result.findings[0]?.fix).not.toMatch(/enable-key-rotation/);
    expect(kms.commandCalls(GetKeyRotationStatusCommand)).toHaveLength(0);
  });
});
