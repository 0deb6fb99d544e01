/**
 * A log group an infrastructure-as-code tool keeps taking the key from (Terraform without `kms_key_id`, Pulumi,
 * CloudFormation or the CDK dropping KmsKeyId): the guard has already put the key back (drift.ts reEncrypt;
 * the group is never left unencrypted), and here it tells the owner once, not at every apply: the first fight
 * over a group (by a tool) raises IacConflict, writes one error line naming the tool, the group and the exact
 * fix with the guard key's ARN (iac-fix.ts), and reports a `group-fought-over` finding; every later fight is
 * counted (IacReEncrypted, not alarmed) and appended to the record (fight-record.ts) without a second alarm.
 * The record lives in the function's own log group, where its OwnLogs grant already allows CreateLogStream: no
 * new permission, and one call per fight. (No event is appended per fight: PutLogEvents would weigh about 1 KB on
 * the enforce bundle for a "last fought" date.)
 */
import { CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { logGroupArn, partitionOf } from './arn.ts';
import type { ChangeRequest } from './change-event.ts';
import { systemClock } from './clock.ts';
import type { EnforceDeps, EnforceResult } from './enforce.ts';
import { fightStreamName } from './fight-record.ts';
import { reportFinding } from './finding.ts';
import type { IacTool, ToolSighting } from './iac.ts';
import { fixFor, toolLabel } from './iac-fix.ts';
import { rememberHandled } from './once.ts';

/**
 * Fights this container has alarmed on although they could not be recorded (no own log group, a refused or
 * failed CreateLogStream): at most one alarm per group and tool per container then, not one per apply.
 */
const alarmedHere = new Set<string>();

/** Whether this fight is the first recorded for the group and tool. */
export type FightClaim = 'first' | 'again' | 'unrecorded';

/**
 * Records one fight: `first` when this call created the record, `again` when it existed; `unrecorded` when
 * there is nowhere to record it (no own log group) or the call failed: then it counts as a first (an alarm
 * twice is better than none, as once.ts decides for change events).
 */
export async function claimFight(
  deps: Pick<EnforceDeps, 'clients' | 'ownLogGroup' | 'log'>,
  tool: IacTool,
  logGroupName: string,
): Promise<FightClaim> {
  if (!deps.ownLogGroup) return 'unrecorded';
  const logStreamName = fightStreamName(tool, logGroupName);
  const logs = deps.clients.logs;
  try {
    await logs.send(new CreateLogStreamCommand({ logGroupName: deps.ownLogGroup, logStreamName }));
    return 'first';
  } catch (err) {
    if ((err as Error).name === 'ResourceAlreadyExistsException') return 'again';
    deps.log.warn('could not record the fight over the log group', {
      logGroupName,
      errorName: (err as Error).name,
    });
    return 'unrecorded';
  }
}

/** After the key was put back on a group an IaC tool took it from: the one alarm, line and finding, once. */
export async function reportFight(
  change: ChangeRequest & { name: string; tool: ToolSighting },
  result: EnforceResult,
  deps: EnforceDeps,
): Promise<EnforceResult> {
  const { tool } = change.tool;
  const keyArn = result.keyArn ?? '';
  let claim = await claimFight(deps, tool, change.name);
  const here = `${tool}/${change.name}`;
  if (claim === 'unrecorded' && alarmedHere.has(here)) claim = 'again';
  else if (claim === 'unrecorded') rememberHandled(alarmedHere, here);
  const label = toolLabel(tool);
  const outcome = { ...result, outcome: 'fight-re-encrypted' as const };
  if (claim === 'again') {
    return {
      ...outcome,
      reason: `${label} removed the key again (reported at its first fight); ${result.reason}`,
    };
  }
  const fix = fixFor(tool, change.name, keyArn);
  deps.alert?.('IacConflict');
  deps.log.error(
    `${label} keeps removing the guard key from ${change.name}: the guard puts it back after each apply; declare the key there`,
    {
      logGroupName: change.name,
      tool,
      ...(change.tool.version ? { toolVersion: change.tool.version } : {}),
      keyArn,
      fix,
      ...(change.callerRole ? { callerRole: change.callerRole } : {}),
    },
  );
  const clock = deps.clock ?? systemClock;
  reportFinding(deps.log, {
    kind: 'group-fought-over',
    state: 'ACTIVE',
    severity: 'MEDIUM',
    account: change.account,
    region: change.region,
    resource: {
      type: 'log-group',
      arn: logGroupArn(partitionOf(change.region), change.region, change.account, change.name),
      name: change.name,
    },
    title: `${label} keeps removing the KMS key from ${change.name}`,
    description: `${label} disassociated the guard key from the log group (its configuration declares no key), and will again at every apply; the guard associates it back each time, but logs written in between are under the AWS-owned key.`,
    fix,
    observedAt: new Date(clock.now()).toISOString(),
    tool,
  });
  return { ...outcome, reason: `${label} removed the key (first fight: alarmed); ${result.reason}` };
}
