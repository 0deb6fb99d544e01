/**
 * The deployable sweep bundle (dist/sweep.mjs) end to end: a fresh import per simulated Lambda container, run
 * under the SweepRole of the packaged template (local/roles.ts), against the in-process emulator through the real
 * SDK: DescribeLogGroups / ListTagsForResource / DescribeKey, SendMessageBatch onto the stack's EnforceQueue and
 * the Lambda Invoke of its own continuation. The work items it enqueues are then fed to the real enforce bundle
 * (LocalPipeline) under its EnforceRole. test/e2e/helpers.ts fails a test whose deployed roles were refused
 * anything, unless the test expects it.
 */
import { describe, expect, it, vi } from 'vitest';
import type { IamPrincipal } from '../../local/emulator/iam.ts';
import type { LambdaInvocation } from '../../local/emulator/lambda.ts';
import type { QueueInfo, SqsMessage } from '../../local/emulator/sqs.ts';
import { callsOf, existingGuardKey, startPipeline, startWorld, sweepContext, type World } from './helpers.ts';

const STACK = 'logs-kms-guard-prod';
/** The queue local/roles.ts resolves `!GetAtt EnforceQueue.Arn` to, and the function ContinueOwnRun names. */
const QUEUE_NAME = `${STACK}-EnforceQueue`;
const FUNCTION_NAME = `${STACK}-sweep`;
const SKIP_TAG = { 'logs-kms-guard:skip': 'true' };
const TIME_SCALE = 20;

interface SweepResult {
  runId: string;
  done: boolean;
  continued: boolean;
  nextToken?: string;
  counts: Record<string, number>;
}

interface Stack {
  queue: QueueInfo;
  /** Every message SQS accepted, in order. */
  messages: SqsMessage[];
  /** Every Lambda invocation accepted, in order. */
  invocations: LambdaInvocation[];
}

/** What the stack deploys around the sweep function: its queue (with the DLQ redrive) and the function itself. */
function deployStack(world: World): Stack {
  const { state } = world.emulator;
  const dlq = state.createQueue(world.region, `${STACK}-EnforceDlq`);
  const queue = state.createQueue(world.region, QUEUE_NAME, { redriveTo: dlq.arn, maxReceiveCount: 10 });
  state.createFunction(world.region, FUNCTION_NAME);
  const messages: SqsMessage[] = [];
  const invocations: LambdaInvocation[] = [];
  world.emulator.onMessage((m) => messages.push(m));
  world.emulator.onInvoke((i) => invocations.push(i));
  return { queue, messages, invocations };
}

/**
 * The sweep's own log group as the deployment leaves it (the stack creates it; the deploy-time custom resource
 * encrypts the functions' groups): it holds the run lease (functions/core/lease.ts).
 */
function ownLogGroup(world: World, guardKeyArn: string): void {
  world.emulator.state.putLogGroup(world.region, `/aws/lambda/${FUNCTION_NAME}`, { kmsKeyId: guardKeyArn });
}

/** The sweep's settings as the template sets them, with the queue on the emulator's endpoint (sqs.ts, localUrl). */
const sweepEnv = (stack: Stack, extra: Record<string, string> = {}) => ({
  ENFORCE_QUEUE_URL: stack.queue.localUrl,
  ...extra,
});

/** The log group names the enqueued work items name, in order. */
function enqueuedNames(messages: SqsMessage[]): string[] {
  return groupItems(messages).map((m) => JSON.parse(m.body).detail.logGroupName as string);
}

/** The work items for groups. */
function groupItems(messages: SqsMessage[]): SqsMessage[] {
  return messages.filter((m) => JSON.parse(m.body)['detail-type'] !== 'Guard Key Check');
}

/**
 * The guard key checks the runs sent: none (the template's schedule sends them to the changes function's queue
 * every 15 minutes; the sweep stopped sending one per run when the changes function took them over).
 */
function keyChecks(messages: SqsMessage[]): SqsMessage[] {
  return messages.filter((m) => JSON.parse(m.body)['detail-type'] === 'Guard Key Check');
}

