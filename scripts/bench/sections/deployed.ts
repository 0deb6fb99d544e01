/**
 * The `deployed` section of `npm run bench`: propagation with the deployed key. The deployable bundle answers
 * the `Custom::LogsKmsGuardKey` Create request in a fresh account and region, waiting until CloudWatch Logs
 * accepts the key it creates; then a new container gets the first CreateLogGroup event. In a child process
 * whose clock is scaled as the emulator's (scripts/bench/deploy-child.ts): how long the deployment waits, and
 * how fast and with how few calls the first event after it is handled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../../../local/emulator/server.ts';
import { CHANGES_BUNDLE, ENFORCE_BUNDLE } from '../../../local/functions.ts';
import { GUARD_ALIAS, REGION } from '../../../local/world.ts';
import { byOperation, callsSince } from '../api-calls.ts';
import type { BenchArgs } from '../args.ts';
import { createEvent, FUNCTION_ARN, handlerEnv, root, runChild } from '../rig.ts';
import { PROPAGATION_DELAY_MS, PROPAGATION_SCALE } from '../settings.ts';
import {
  cell,
  countCell,
  enforceTimeoutSeconds,
  type Figure,
  formatCounts,
  splitAt,
  spread,
} from '../stats.ts';

/** What scripts/bench/deploy-child.ts reports. */
interface DeployOut {
  /** The custom resource's invocation, request to answer, on the scaled clock (AWS time) and the real one. */
  deployMs: number;
  deployRealMs: number;
  deployed: { deploy?: { status?: string; ready?: boolean; keyArn?: string; reason?: string } };
  /** The bodies PUT to the ResponseURL. */
  responses: {
    method?: string;
    Status?: string;
    Reason?: string;
    Data?: { KeyArn?: string; Ready?: string };
  }[];
  /** The first event's invocation in the new container, scaled and real; and that container's import (real). */
  firstMs: number;
  firstRealMs: number;
  firstLoadMs: number;
  batchItemFailures: unknown[] | null;
}

/** One deployed-key run: the child's report and the calls before and after the first event's group. */
type DeployedRun = DeployOut & {
  deployCalls: number;
  deployOps: Record<string, number>;
  firstCalls: number;
  firstOps: string[];
  deployLateMs: number;
};

/** One deployment and first event on a fresh emulator, checked: SUCCESS, the key behind the alias, both groups on it. */
async function deployedRun(run: number, timeoutS: number, ownGroup: string): Promise<DeployedRun> {
  const T = PROPAGATION_SCALE;
  const emulator = await startEmulator({ port: 0, timeScale: T, propagationDelayMs: PROPAGATION_DELAY_MS });
  try {
    // A fresh account and region: no key, no alias; only the function's own log group.
    emulator.state.putLogGroup(REGION, ownGroup);
    const name = `/aws/lambda/first-after-deploy-${run}`;
    const from = emulator.calls.length;
    const { out } = await runChild<DeployOut>(['scripts/bench/deploy-child.ts'], {
      ...handlerEnv(emulator),
      POWERTOOLS_LOG_LEVEL: 'WARN',
      BENCH_BUNDLE: ENFORCE_BUNDLE,
      BENCH_CHANGES_BUNDLE: CHANGES_BUNDLE,
      BENCH_TIME_SCALE: String(T),
      BENCH_FUNCTION_ARN: FUNCTION_ARN,
      BENCH_TIMEOUT_MS: String(timeoutS * 1000),
      BENCH_GROUP: name,
      BENCH_EVENT: JSON.stringify(createEvent(name)),
    });
    const key = emulator.state.key(REGION, GUARD_ALIAS);
    const response = out.responses[0];
    if (out.responses.length !== 1 || response?.Status !== 'SUCCESS' || response.Data?.Ready !== 'true')
      throw new Error(`deployed-key run ${run}: custom resource answered ${JSON.stringify(out.responses)}`);
    if (!key || response.Data.KeyArn !== key.arn)
      throw new Error(`deployed-key run ${run}: answered key ${response.Data.KeyArn}, alias has ${key?.arn}`);
    if (emulator.state.logGroup(REGION, ownGroup)?.kmsKeyId !== key.arn)
      throw new Error(`deployed-key run ${run}: ${ownGroup} not encrypted`);
    if (emulator.state.logGroup(REGION, name)?.kmsKeyId !== key.arn || out.batchItemFailures?.length !== 0)
      throw new Error(
        `deployed-key run ${run}: ${name} not encrypted (${JSON.stringify(out.batchItemFailures)})`,
      );
    // The deployment's calls end where the bench creates the group of the first event.
    const split = splitAt(callsSince(emulator, from), (c) => c.operation === 'CreateLogGroup');
    return {
      ...out,
      deployCalls: split.before.length,
      deployOps: byOperation(split.before),
      firstCalls: split.after.length,
      firstOps: split.after.map((c) => c.operation),
      deployLateMs: out.deployMs - PROPAGATION_DELAY_MS,
    };
  } finally {
    await emulator.stop();
  }
}

