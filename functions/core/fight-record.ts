/**
 * The durable record of a log group fought over by an infrastructure-as-code tool: one log stream
 * `logs-kms-guard-fight/<tool>/<group>` in the enforce function's own log group, created at the first fight
 * (CreateLogStream is atomic per name: one container wins, so one alarm per group and tool). Not a tag on the
 * group: the
 * Terraform AWS provider removes, at the very apply that takes the key, every tag its configuration does not
 * declare (hashicorp/terraform#20866, the provider's `ignore_tags`), so a tag record would be gone at each
 * fight and the alarm would go off at every apply. `audit` reads these streams back (functions/cli/fights.ts).
 * Naming and parsing here, pure; the calls are in fight.ts.
 */
import { createHash } from 'node:crypto';
import type { IacTool } from './iac.ts';

/** The name prefix of every fight record stream. */
export const FIGHT_PREFIX = 'logs-kms-guard-fight/';

/** Log stream names are at most 512 characters. */
const MAX_STREAM = 512;

/** One fight record as `audit` reads it back. */
export interface FightRecord {
  tool: IacTool;
  logGroupName: string;
  /** When the first fight was recorded (the stream's creation), ISO 8601. */
  since: string;
  /** When the last one was, where the stream has events (`lastEventTimestamp`; the guard writes none today). */
  last?: string;
}

/** The stream that records fights over `logGroupName` by `tool`; a name too long keeps its end as a hash. */
export function fightStreamName(tool: IacTool, logGroupName: string): string {
  const name = `${FIGHT_PREFIX}${tool}/${logGroupName}`;
  if (name.length <= MAX_STREAM) return name;
  const hash = createHash('sha256').update(logGroupName).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_STREAM - 18)}#~${hash}`;
}

/** The fight record a stream stands for, or undefined when it is not one. */
export function parseFightStream(stream: {
  logStreamName?: string;
  creationTime?: number;
  lastEventTimestamp?: number;
}): FightRecord | undefined {
  const name = stream.logStreamName ?? '';
  if (!name.startsWith(FIGHT_PREFIX)) return undefined;
  const rest = name.slice(FIGHT_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const logGroupName = rest.slice(slash + 1);
  if (!logGroupName) return undefined;
  const iso = (ms: number | undefined) =>
    ms && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  const last = iso(stream.lastEventTimestamp);
  return {
    tool: rest.slice(0, slash) as IacTool,
    logGroupName,
    since: iso(stream.creationTime) ?? '',
    ...(last ? { last } : {}),
  };
}