const pad = (i: number) => String(i).padStart(3, '0');

describe('sweep bundle: enqueues exactly the unencrypted in-scope groups, and enforce encrypts them', () => {
  it('240 groups of every kind: each unencrypted in-scope group is queued once and ends on the guard key', async () => {
    // Prepare: the guard key exists (an earlier event made it), another team's key, and groups interleaved by
    // name so that every DescribeLogGroups page holds every kind.
    const world = await startWorld({ timeScale: TIME_SCALE, propagationDelayMs: 3_000, throttle: true });
    const stack = deployStack(world);
    const guard = await existingGuardKey(world);
    ownLogGroup(world, guard.arn);
    const other = world.emulator.state.createKeyDirect(world.region, {});
    const settings = { EXCLUDE_LOG_GROUPS: '*-excluded' };
    const kinds = ['plain', 'plain', 'owned', 'owned', 'excluded', 'skipped', 'guarded', 'guarded'] as const;
    const byKind: Record<(typeof kinds)[number], string[]> = {
      plain: [],
      owned: [],
      excluded: [],
      skipped: [],
      guarded: [],
    };
    for (let i = 0; i < 240; i++) {
      const kind = kinds[i % kinds.length] as (typeof kinds)[number];
      const name = `/svc/${pad(i)}-${kind}`;
      byKind[kind].push(name);
      world.emulator.state.putLogGroup(world.region, name, {
        ...(kind === 'owned' ? { kmsKeyId: other.arn } : {}),
        ...(kind === 'guarded' ? { kmsKeyId: guard.arn } : {}),
        ...(kind === 'skipped' ? { tags: SKIP_TAG } : {}),
      });
    }
    const handler = await world.sweepContainer(sweepEnv(stack, settings));

    // Act: the scheduled invocation, with the function's full 900 s
    const result = (await handler({}, sweepContext(world))) as SweepResult;

    // Assess: what was queued, once each, in batches SQS accepts
    expect(result).toMatchObject({ done: true, continued: false });
    expect(result.counts).toMatchObject({
      listed: 241, // and the sweep's own log group, on the guard key
      pages: 5,
      candidates: 60,
      queued: 60,
      outOfScope: 60,
      otherKey: 60,
      guardKey: 61,
      failed: 0,
    });
    const names = enqueuedNames(stack.messages);
    expect([...names].sort()).toEqual(byKind.plain);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(stack.messages.map((m) => m.queueName))).toEqual(new Set([QUEUE_NAME]));
    const batches = callsOf(world.emulator, 'SendMessageBatch', 'sqs');
    expect(batches.every((c) => !c.error)).toBe(true);
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(60 / 10));
    expect(stack.invocations).toEqual([]);

    // Act: the enforce function receives the work items from its queue
    const outcomes: boolean[] = [];
    const pipeline = await startPipeline(world, {
      concurrency: 2,
      visibilityTimeoutMs: 20_000,
      maxReceiveCount: 3,
      env: { ...settings, ASSOCIATE_RATE: String(2 * TIME_SCALE) },
      onResult: ({ ok }) => outcomes.push(ok),
    });
    for (const m of stack.messages) pipeline.send(m.body);
    const drained = await pipeline.drain(30_000);

    // Assess: every work item accepted and done; every group as it must be
    expect(drained).toBe(true);
    expect(pipeline.dlq).toEqual([]);
    // every group item
    expect(outcomes).toEqual(byKind.plain.map(() => true));
    const keyOf = (name: string) => world.emulator.state.logGroup(world.region, name)?.kmsKeyId;
    expect(byKind.plain.filter((n) => keyOf(n) !== guard.arn)).toEqual([]);
    expect(byKind.guarded.filter((n) => keyOf(n) !== guard.arn)).toEqual([]);
    expect(byKind.owned.filter((n) => keyOf(n) !== other.arn)).toEqual([]);
    expect([...byKind.excluded, ...byKind.skipped].filter((n) => keyOf(n) !== undefined)).toEqual([]);
  }, 120_000);
});

