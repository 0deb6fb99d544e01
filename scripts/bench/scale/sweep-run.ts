/**
 * One run of the scheduled sweep as deployed, for the scale section: dist/sweep.mjs in one warm Lambda
 * container (scripts/bench/scale-child.ts, its clock at the emulator's time scale), the scheduled event, then
 * each self-invocation the emulator's Lambda service receives handed back to it, until one answers `done`.
 * Optionally with one invocation failing half-way (SQS refusing its batches), to see the run resume.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Emulator, InterceptedRequest, Interception } from '../../../local/emulator/emulator.ts';
import { ACCOUNT, credentials, REGION } from '../../../local/world.ts';
import { byOperation, throttledOf } from '../api-calls.ts';
import { NODE, root } from '../rig.ts';
import { PAGE, QUOTA } from '../settings.ts';
import type { ScaleArgs } from './args.ts';
import type { Region } from './region.ts';
import { SWEEP_FUNCTION } from './settings.ts';

/** The Lambda maximum, the sweep function's timeout (serverless.yml). */
const LAMBDA_TIMEOUT_MS = 15 * 60_000;
/** Lambda's first retry of a failed asynchronous invocation comes about a minute later. */
const ASYNC_RETRY_DELAY_MS = 60_000;
const SWEEP_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${SWEEP_FUNCTION}`;

/** What the container reports for one invocation. */
export interface InvocationOut {
  id: number;
  ok: boolean;
  result?: { done?: boolean; continued?: boolean; counts?: Record<string, number>; nextToken?: string };
  error?: string;
  scaledMs: number;
  realMs: number;
  startRssMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  vmHwmMb?: number;
  heapAfterGcMb: number;
}

/** One sweep run: its time, its invocations, and what the emulator saw of it. */
export interface SweepRun {
  wallMs: number;
  scaledMs: number;
  invocations: (InvocationOut & { startToken?: string; retry: boolean })[];
  pagesServed: number;
  /** SendMessageBatch calls the failure refused. */
  injected: number;
  firstPages: number;
  calls: number;
  throttled: number;
  ops: Record<string, number>;
  messages: Map<string, number>;
  listed: number;
  /** The container's import of dist/sweep.mjs (real ms, before the run). */
  loadMs: number;
}

/** Counts the SQS work items each group gets (the emulator's message hook), until `off`. */
function countMessages(emulator: Emulator) {
  const messages = new Map<string, number>();
  const off = emulator.onMessage((m) => {
    const name = (JSON.parse(m.body) as { detail?: { logGroupName?: string } }).detail?.logGroupName;
    if (name) messages.set(name, (messages.get(name) ?? 0) + 1);
  });
  return { messages, off };
}

/**
 * The failure run's fault, as the emulator's `intercept`: invocation `failing`'s SendMessageBatch calls fail
 * (ServiceUnavailable) once it has had half an invocation's pages served. `begin(n)` marks invocation n's start.
 */
function halfwayFault(failing: number) {
  // Pages each invocation has had served, for the failure: half of an invocation's ~8,800 pages.
  const pagesPerInvocation = ((LAMBDA_TIMEOUT_MS - 30_000) / 1000) * QUOTA.describe;
  let describeServed = 0;
  let current = 0;
  let failFrom: number | undefined;
  const fault = {
    /** SendMessageBatch calls refused so far. */
    injected: 0,
    begin(n: number) {
      current = n;
      describeServed = 0;
    },
    intercept(req: InterceptedRequest): Interception | undefined {
      if (req.operation === 'DescribeLogGroups') describeServed++;
      if (current === failing && failFrom === undefined && describeServed >= pagesPerInvocation / 2)
        failFrom = describeServed;
      if (req.operation === 'SendMessageBatch' && current === failing && failFrom !== undefined) {
        fault.injected++;
        return {
          kind: 'error',
          name: 'ServiceUnavailable',
          message: 'injected: SQS unavailable',
          status: 503,
        };
      }
      return undefined;
    },
  };
  return fault;
}

/** The sweep function's warm container: scripts/bench/scale-child.ts `sweep`, pointed at the region. */
function startContainer(region: Region, s: ScaleArgs, home: string): ChildProcess {
  return fork(join(root, 'scripts/bench/scale-child.ts'), ['sweep'], {
    cwd: root,
    execPath: NODE,
    execArgv: ['--expose-gc'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_ENDPOINT_URL: region.emulator.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: SWEEP_FUNCTION,
      ENFORCE_QUEUE_URL: region.queueUrl,
      // The rates at the quotas themselves (the defaults, 8 and 4, leave room for other callers).
      SWEEP_DESCRIBE_RATE: String(QUOTA.describe),
      SWEEP_TAGS_RATE: '5',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      BENCH_TIME_SCALE: String(s.timeScale),
      BENCH_BUNDLE: join(root, 'dist/sweep.mjs'),
      BENCH_FUNCTION_ARN: SWEEP_ARN,
      BENCH_TIMEOUT_MS: String(LAMBDA_TIMEOUT_MS),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

/** Hands payloads to the container, one invocation each, remembering each one's payload and start token. */
function invoker(child: ChildProcess) {
  const pending: { id: number; payload: unknown; startToken?: string; retry: boolean }[] = [];
  let nextId = 1;
  const send = (payload: unknown, retry = false) => {
    const token = (payload as { resume?: { nextToken?: string } }).resume?.nextToken;
    const item = { id: nextId++, payload, retry, ...(token ? { startToken: token } : {}) };
    pending.push(item);
    child.send({ id: item.id, payload });
  };
  return { pending, send };
}

/** The EventBridge scheduled event that starts a run. */
function scheduledEvent() {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/logs-kms-guard-bench-sweep`],
    detail: {},
  };
}

