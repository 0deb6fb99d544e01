/**
 * `key protection` (issue 21, item 2): whether the key's policy keeps everyone but the break-glass roles from
 * deleting or disabling it (functions/core/key-protection.ts), whether that matches BREAK_GLASS_ROLE_ARNS, and
 * whether a break-glass is in progress (the key's break-glass tag: the guard stands aside until it is removed).
 */
import { ListResourceTagsCommand } from '@aws-sdk/client-kms';
import {
  BACKSTOP_UNUSED_DAYS,
  BREAK_GLASS_TAG,
  type ProtectionStatus,
  protectionStatus,
} from '../../core/key-protection.ts';
import { type CheckInput, type CheckResult, couldNot, type Finding, finding } from './check.ts';

const CHECK = 'key protection';

/** `key protection`: reads the protection from the policy the `key policy` check learned, and the key's tags. */
export async function checkKeyProtection(
  input: Pick<CheckInput, 'clients' | 'config' | 'region' | 'key' | 'keyPolicy'>,
): Promise<CheckResult> {
  const { clients, config, region, key, keyPolicy } = input;
  if (!key?.Arn || !keyPolicy) return { findings: [] };
  const status = protectionStatus(keyPolicy);
  const findings = [protectionFinding(status, config.breakGlassRoleArns, region, Boolean(config.keyArn))];
  if (status.protected) {
    try {
      const tags = (await clients.kms.send(new ListResourceTagsCommand({ KeyId: key.Arn }))).Tags ?? [];
      const tag = tags.find((t) => t.TagKey === BREAK_GLASS_TAG);
      if (tag) {
        findings.push(
          finding(
            CHECK,
            'warn',
            `break-glass in progress (${BREAK_GLASS_TAG}=${tag.TagValue ?? ''}): the guard neither writes the protection back nor restores the key`,
            `when it is over, a break-glass role removes the tag: aws kms untag-resource --key-id ${key.Arn} --tag-keys ${BREAK_GLASS_TAG}`,
          ),
        );
      }
    } catch (err) {
      findings.push(couldNot(`${CHECK} (break-glass tag)`, err));
    }
  }
  return { findings };
}

/** The finding for a policy's protection against what is configured; pure. */
export function protectionFinding(
  status: ProtectionStatus,
  configured: readonly string[],
  region: string,
  configuredKey: boolean,
): Finding {
  const fix = `logs-kms-guard key setup --region ${region} --break-glass-role ${configured.length > 0 ? configured.join(',') : '<role ARN>'} (with a break-glass role's credentials; docs/DEPLOY.md#key-protection-and-break-glass)`;
  if (status.protected) {
    const extra = configured.filter((r) => !status.breakGlassRoles.includes(r));
    const detail = `only ${status.breakGlassRoles.join(', ')} may delete or disable the key or tag it for a break-glass; others also not while it was used in the last ${BACKSTOP_UNUSED_DAYS} days (kms:TrailingDaysWithoutKeyUsage)`;
    if (configured.length > 0 && (extra.length > 0 || configured.length !== status.breakGlassRoles.length)) {
      return finding(
        CHECK,
        'warn',
        `${detail}; but BREAK_GLASS_ROLE_ARNS names ${configured.join(', ')}`,
        configuredKey ? fix : 'the guard corrects it at its next key check (or run the fix now)',
      );
    }
    return finding(CHECK, 'ok', detail);
  }
  if (configured.length > 0) {
    return finding(
      CHECK,
      'fail',
      `BREAK_GLASS_ROLE_ARNS is set but the key is not protected: missing ${status.missing.join('; ')}`,
      fix,
    );
  }
  return finding(
    CHECK,
    'info',
    'not protected: any principal with kms:ScheduleKeyDeletion or kms:DisableKey (an administrator) can make the logs unreadable; KeyAtRisk only alarms afterwards',
    fix,
  );
}