describe('sweep bundle: a run that runs out of time continues in an asynchronous invocation of itself', () => {
  /** 150 groups, every other one unencrypted: 25 paced tag reads per page (SWEEP_TAGS_RATE), seconds per page. */
  async function longRun() {
    const world = await startWorld({ timeScale: TIME_SCALE, propagationDelayMs: 3_000, throttle: true });
    const stack = deployStack(world);
    const guard = await existingGuardKey(world);
    ownLogGroup(world, guard.arn);
    const unencrypted: string[] = [];
    for (let i = 0; i < 150; i++) {
      const name = `/run/${pad(i)}`;
      if (i % 2 === 0) unencrypted.push(name);
      world.emulator.state.putLogGroup(world.region, name, i % 2 === 0 ? {} : { kmsKeyId: guard.arn });
    }
    return { world, stack, unencrypted };
  }

  /**
   * 10 s left when the invocation starts: functions/sweep.ts keeps the deadline margin (3 s) and 5 s back and
   * stops starting pages after half of the rest, 1 s, so the first page (seconds of paced tag reads) is the only one.
   */
  const SHORT_MS = 10_000;

  it('checkpoints after a page and invokes its own function (Event) with the continuation token', async () => {
    // Prepare
    const { world, stack } = await longRun();
    const handler = await world.sweepContainer(sweepEnv(stack));
    const context = sweepContext(world, SHORT_MS);

    // Act
    const result = (await handler({}, context)) as SweepResult;

    // Assess
    expect(result).toMatchObject({ done: false, continued: true });
    expect(result.nextToken).toEqual(expect.any(String));
    expect(stack.invocations).toHaveLength(1);
    const [invocation] = stack.invocations as [LambdaInvocation];
    expect(invocation).toMatchObject({
      functionName: FUNCTION_NAME,
      functionArn: `arn:aws:lambda:${world.region}:${world.account}:function:${FUNCTION_NAME}`,
      requestedName: context.invokedFunctionArn,
      invocationType: 'Event',
    });
    const payload = JSON.parse(invocation.payload);
    expect(payload).toEqual({
      resume: {
        runId: result.runId,
        nextToken: result.nextToken,
        counts: result.counts,
        invocation: 1,
        startedAt: expect.any(Number),
      },
    });
    expect(result.counts).toMatchObject({ pages: 1, listed: 50, queued: 25 });
    expect(groupItems(stack.messages)).toHaveLength(25);
    expect(keyChecks(stack.messages)).toHaveLength(0);
  }, 60_000);

  it('invoking the bundle with each continuation payload finishes the run, with no group enqueued twice', async () => {
    // Prepare
    const { world, stack, unencrypted } = await longRun();
    let handler = await world.sweepContainer(sweepEnv(stack));

    // Act: the scheduled invocation, then each continuation it asks for, each in a new container (an
    // asynchronous invocation may land on any), each starting with little time left
    let result = (await handler({}, sweepContext(world, SHORT_MS))) as SweepResult;
    const runIds = new Set([result.runId]);
    let continuations = 0;
    while (!result.done && continuations < 10) {
      const invocation = stack.invocations[continuations] as LambdaInvocation;
      expect(invocation.functionName).toBe(FUNCTION_NAME);
      handler = await world.sweepContainer(sweepEnv(stack));
      result = (await handler(JSON.parse(invocation.payload), sweepContext(world, SHORT_MS))) as SweepResult;
      runIds.add(result.runId);
      continuations++;
    }

    // Assess: one run, every page once, every unencrypted group queued once
    expect(result.done).toBe(true);
    expect(continuations).toBeGreaterThanOrEqual(1);
    expect(stack.invocations).toHaveLength(continuations);
    expect(runIds.size).toBe(1);
    expect(result.counts).toMatchObject({ pages: 4, listed: 151, candidates: 75, queued: 75, failed: 0 });
    const names = enqueuedNames(stack.messages);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...names].sort()).toEqual(unencrypted);
    const runOf = new Set(groupItems(stack.messages).map((m) => JSON.parse(m.body).detail.runId));
    expect(keyChecks(stack.messages)).toHaveLength(0);
    expect(runOf).toEqual(runIds);
  }, 90_000);
});

