/**
 * The benchmark's rig: what only the benchmark needs around a local world (local/world.ts: its account,
 * region, credentials, SDK clients, the guard's key behind its alias): its own function name, quota draining,
 * its CloudTrail events, child processes and the facts a report records (commit, Node version).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AssociateKmsKeyCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { createLogGroupEvent } from '../../local/emulator/events.ts';
import {
  ACCOUNT,
  GUARD_TAGS,
  REGION,
  sdkClients,
  handlerEnv as worldHandlerEnv,
  worldOf,
} from '../../local/world.ts';

export const root = join(import.meta.dirname, '..', '..');
/** The bench's enforce function: its name and ARN in the world's account and region. */
const FUNCTION_NAME = 'logs-kms-guard-bench-enforce';
export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${FUNCTION_NAME}`;

/** The Node 22 the project pins (the Lambda runtime's major), not whatever `node` is on PATH. */
export const NODE = existsSync(join(root, 'node_modules/.bin/node'))
  ? join(root, 'node_modules/.bin/node')
  : process.execPath;

/** Environment of a handler process pointed at the emulator. */
export function handlerEnv(emulator: Emulator, region = REGION): Record<string, string> {
  return { ...worldHandlerEnv(emulator, region), AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME };
}

/** The guard's key as it is after the first event of a region: right policy, propagated, behind the alias. */
export async function guardKey(emulator: Emulator, region = REGION) {
  return worldOf(emulator, { region }).createGuardKey({
    policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region, account: ACCOUNT })),
    tags: { ...GUARD_TAGS, 'logs-kms-guard:role': 'active' },
    rotation: true,
  });
}

const DRAINABLE = {
  AssociateKmsKey: () => new AssociateKmsKeyCommand({ logGroupName: '/bench/drain/none', kmsKeyId: 'x' }),
  DescribeLogGroups: () =>
    new DescribeLogGroupsCommand({ logGroupNamePrefix: '/bench/drain/none', limit: 1 }),
  ListTagsForResource: () =>
    new ListTagsForResourceCommand({
      resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/bench/drain/none`,
    }),
};

/**
 * Leaves the emulator's quota bucket of each operation holding one second of AWS time, as AWS's does.
 * The emulator's buckets hold one second of the scaled rate, i.e. `timeScale` seconds of AWS time (at
 * ×50, 250 AssociateKmsKey calls instead of 5), which an unpaced caller would get for free. So: call the
 * operation on a group that does not exist (the quota is taken before the group is looked up; nothing
 * changes) until it is throttled, then wait one scaled second for the bucket to hold one second's worth.
 * By default only AssociateKmsKey, the sweep's bottleneck: the other buckets refill faster than a few
 * lanes of calls on this machine can empty them, and their extra burst does not shorten the sweep.
 */
export async function drainQuotas(
  emulator: Emulator,
  timeScale: number,
  operations: (keyof typeof DRAINABLE)[] = ['AssociateKmsKey'],
): Promise<void> {
  const { logs } = sdkClients(emulator, REGION, { maxAttempts: 1 });
  // All at once, until every one has been throttled: a bucket drained first would refill meanwhile.
  const throttled = new Set<string>();
  const lane = async (op: keyof typeof DRAINABLE) => {
    for (let i = 0; throttled.size < operations.length && i < 5_000; i++) {
      try {
        await logs.send(DRAINABLE[op]() as never);
      } catch (err) {
        if ((err as Error).name === 'ThrottlingException') throttled.add(op);
      }
    }
  };
  await Promise.all(operations.flatMap((op) => Array.from({ length: 8 }, () => lane(op))));
  if (throttled.size < operations.length)
    throw new Error(`could not drain the quotas of ${operations.join(', ')}`);
  await new Promise((resolve) => setTimeout(resolve, 1000 / timeScale));
}

/** Who the bench's CloudTrail events say created the group: a role's session, through the AWS CLI. */
const BENCH_CALLER = {
  userIdentity: { type: 'AssumedRole', accountId: ACCOUNT },
  userAgent: 'aws-cli/2.15.0',
  sourceIp: '198.51.100.7',
};

/** A CloudTrail CreateLogGroup event for `name`, made now, as EventBridge delivers it. */
export function createEvent(name: string, region = REGION) {
  return createLogGroupEvent({ region, account: ACCOUNT }, { logGroupName: name }, BENCH_CALLER);
}

export interface ChildRun<T> {
  /** From just before spawn to the process's exit, as the parent sees it. */
  wallMs: number;
  /** The JSON of the child's `BENCH {...}` line on stderr. */
  out: T;
  code: number;
  /** Its stdout, when kept (`keepStdout`); else empty. */
  stdout: string;
  /** The end of its stderr, the BENCH line left out. */
  stderrTail: string;
}

/** How a child process runs: where, with which Node flags, what of its output is kept, which exits are fine. */
export interface ChildOptions {
  /** Default the repository. */
  cwd?: string;
  nodeArgs?: string[];
  /** Keep its stdout (default: discarded; the guard's JSON log lines). */
  keepStdout?: boolean;
  /** The exit codes of a run that counts (default 0); `any`: whatever it exits with, as long as it reports. */
  exitCodes?: readonly number[] | 'any';
  /** What the error calls it (default `child <argv>`). */
  name?: string;
}

/** How much of a child's stderr is kept: its BENCH line is written last; progress before it can be long. */
const STDERR_KEPT = 200_000;

/**
 * Runs a fresh Node 22 process (only PATH and `env` in its environment) and returns the `BENCH {...}` line
 * it writes on stderr, with its spawn-to-exit time and exit code; rejects when it exits otherwise than
 * `options.exitCodes` allow or without that line.
 */
export function runChild<T>(
  argv: string[],
  env: Record<string, string>,
  options: ChildOptions = {},
): Promise<ChildRun<T>> {
  const { exitCodes = [0], name = `child ${argv.join(' ')}` } = options;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const p = spawn(NODE, [...(options.nodeArgs ?? []), ...argv], {
      cwd: options.cwd ?? root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', options.keepStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let err = '';
    p.stdout?.on('data', (d) => {
      stdout += d;
    });
    p.stderr?.on('data', (d) => {
      err = (err + d).slice(-STDERR_KEPT);
    });
    p.on('error', reject);
    p.on('close', (exit) => {
      const wallMs = performance.now() - started;
      const code = exit ?? -1;
      const line = err.split('\n').find((l) => l.startsWith('BENCH '));
      if (!line || (exitCodes !== 'any' && !exitCodes.includes(code)))
        reject(new Error(`${name} exited ${code}: ${err.slice(-2000)}`));
      else
        resolve({
          wallMs,
          out: JSON.parse(line.slice(6)) as T,
          code,
          stdout,
          stderrTail: err.replace(line, '').slice(-3000),
        });
    });
  });
}

/** The checked-out commit (read-only git), with "+dirty" when the working tree differs from it. */
export function commitId(): string {
  const git = (...args: string[]) =>
    execFileSync('git', ['--no-optional-locks', ...args], {
      cwd: root,
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    let dirty = false;
    try {
      git('diff', '--quiet', 'HEAD', '--');
    } catch {
      dirty = true;
    }
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Node version of the child processes (the Lambda-like ones). */
export function childNodeVersion(): string {
  try {
    return execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
