/**
 * The benchmark's fixed settings: the time scale of each section, the AWS quotas its floors are made of, the
 * listing's page size, the propagation delay, the burst's pollers and the Lambda memory. In one room because
 * the sections measure with them and the report (scripts/bench.ts) prints them. (The bundle under test, "ours"
 * in the size, cold-start, calls and deployed-key figures, is local/functions.ts `ENFORCE_BUNDLE`.)
 */
import { LOGS_TPS } from '../../local/emulator/quota.ts';

/** Time scales: burst floor 1,000 / (5 × 20) = 10 s; sweep floor 400 s / 50 = 8 s; propagation 60 s / 30 = 2 s. */
export const BURST_SCALE = 20;
export const SWEEP_SCALE = 50;
export const PROPAGATION_SCALE = 30;
/** Shared quota: (11,000 − 250) / 5 = 1,750… s of AWS time at ×50 is 43 s a run. */
export const SHARED_SCALE = 50;
export const PROPAGATION_DELAY_MS = 60_000;
/** Pollers of the burst (the event source mapping's maximumConcurrency in serverless.yml). */
export const BURST_CONCURRENCY = 2;
/**
 * The AWS quotas the floors are made of (calls per second, before time-scaling), as AWS publishes them: the
 * emulator's table (local/emulator/quota.ts, from the CloudWatch Logs quotas page), the quotas it enforces.
 */
export const QUOTA = {
  associate: LOGS_TPS.AssociateKmsKey as number,
  describe: LOGS_TPS.DescribeLogGroups as number,
  tags: LOGS_TPS.ListTagsForResource as number,
};
/**
 * The neighbour section: groups (or events) ours enforces beside another caller of AssociateKmsKey at a fixed
 * `tps` that never adapts, at time scale 1; the goals of issue 23 (item 5): within 1.15× of N / (5 − 2) s,
 * under 10 % of our calls and 5 % of the neighbour's throttled.
 */
export const NEIGHBOUR = { groups: 150, tps: 2, goal: { ratio: 1.15, ours: 10, neighbour: 5 } } as const;
/** DescribeLogGroups' page: 50 groups at most. */
export const PAGE = 50;
export const LAMBDA_MEMORY_MB = 256;