describe('overlapping sweep runs (no reserved concurrency): one works, the other yields', () => {
  it('two runs started at once: each unencrypted group queued once, DescribeLogGroups paged once, one run yields', async () => {
    // Prepare: 200 groups, a quarter unencrypted; two scheduled invocations arrive together (a manual run
    // during the scheduled one, or a schedule faster than a run).
    const world = await startWorld({ timeScale: TIME_SCALE, propagationDelayMs: 3_000, throttle: true });
    const stack = deployStack(world);
    const guard = await existingGuardKey(world);
    ownLogGroup(world, guard.arn);
    for (let i = 0; i < 200; i++) {
      world.emulator.state.putLogGroup(
        world.region,
        `/overlap/${pad(i)}`,
        i % 4 === 0 ? {} : { kmsKeyId: guard.arn },
      );
    }
    const [a, b] = [await world.sweepContainer(sweepEnv(stack)), await world.sweepContainer(sweepEnv(stack))];

    // Act
    const results = (await Promise.all([
      a({}, sweepContext(world)),
      b({}, sweepContext(world)),
    ])) as (SweepResult & {
      yieldedTo?: string;
    })[];

    // Assess: exactly one run did the work, the other yielded to it and called nothing else
    const worked = results.filter((r) => !r.yieldedTo);
    const yielded = results.filter((r) => r.yieldedTo);
    expect(worked).toHaveLength(1);
    expect(yielded).toHaveLength(1);
    expect(yielded[0]?.yieldedTo).toBe(worked[0]?.runId);
    expect(worked[0]?.counts).toMatchObject({ queued: 50 });
    const names = enqueuedNames(stack.messages);
    expect(names).toHaveLength(50);
    expect(new Set(names).size).toBe(50);
    // one run's paging only: 201 groups in 5 pages (plus the lease's own calls, which are not DescribeLogGroups)
    expect(callsOf(world.emulator, 'DescribeLogGroups').filter((c) => !c.error)).toHaveLength(5);
    // the holder released its lease at the end: a later run starts afresh
    const again = (await (
      await world.sweepContainer(sweepEnv(stack))
    )({}, sweepContext(world))) as SweepResult & {
      yieldedTo?: string;
    };
    expect(again.yieldedTo).toBeUndefined();
    expect(again.counts).toMatchObject({ queued: 50 });
  }, 90_000);
});

describe('the sweep metrics the alarms watch (SweepNotCompletedAlarm, SweepYieldedAlarm)', () => {
  it('a completed run counts SweepCompleted once; a run that yields counts SweepYielded and no completion', async () => {
    // Prepare: two runs at once, as above; the bundle's EMF lines on stdout
    const world = await startWorld({ timeScale: TIME_SCALE, propagationDelayMs: 3_000, throttle: true });
    const stack = deployStack(world);
    const guard = await existingGuardKey(world);
    ownLogGroup(world, guard.arn);
    for (let i = 0; i < 20; i++) world.emulator.state.putLogGroup(world.region, `/metrics/${pad(i)}`);
    const [a, b] = [await world.sweepContainer(sweepEnv(stack)), await world.sweepContainer(sweepEnv(stack))];
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    try {
      await Promise.all([a({}, sweepContext(world)), b({}, sweepContext(world))]);
    } finally {
      spy.mockRestore();
    }

    // Assess: the alarms' metric names, with the dimension they filter on
    const metrics = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    const total = (name: string) =>
      metrics.filter((m) => m.service === 'logs-kms-guard').reduce((n, m) => n + (m[name] ?? 0), 0);
    expect(total('SweepCompleted')).toBe(1);
    expect(total('SweepYielded')).toBe(1);
  }, 90_000);
});