/**
 * 6b. Propagation with the deployed key: the deployable bundle answers the `Custom::LogsKmsGuardKey` Create
 * request (fresh account and region, the function's own log group exists), waiting until Logs accepts the key
 * it creates; then a new container receives the first CreateLogGroup event. Same D and time scale as the
 * propagation section; the bundle runs in a child process whose Date.now and setTimeout are scaled by T
 * (scripts/bench/deploy-child.ts), as the guard's clock is there.
 */
export async function deployedKeyFigures(args: BenchArgs, log: (line: string) => void): Promise<Figure[]> {
  const T = PROPAGATION_SCALE;
  const D = PROPAGATION_DELAY_MS;
  const timeoutS = enforceTimeoutSeconds(readFileSync(join(root, 'serverless.yml'), 'utf8')) ?? 120;
  // The custom resource is the changes function's: its own log group is the readiness probe.
  const functionName = (FUNCTION_ARN.split(':').at(-1) as string).replace(/-enforce$/, '-changes');
  const ownGroup = `/aws/lambda/${functionName}`;
  const runs: DeployedRun[] = [];
  for (let run = 0; run < args.deployRuns; run++) {
    const r = await deployedRun(run, timeoutS, ownGroup);
    runs.push(r);
    log(
      `  deployed-key run ${run + 1}/${args.deployRuns}: deployment ${(r.deployMs / 1000).toFixed(2)} scaled s ` +
        `(${r.deployCalls} calls), first event ${(r.firstMs / 1000).toFixed(2)} scaled s (${r.firstRealMs.toFixed(0)} real ms), ` +
        `${r.firstCalls} calls`,
    );
  }
  const deploy = spread(runs.map((r) => r.deployMs));
  const first = spread(runs.map((r) => r.firstMs));
  const calls = spread(runs.map((r) => r.firstCalls));
  const real = spread(runs.map((r) => r.firstRealMs));
  const sequences = [...new Set(runs.map((r) => r.firstOps.join(', ')))];
  const setup = `D = ${D / 1000} s ×${T}, the bundle's clock ×${T} (Date.now, setTimeout) in a child process`;
  return [
    {
      id: 'deployed-key-deployment',
      name: `deployed key: custom resource Create to SUCCESS, the deployment's wait (D = ${D / 1000} s)`,
      unit: 'ms',
      ours: deploy,
      floor: spread([D]),
      ratio: spread(runs.map((r) => r.deployMs / D)),
      goal: 'SUCCESS, Ready "true", within the 90 s deploy budget',
      met: runs.every((r) => r.deployed.deploy?.ready === true) && deploy.max <= 90_000,
      note:
        `scaled ms; ${setup}; ${runs.length} run(s), every one SUCCESS with Ready "true"; after D: ` +
        `${cell(spread(runs.map((r) => r.deployLateMs / 1000)), 's')}; ` +
        `real ${cell(spread(runs.map((r) => r.deployRealMs)), 'ms')}; calls ${countCell(spread(runs.map((r) => r.deployCalls)))} ` +
        `(${formatCounts(runs[0]?.deployOps ?? {})})`,
      details: {
        samples: runs.map((r) => r.deployMs),
        realMs: runs.map((r) => r.deployRealMs),
        calls: runs.map((r) => r.deployCalls),
        operations: runs.map((r) => r.deployOps),
        reasons: runs.map((r) => r.responses[0]?.Reason),
        timeScale: T,
        delayMs: D,
        timeoutS,
      },
    },
    {
      id: 'deployed-key-first-event',
      name: 'deployed key: first event after deployment to encrypted, new container',
      unit: 'ms',
      ours: first,
      goal: '≤ 2 s',
      met: first.median <= 2_000,
      note:
        `scaled ms (real ${cell(real, 'ms')}: at ×${T}, the local calls' latency and CPU count ${T} times); ` +
        `from the SQS batch reaching the handler to its answer; the new container's import before it ` +
        `${spread(runs.map((r) => r.firstLoadMs)).median.toFixed(0)} real ms (not counted)`,
      details: {
        samples: runs.map((r) => r.firstMs),
        realMs: runs.map((r) => r.firstRealMs),
        loadMs: runs.map((r) => r.firstLoadMs),
      },
    },
    {
      id: 'deployed-key-first-event-calls',
      name: 'deployed key: API calls for that event',
      unit: '',
      ours: calls,
      // The cold path with an existing key (calls-cold): DescribeLogGroups, DescribeKey, GetKeyPolicy, the tag
      // read right before every association (the opt-out at the moment of change, issue 19), AssociateKmsKey.
      goal: '≤ 5',
      met: calls.max <= 5,
      note: sequences.join(' / '),
      details: { samples: runs.map((r) => r.firstCalls), operations: runs.map((r) => r.firstOps) },
    },
  ];
}
