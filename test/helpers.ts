/**
 * Test-only helpers every part of test/ shares: captured events, a fake clock, a memory log, the functions'
 * captured output, the key-policy statements a user writes, and waiting. What a local world is (account,
 * region, credentials, the guard's alias) lives in local/world.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { vi } from 'vitest';
import type { Clock } from '../functions/core/clock.ts';
import { ENFORCE_FUNCTION } from '../local/functions.ts';
import { ACCOUNT, REGION } from '../local/world.ts';

const eventsDir = join(dirname(fileURLToPath(import.meta.url)), 'events');

/** A fresh deep copy of a captured event from test/events/, safe to change per test. */
export function loadEvent<T = Record<string, any>>(file: string): T {
  return JSON.parse(readFileSync(join(eventsDir, file), 'utf8')) as T;
}

/** A clock whose sleeps advance time instantly; `slept` records every wait. */
export function fakeClock(start = 1_800_000_000_000): Clock & { slept: number[]; advance(ms: number): void } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A Log that keeps what it was told, for assertions on decisions. */
export function memoryLog() {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push({ level, message, ...(extra ? { extra } : {}) });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A customer-managed key of the world's account and region (the one in create-log-group-with-kms-key.json). */
export const KEY_ID = '1f2e3d4c-5b6a-7988-a1b2-c3d4e5f60718';
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;

/** A log group as DescribeLogGroups lists it in the world's account and region, on `kmsKeyId` when given. */
export const listedGroup = (name: string, kmsKeyId?: string): LogGroup => ({
  logGroupName: name,
  logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`,
  ...(kmsKeyId ? { kmsKeyId } : {}),
});
/** Another key of the same account and region: someone else's. */
export const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-5b6a-7988-a1b2-c3d4e5f60718`;

/** The enforce function of the default stack in the world's account and region. */
export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${ENFORCE_FUNCTION}`;

/** One page of a mocked DescribeLogGroups: `size` of `groups` from the page `nextToken` ("p1", "p2", …) names. */
export function logGroupPage<T>(groups: T[], nextToken: string | undefined, size: number) {
  const page = nextToken ? Number(nextToken.slice(1)) : 0;
  const more = (page + 1) * size < groups.length;
  return {
    logGroups: groups.slice(page * size, (page + 1) * size),
    ...(more ? { nextToken: `p${page + 1}` } : {}),
  };
}

/** Everything the functions write (JSON log lines and EMF documents), kept off the console. */
export function captureOutput() {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(line);
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep as never);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep as never);
  const json = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
  return {
    lines,
    /** Sum of every EMF count by metric name. */
    metrics(): Record<string, number> {
      const totals: Record<string, number> = {};
      for (const doc of json()) {
        for (const m of doc._aws?.CloudWatchMetrics?.[0]?.Metrics ?? []) {
          totals[m.Name] = (totals[m.Name] ?? 0) + Number(doc[m.Name] ?? 0);
        }
      }
      return totals;
    },
    /** The `decision` log lines, one per record handled. */
    decisions(): Record<string, any>[] {
      return json().filter((d) => d.message === 'decision');
    },
    restore() {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

/** A key policy document of these statements. */
export const policyOf = (...statements: unknown[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** The statement of AWS's default key policy: the account (its IAM policies) may do anything with the key. */
export const rootStatement = (account = ACCOUNT, partition = 'aws') => ({
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:${partition}:iam::${account}:root` },
  Action: 'kms:*',
  Resource: '*',
});

/**
 * The statement a user adds so that CloudWatch Logs of `region` may use the key for the account's groups
 * (`conditionRegion`: the groups of another region, as in a policy copied from elsewhere).
 */
export const logsStatement = (region: string, account = ACCOUNT, conditionRegion = region) => ({
  Sid: 'AllowCloudWatchLogs',
  Effect: 'Allow',
  Principal: { Service: `logs.${region}.amazonaws.com` },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: {
    ArnLike: {
      'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${conditionRegion}:${account}:log-group:*`,
    },
  },
});

/** Waits `ms` real milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true (false when `timeoutMs` passes). */
export async function until(check: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
  return true;
}