/** Which request of the run each statement of SweepRole allows (by Sid). */
const GRANTS: [sid: string, needed: string][] = [
  ['OwnLogs', 'logs:CreateLogStream'],
  ['ListLogGroups', 'logs:DescribeLogGroups'],
  ['KmsFindGuardKey', 'kms:DescribeKey'],
  ['EnqueueWork', 'sqs:SendMessage'],
  ['ContinueOwnRun', 'lambda:InvokeFunction'],
  ['SweepLease', 'logs:DescribeLogStreams'],
];

/** SweepRole without the statement `sid` (deployRole's `mutate`). */
const without = (sid: string) => (principal: IamPrincipal) => {
  for (const { policy } of principal.policies) {
    const document = policy as { Statement: { Sid?: string }[] };
    document.Statement = document.Statement.filter((s) => s.Sid !== sid);
  }
};

/**
 * The run every grant serves: the guard key exists (DescribeKey of the alias), 60 groups on two pages with 15
 * to queue, a first invocation with little time (it checkpoints after page 1 and invokes itself), then the
 * continuation. Answers the error that stopped it, if any.
 */
async function grantScenario(mutate?: (principal: IamPrincipal) => void) {
  const world = await startWorld({ timeScale: TIME_SCALE, propagationDelayMs: 3_000, throttle: true });
  if (mutate) world.expectDenials();
  const stack = deployStack(world);
  const guard = await existingGuardKey(world);
  ownLogGroup(world, guard.arn);
  for (let i = 0; i < 60; i++) {
    world.emulator.state.putLogGroup(
      world.region,
      `/grant/${pad(i)}`,
      i % 4 === 0 ? {} : { kmsKeyId: guard.arn },
    );
  }
  const options = mutate ? { mutate } : {};
  let error: Error | undefined;
  let final: SweepResult | undefined;
  try {
    const first = await world.sweepContainer(sweepEnv(stack), options);
    // 8.2 s left: the run stops starting pages 100 ms in, after page 1 (13 paced tag reads: over a second).
    const out = (await first({}, sweepContext(world, 8_200))) as SweepResult;
    expect(out.continued).toBe(true);
    const next = await world.sweepContainer(sweepEnv(stack), options);
    const invocation = stack.invocations.at(-1) as LambdaInvocation;
    final = (await next(JSON.parse(invocation.payload), sweepContext(world))) as SweepResult;
  } catch (err) {
    error = err as Error;
  }
  return { world, stack, error, final };
}

describe('sweep role: every Allow statement of SweepRole is needed', () => {
  it('with every statement the run completes and is never refused', async () => {
    // Prepare, Act
    const { error, final, stack } = await grantScenario();

    // Assess (the after-test check also asserts that no request of the role was refused)
    expect(error).toBeUndefined();
    expect(final).toMatchObject({ done: true, counts: { listed: 61, queued: 15 } });
    expect(groupItems(stack.messages)).toHaveLength(15);
    expect(stack.invocations).toHaveLength(1);
  }, 60_000);

  for (const [sid, needed] of GRANTS) {
    it(`without ${sid} the run fails (${needed} refused)`, async () => {
      // Prepare, Act
      const { world, error } = await grantScenario(without(sid));

      // Assess: the bundle threw (or the runtime refused to run it) because the request was refused
      expect(error, `the run without ${sid} should fail`).toBeDefined();
      if (sid === 'OwnLogs') {
        expect(error?.message).toContain(`not authorized to perform: ${needed}`);
      } else {
        const refused = world.emulator.authorizations.filter(
          (a) => a.decision !== 'Allowed' && a.principal.endsWith(`:role/${STACK}-SweepRole`),
        );
        expect(refused.map((a) => a.action)).toContain(needed);
        expect(error?.message.toLowerCase()).toContain(`not authorized to perform: ${needed.toLowerCase()}`);
      }
    }, 60_000);
  }
});
