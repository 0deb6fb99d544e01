/**
 * What happens after creation: a group loses its key, the guard key's policy is narrowed, its rotation turned
 * off, or a key that log groups use is disabled or scheduled for deletion ("If you revoke CloudWatch Logs
 * access to an associated CMK or delete an associated CMK, your encrypted data in CloudWatch Logs can no longer
 * be retrieved": CloudWatch Logs user guide, encrypt-log-data-kms). One step per change, from its CloudTrail
 * event (change-event.ts `ChangeRequest`), in the changes function. Nothing here disables, deletes or narrows a key.
 */
import { ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CancelKeyDeletionCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { logGroupArn, partitionOf } from './arn.ts';
import type { ChangeRequest } from './change-event.ts';
import { systemClock } from './clock.ts';
import { type EnforceDeps, type EnforceResult, enforceLogGroup } from './enforce.ts';
import { reportFight } from './fight.ts';
import { reportFinding } from './finding.ts';
import { isIacTool } from './iac.ts';
import {
  describeKey,
  ensureKey,
  ensureKeyPolicy,
  invalidateKey,
  type KeyStepOptions,
  keyContext,
  send,
} from './key.ts';
import { findKeyDependents, type KeyDependents } from './key-dependents.ts';
import { keyPolicyRepairedFinding } from './key-policy-finding.ts';
import { BREAK_GLASS_TAG, breakGlassInProgress, isBreakGlassRole } from './key-protection.ts';
import { ownerKeyOf } from './key-record.ts';
import { writeKeyRecord } from './key-record-store.ts';
import { retryTransient } from './retry.ts';

/** Handles one change to a group or key; answers the decision like enforceLogGroup does. */
export async function handleChange(change: ChangeRequest, deps: EnforceDeps): Promise<EnforceResult> {
  const { config } = deps;
  const done = (outcome: EnforceResult['outcome'], reason: string, extra: Partial<EnforceResult> = {}) => ({
    outcome,
    logGroupName: change.name ?? '',
    reason,
    ...extra,
  });
  // The guard's own writes (its policy merges, its associations) come back as events too.
  if (change.callerRole && config.guardRoleArn && change.callerRole === config.guardRoleArn) {
    return done('change-ignored', `${change.change} by the guard itself`);
  }
  const ctx = keyContext(config, change.region, change.account);
  const keyOptions: KeyStepOptions = {
    clients: deps.clients,
    config,
    ctx,
    log: deps.log,
    deadline: deps.deadline,
    clock: deps.clock,
    creator: deps.keyCreator,
    ownLogGroup: deps.ownLogGroup,
    // A break-glass role's own change (its PutKeyPolicy) is never merged back over.
    ...(isBreakGlassRole(change.callerRole, config.breakGlassRoleArns) ? { breakGlass: true } : {}),
  };
  switch (change.change) {
    case 'disassociated':
      return reEncrypt(change, deps);
    case 'key-check':
      return checkGuardKey(change, deps, keyOptions);
    case 'alias-deleted':
    case 'alias-updated': {
      if (change.aliasName !== config.keyAlias || config.keyArn) {
        return done('change-ignored', `${change.aliasName} is not the guard alias`);
      }
      invalidateKey(keyOptions);
      deps.alert?.('KeyAliasChanged');
      deps.log.error('the guard alias was deleted or moved: the guard creates no second key on a guess', {
        alias: change.aliasName,
        change: change.change,
        ...(change.keyId ? { nowPointsTo: change.keyId } : {}),
        fix: `logs-kms-guard doctor --region ${change.region}`,
      });
      return done('alias-changed', `${change.aliasName}: ${change.change}`);
    }
    default:
      break;
  }
  const key = await describeKey(keyOptions, change.keyId as string);
  if (!key?.Arn || !key.KeyId) return done('change-ignored', `key ${change.keyId} no longer exists`);
  const guard = await isGuardKey(keyOptions, key);
  if (change.change === 'key-policy-changed') {
    if (!guard) return done('change-ignored', `${key.Arn} is not the guard key`, { keyArn: key.Arn });
    invalidateKey(keyOptions);
    const after = await ensureKeyPolicy({
      ...keyOptions,
      key: { arn: key.Arn, keyId: key.KeyId, own: !config.keyArn },
    });
    if (after.changedAt === undefined) {
      return done('change-ignored', 'the key policy still admits CloudWatch Logs', { keyArn: key.Arn });
    }
    deps.alert?.('KeyPolicyRepaired');
    reportRepaired(change, deps, key.Arn);
    return done('key-policy-repaired', 'the CloudWatch Logs statement was merged back', { keyArn: key.Arn });
  }
  if (change.change === 'rotation-disabled') {
    if (!guard || config.keyArn) {
      return done('change-ignored', `${key.Arn} is not a key the guard manages`, { keyArn: key.Arn });
    }
    await send(keyOptions, (kms) => kms.send(new EnableKeyRotationCommand({ KeyId: key.Arn })));
    return done('rotation-restored', 'automatic rotation turned back on', { keyArn: key.Arn });
  }
  // Disabled or scheduled for deletion: what CloudWatch Logs will no longer be able to read.
  if (key.KeyState === 'Enabled') {
    return done('change-ignored', `${key.Arn} is Enabled again (the change was undone)`, { keyArn: key.Arn });
  }
  const found = await findKeyDependents(deps, change, key.Arn);
  const users = { count: found.dependents.length, complete: found.complete };
  if (users.count === 0 && !guard) {
    return done('change-ignored', `no log group of this region uses ${key.Arn}`, { keyArn: key.Arn });
  }
  const when = key.DeletionDate ? new Date(key.DeletionDate).toISOString() : change.deletionDate;
  deps.alert?.('KeyAtRisk', Math.max(users.count, 1));
  const previous = found.dependents.filter((d) => d.kind === 'previous').map((d) => d.name);
  const fix =
    key.KeyState === 'PendingDeletion'
      ? `aws kms cancel-key-deletion --key-id ${key.Arn} && aws kms enable-key --key-id ${key.Arn}`
      : `aws kms enable-key --key-id ${key.Arn}`;
  deps.log.error(
    'a key that log groups use is disabled or scheduled for deletion: their data becomes unreadable',
    {
      keyArn: key.Arn,
      keyState: key.KeyState,
      groups: users.count,
      groupsCountComplete: users.complete,
      // Groups on another key now whose older data (until retention removes it) is under this one.
      ...(previous.length ? { previousKeyOf: previous.length } : {}),
      ...(when ? { unreadableFrom: when } : {}),
      guardKey: guard,
      fix,
    },
  );
  reportKeyAtRisk(deps, change, { keyArn: key.Arn, state: key.KeyState ?? 'unknown', when, fix }, found);
  const summary = `${users.count}${users.complete ? '' : '+'} log group(s) on ${key.Arn} (${key.KeyState}${when ? `, unreadable from ${when}` : ''})`;
  if (guard && !config.keyArn && config.restoreGuardKey) {
    const breakGlass = await breakGlassOf(change, keyOptions, key.Arn);
    if (breakGlass) {
      // RESTORE_GUARD_KEY never undoes a break-glass: the alarm above is its trail, the key stays as it was left.
      deps.log.warn(`RESTORE_GUARD_KEY: not restoring the guard key: ${breakGlass}`, { keyArn: key.Arn });
      return done('key-at-risk', `${summary}; not restored: ${breakGlass}`, { keyArn: key.Arn });
    }
    if (key.KeyState === 'PendingDeletion') {
      await send(keyOptions, (kms) => kms.send(new CancelKeyDeletionCommand({ KeyId: key.Arn }))).catch(
        (err: Error) => {
          // Cancelled meanwhile (by a person, or a duplicate of this event): EnableKey below is still right.
          if (err.name !== 'KMSInvalidStateException') throw err;
        },
      );
    }
    await send(keyOptions, (kms) => kms.send(new EnableKeyCommand({ KeyId: key.Arn })));
    deps.log.warn('RESTORE_GUARD_KEY: the guard key is enabled again', { keyArn: key.Arn });
    return done('key-restored', `${summary}; restored (deletion cancelled, key enabled)`, {
      keyArn: key.Arn,
    });
  }
  return done('key-at-risk', summary, { keyArn: key.Arn });
}

/**
 * Why a deletion or disabling of the guard key is a break-glass, in words; undefined when it is not: the change
 * was made by a break-glass role (its CloudTrail caller), or the key carries the break-glass tag (which the key
 * policy lets only break-glass roles set; read only when BREAK_GLASS_ROLE_ARNS is set). A tag that cannot be read
 * counts as none.
 */
async function breakGlassOf(
  change: ChangeRequest,
  keyOptions: KeyStepOptions,
  keyArn: string,
): Promise<string | undefined> {
  const roles = keyOptions.config.breakGlassRoleArns;
  if (isBreakGlassRole(change.callerRole, roles)) return `made by the break-glass role ${change.callerRole}`;
  // Without break-glass roles there is no protection, and the tag means nothing: no call.
  if (roles.length === 0) return undefined;
  try {
    const out = await send(keyOptions, (kms) => kms.send(new ListResourceTagsCommand({ KeyId: keyArn })));
    if (!breakGlassInProgress(out.Tags)) return undefined;
    const value = out.Tags?.find((t) => t.TagKey === BREAK_GLASS_TAG)?.TagValue ?? '';
    return `break-glass in progress (${BREAK_GLASS_TAG}=${value})`;
  } catch (err) {
    keyOptions.log.warn('could not read the guard key tags to look for a break-glass', {
      keyArn,
      error: (err as Error).name,
    });
    return undefined;
  }
}

/**
 * The scheduled verification of the guard key (events can be lost): a missing guard key is created (the enforce
 * function creates none; its records wait in the queue meanwhile), a key disabled or pending deletion raises
 * KeyAtRisk, a policy that no longer admits Logs is merged back, rotation is turned back on.
 */
async function checkGuardKey(change: ChangeRequest, deps: EnforceDeps, keyOptions: KeyStepOptions) {
  const { config } = deps;
  const key = await describeKey(keyOptions, config.keyArn ?? config.keyAlias);
  if (!key?.Arn || !key.KeyId) {
    if (config.keyArn || !keyOptions.creator) {
      return {
        outcome: 'change-ignored' as const,
        logGroupName: '',
        reason: `${config.keyArn ?? config.keyAlias} does not exist`,
      };
    }
    const created = await ensureKey(keyOptions);
    return {
      outcome: 'key-created' as const,
      logGroupName: '',
      reason: `guard key check: ${config.keyAlias} did not exist; created ${created.arn}`,
      keyArn: created.arn,
    };
  }
  if (key.KeyState !== 'Enabled') {
    return handleChange({ ...change, change: 'key-disabled', keyId: key.Arn }, deps);
  }
  const findings: string[] = [];
  const after = await ensureKeyPolicy({
    ...keyOptions,
    key: { arn: key.Arn, keyId: key.KeyId, own: !config.keyArn },
  });
  if (after.changedAt !== undefined) {
    deps.alert?.('KeyPolicyRepaired');
    reportRepaired(change, deps, key.Arn);
    findings.push('policy merged back');
  }
  if (!config.keyArn) {
    const rotation = await send(keyOptions, (kms) =>
      kms.send(new GetKeyRotationStatusCommand({ KeyId: key.Arn })),
    );
    if (!rotation.KeyRotationEnabled) {
      await send(keyOptions, (kms) => kms.send(new EnableKeyRotationCommand({ KeyId: key.Arn })));
      findings.push('rotation turned back on');
    }
  }
  return {
    outcome: findings.length ? ('key-policy-repaired' as const) : ('change-ignored' as const),
    logGroupName: '',
    reason: findings.length
      ? `guard key check: ${findings.join(', ')}`
      : 'guard key check: enabled, policy and rotation as they should be',
    keyArn: key.Arn,
  };
}

/** Writes the key-policy-repaired finding line (core/key-policy-finding.ts) for the findings function. */
function reportRepaired(change: ChangeRequest, deps: EnforceDeps, keyArn: string): void {
  const now = new Date((deps.clock ?? systemClock).now()).toISOString();
  const name = deps.config.keyArn ? keyArn : deps.config.keyAlias;
  reportFinding(
    deps.log,
    keyPolicyRepairedFinding(keyArn, name, { account: change.account, region: change.region, now }),
  );
}

/** A group lost its key: encrypt it again, unless it is out of scope now (the rollback's skip tag, exclusions). */
async function reEncrypt(change: ChangeRequest, deps: EnforceDeps): Promise<EnforceResult> {
  const name = change.name as string;
  const arn = logGroupArn(partitionOf(change.region), change.region, change.account, name);
  let tags: Record<string, string>;
  try {
    const out = await retryTransient(
      () => deps.clients.logs.send(new ListTagsForResourceCommand({ resourceArn: arn })),
      { deadline: deps.deadline, clock: deps.clock ?? systemClock },
    );
    tags = out.tags ?? {};
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') {
      return { outcome: 'group-gone', logGroupName: name, reason: 'the log group no longer exists' };
    }
    throw err;
  }
  // A key its owner chose at creation was removed: the data so far stays under it (key-record.ts).
  const ownerKey = ownerKeyOf(tags);
  if (ownerKey) {
    await writeKeyRecord({
      clients: deps.clients,
      arn,
      previousKey: ownerKey,
      tags,
      log: deps.log,
      clock: deps.clock,
      deadline: deps.deadline,
    });
  }
  const result = await enforceLogGroup(
    { name, region: change.region, account: change.account, tags, tagsCurrent: true },
    deps,
  );
  if (result.outcome !== 'encrypted') return result;
  // An infrastructure-as-code tool will remove it again at its next apply: one alarm per group, not per apply.
  if (change.tool && isIacTool(change.tool.tool))
    return reportFight({ ...change, name, tool: change.tool }, result, deps);
  return { ...result, outcome: 're-encrypted', reason: `its key was removed; ${result.reason}` };
}

