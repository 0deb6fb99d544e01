/**
 * The key checks: the guard key exists, is usable by CloudWatch Logs (enabled, symmetric, in the region), and
 * rotates. Its policy has checks of its own (key-policy.ts).
 */
import { GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import { checkKeyUsable, findGuardKey } from '../../core/key.ts';
import { type CheckInput, type CheckResult, couldNot, finding } from './check.ts';

/** `key`: the guard key (or --key-arn) exists and is usable (learns `key`). */
export async function checkKey({
  clients,
  config,
  region,
}: Pick<CheckInput, 'clients' | 'config' | 'region'>): Promise<CheckResult> {
  try {
    const key = await findGuardKey(clients, config);
    if (!key)
      return {
        findings: [
          finding(
            'key',
            'warn',
            `${config.keyArn ?? config.keyAlias} does not exist yet (the first event or the sweep creates it)`,
            `logs-kms-guard key setup --region ${region}`,
          ),
        ],
      };
    try {
      checkKeyUsable(key, region);
    } catch (err) {
      return {
        findings: [
          finding(
            'key',
            'fail',
            (err as Error).message,
            'enable the key or point the guard at a usable one (never delete a key log groups use)',
          ),
        ],
        learned: { key },
      };
    }
    return { findings: [finding('key', 'ok', `${key.Arn} is enabled and symmetric`)], learned: { key } };
  } catch (err) {
    return { findings: [couldNot('key', err)] };
  }
}

/** `key rotation`: automatic rotation of the key is on. */
export async function checkKeyRotation({
  clients,
  region,
  key,
}: Pick<CheckInput, 'clients' | 'region' | 'key'>): Promise<CheckResult> {
  if (!key) return { findings: [] };
  // KMS reads rotation as off while a key is pending deletion (GetKeyRotationStatus API reference): enabling it
  // is refused then and beside the point; what matters is cancelling the deletion (the `key` check fails).
  if (key.KeyState === 'PendingDeletion') {
    return {
      findings: [
        finding(
          'key rotation',
          'info',
          'not checked: the key is pending deletion (KMS reads rotation as off until the deletion is cancelled)',
          `aws kms cancel-key-deletion --key-id ${key.Arn} --region ${region}, then aws kms enable-key ` +
            `--key-id ${key.Arn} --region ${region} (rotation comes back as it was)`,
        ),
      ],
    };
  }
  try {
    const rotation = await clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.Arn }));
    if (rotation.KeyRotationEnabled)
      return { findings: [finding('key rotation', 'ok', 'automatic rotation is on')] };
    return {
      findings: [
        finding(
          'key rotation',
          'warn',
          'automatic rotation is off',
          `aws kms enable-key-rotation --key-id ${key.Arn} --region ${region}`,
        ),
      ],
    };
  } catch (err) {
    return { findings: [couldNot('key rotation', err)] };
  }
}
