/**
 * Reads the findings out of one CloudWatch Logs subscription delivery: the `awslogs.data` payload is a gzipped,
 * base64-encoded JSON document (CloudWatch Logs User Guide, "Subscription filters with AWS Lambda") holding the
 * log events that matched the filter, each the JSON line `reportFinding` wrote (core/finding.ts). Deliveries
 * of type CONTROL_MESSAGE (CloudWatch Logs checking the destination) carry no events. A line that is not a
 * finding is reported back, not thrown: one bad line never holds the others.
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData } from 'aws-lambda';
import { FINDING_MESSAGE, type GuardFinding } from '../finding.ts';

/** What one delivery held: its findings and the lines that could not be read as one. */
export interface DecodedDelivery {
  logGroup: string;
  findings: GuardFinding[];
  rejected: { id: string; reason: string }[];
}

const KINDS = new Set([
  'group-not-encryptable',
  'key-at-risk',
  'key-policy-repaired',
  'group-fought-over',
  'guard-unhealthy',
]);
const STATES = new Set(['ACTIVE', 'RESOLVED']);
const SEVERITIES = new Set(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);

/** Why a value is not a GuardFinding, or undefined when it is one. */
export function findingProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'no finding object';
  const f = value as Record<string, unknown>;
  const resource = f.resource as Record<string, unknown> | undefined;
  if (!KINDS.has(f.kind as string)) return `unknown kind ${String(f.kind)}`;
  if (!STATES.has(f.state as string)) return `unknown state ${String(f.state)}`;
  if (!SEVERITIES.has(f.severity as string)) return `unknown severity ${String(f.severity)}`;
  for (const field of ['account', 'region', 'title', 'description', 'observedAt'])
    if (typeof f[field] !== 'string' || !f[field]) return `missing ${field}`;
  if (!/^\d{12}$/.test(f.account as string)) return 'account is not a 12-digit id';
  if (Number.isNaN(Date.parse(f.observedAt as string))) return 'observedAt is not a date';
  if (typeof resource?.arn !== 'string' || typeof resource.name !== 'string')
    return 'missing resource arn/name';
  return undefined;
}

/** The JSON object of a log line: the line itself, or what follows a runtime prefix (`<time>\t<id>\t<level>\t`). */
function jsonOf(message: string): Record<string, unknown> | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(message.slice(start));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a delivery's `awslogs.data` and picks out each finding line. */
export function decodeDelivery(data: string): DecodedDelivery {
  const decoded = JSON.parse(
    gunzipSync(Buffer.from(data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
  const out: DecodedDelivery = { logGroup: decoded.logGroup ?? '', findings: [], rejected: [] };
  if (decoded.messageType !== 'DATA_MESSAGE') return out;
  for (const event of decoded.logEvents ?? []) {
    const line = jsonOf(event.message);
    if (line?.message !== FINDING_MESSAGE) {
      out.rejected.push({ id: event.id, reason: 'not a finding line' });
      continue;
    }
    const problem = findingProblem(line.finding);
    if (problem) out.rejected.push({ id: event.id, reason: problem });
    else out.findings.push(line.finding as GuardFinding);
  }
  return out;
}

/** The findings with one per id: the latest observation of each (an ACTIVE then RESOLVED in one delivery is RESOLVED). */
export function latestPerId<T extends GuardFinding>(findings: readonly T[], idOf: (f: T) => string): T[] {
  const latest = new Map<string, T>();
  for (const f of findings) {
    const id = idOf(f);
    const seen = latest.get(id);
    if (!seen || Date.parse(f.observedAt) >= Date.parse(seen.observedAt)) latest.set(id, f);
  }
  return [...latest.values()];
}