/** True when `key` is the key the guard associates: the configured one, or the one behind the guard alias. */
async function isGuardKey(options: KeyStepOptions, key: KeyMetadata): Promise<boolean> {
  const { config } = options;
  if (config.keyArn) return config.keyArn === key.Arn || config.keyArn.endsWith(`/${key.KeyId}`);
  const behind = await describeKey(options, config.keyAlias);
  return behind?.KeyId === key.KeyId;
}

/** The key-at-risk finding (finding.ts): the key, every group whose data needs it, and from when it is unreadable. */
function reportKeyAtRisk(
  deps: EnforceDeps,
  change: ChangeRequest,
  key: { keyArn: string; state: string; when: string | undefined; fix: string },
  found: KeyDependents,
): void {
  const names = found.dependents.map((d) => d.name);
  const previous = found.dependents.filter((d) => d.kind === 'previous').length;
  const clock = deps.clock ?? systemClock;
  reportFinding(deps.log, {
    kind: 'key-at-risk',
    state: 'ACTIVE',
    severity: key.state === 'PendingDeletion' ? 'CRITICAL' : 'HIGH',
    account: change.account,
    region: change.region,
    resource: { type: 'kms-key', arn: key.keyArn, name: key.keyArn.split('/').pop() ?? key.keyArn },
    title: `A KMS key that log data depends on is ${key.state === 'PendingDeletion' ? 'scheduled for deletion' : 'disabled'}`,
    description:
      `${names.length}${found.complete ? '' : '+'} log group(s) hold data under ${key.keyArn} (${key.state})` +
      (previous
        ? `, ${previous} of them from before their key changed (kept until retention removes it)`
        : '') +
      `: CloudWatch Logs cannot read it while the key is ${key.state === 'PendingDeletion' ? 'pending deletion, and never after' : 'disabled'}.`,
    fix: key.fix,
    observedAt: new Date(clock.now()).toISOString(),
    dependents: names,
    ...(key.when ? { unreadableFrom: key.when } : {}),
  });
}