/**
 * One sweep run: the scheduled event to the container, each self-invocation back to it (one at a time, as one
 * warm container runs them), until an invocation answers `done`. A failed invocation is retried as Lambda
 * retries asynchronous invocations (the same event, ~1 minute later). `failInvocation`: that invocation's
 * SendMessageBatch calls fail (ServiceUnavailable, through the SDK's retries) once it has listed half its pages.
 */
export async function sweepRun(
  region: Region,
  s: ScaleArgs,
  home: string,
  log: (line: string) => void,
  failInvocation?: number,
): Promise<SweepRun> {
  const { emulator } = region;
  const T = s.timeScale;
  const { messages, off: offMessage } = countMessages(emulator);
  const fault = failInvocation === undefined ? undefined : halfwayFault(failInvocation);
  const from = emulator.calls.length;
  const child = startContainer(region, s, home);
  const { pending, send } = invoker(child);
  const offInvoke = emulator.onInvoke((i) => {
    if (i.functionName === SWEEP_FUNCTION) send(JSON.parse(i.payload));
  });
  let loadMs = 0;
  const invocations: SweepRun['invocations'] = [];
  let started = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`sweep container exited ${code}`)));
      child.on('message', (m: InvocationOut | { ready: true; loadMs: number }) => {
        if ('ready' in m) {
          loadMs = m.loadMs;
          // Counting for the failure starts with the invocation; the intercept fails its batches past half.
          if (fault) region.hook.intercept = (req) => fault.intercept(req);
          started = performance.now();
          fault?.begin(1);
          send(scheduledEvent());
          return;
        }
        const item = pending.find((p) => p.id === m.id);
        invocations.push({
          ...m,
          retry: item?.retry ?? false,
          ...(item?.startToken ? { startToken: item.startToken } : {}),
        });
        const n = invocations.length;
        log(
          `    invocation ${n}${item?.retry ? ' (retry)' : ''}: ${m.ok ? (m.result?.done ? 'done' : 'continued') : `failed (${m.error})`}, ` +
            `${m.result?.counts?.listed?.toLocaleString('en-US') ?? '?'} listed so far, ${(m.scaledMs / 1000).toFixed(0)} scaled s, ` +
            `peak heap ${m.peakHeapMb.toFixed(0)} MB, VmHWM ${m.vmHwmMb?.toFixed(0) ?? '?'} MB`,
        );
        fault?.begin(n + 1);
        if (!m.ok) {
          // Lambda's asynchronous retry: the same event again, a minute (AWS time) later.
          if (invocations.filter((x) => !x.ok).length > 2) reject(new Error(`sweep failed: ${m.error}`));
          else setTimeout(() => item && send(item.payload, true), ASYNC_RETRY_DELAY_MS / T);
        } else if (m.result?.done) resolve();
        else if (!m.result?.continued) reject(new Error(`sweep invocation neither done nor continued`));
      });
    });
  } finally {
    offInvoke();
    offMessage();
    region.hook.intercept = undefined;
    child.removeAllListeners('exit');
    child.send('exit');
  }
  const wallMs = performance.now() - started;
  const calls = emulator.calls.slice(from);
  const last = invocations.at(-1);
  return {
    wallMs,
    scaledMs: (wallMs * T) | 0,
    invocations,
    injected: fault?.injected ?? 0,
    pagesServed: calls.filter((c) => c.operation === 'DescribeLogGroups' && !c.error).length,
    firstPages: Math.ceil(region.groups / PAGE),
    calls: calls.length,
    throttled: throttledOf(calls),
    ops: byOperation(calls),
    messages,
    listed: last?.result?.counts?.listed ?? 0,
    loadMs,
  };
}
