/**
 * The cost model behind `npm run bench -- --only cost` (scripts/bench/sections/cost.ts): one table of AWS prices
 * (PRICES, each with its source page and the date it was read, to re-check before quoting), what the packaged
 * template deploys per account and region (counted from the template), and the monthly cost of a scenario from
 * the calls the burst and sweep measure. Pure: the section measures and counts, this adds up.
 */

/** One price, where it comes from, and when it was read (re-check: AWS changes prices). */
export interface Price {
  usd: number;
  per: string;
  source: string;
}

/** us-east-1 list prices, without free tiers (an organization shares one), as of 2026-12 (from memory; re-check). */
export const PRICES_AS_OF = "2026-12-07 (the author's knowledge of the pages named; re-check before quoting)";
export const PRICES = {
  alarm: {
    usd: 0.1,
    per: 'standard-resolution alarm metric-month',
    source: 'aws.amazon.com/cloudwatch/pricing (Alarms)',
  },
  customMetric: {
    usd: 0.3,
    per: 'custom metric-month (first 10,000; prorated by the hour it is published)',
    source: 'aws.amazon.com/cloudwatch/pricing (Metrics)',
  },
  dashboard: {
    usd: 3,
    per: 'dashboard-month (beyond 3 free)',
    source: 'aws.amazon.com/cloudwatch/pricing (Dashboards)',
  },
  logsIngestGb: {
    usd: 0.5,
    per: 'GB of log data ingested (Standard)',
    source: 'aws.amazon.com/cloudwatch/pricing (Logs)',
  },
  kmsKey: { usd: 1, per: 'customer-managed key-month', source: 'aws.amazon.com/kms/pricing' },
  kmsRequest: {
    usd: 0.03 / 10_000,
    per: 'KMS request',
    source: 'aws.amazon.com/kms/pricing ($0.03 per 10,000)',
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    per: 'Lambda request',
    source: 'aws.amazon.com/lambda/pricing ($0.20 per million)',
  },
  lambdaGbSecondArm: { usd: 0.0000133334, per: 'GB-second, arm64', source: 'aws.amazon.com/lambda/pricing' },
  sqsRequest: {
    usd: 0.4 / 1e6,
    per: 'SQS request (standard queue, 64 KB chunk)',
    source: 'aws.amazon.com/sqs/pricing ($0.40 per million)',
  },
  eventsCustom: {
    usd: 1 / 1e6,
    per: 'EventBridge custom event put',
    source: 'aws.amazon.com/eventbridge/pricing ($1.00 per million; AWS service events free)',
  },
  cloudTrailManagement: {
    usd: 0,
    per: 'management event, first copy',
    source:
      'aws.amazon.com/cloudtrail/pricing (first copy of management events free; $2.00 per 100,000 for further copies)',
  },
  configEvaluation: {
    usd: 0.001,
    per: 'Config rule evaluation (first 100,000 per account-region-month)',
    source: 'aws.amazon.com/config/pricing ($0.001; $0.0008 next 400,000; $0.0005 beyond)',
  },
  configItem: {
    usd: 0.003,
    per: 'Config configuration item recorded (continuous)',
    source: 'aws.amazon.com/config/pricing',
  },
  securityHubFinding: {
    usd: 0.00003,
    per: 'Security Hub finding ingestion event (beyond 10,000 free per account-region-month)',
    source: 'aws.amazon.com/security-hub/pricing',
  },
} as const satisfies Record<string, Price>;

/** What the packaged template deploys per account and region, counted from it. */
export interface TemplateCounts {
  /** Alarm metrics: one per single-metric alarm, one per metric a metric-math alarm reads (billed so). */
  alarms: number;
  dashboards: number;
  functions: number;
  queues: number;
  rules: number;
  /** Rules present only under a parameter (NotifyFindings, ConfigRule…): not counted as deployed. */
  optionalRules: number;
  /** The guard key: made at run time, not a template resource. */
  keys: number;
  /** SQS queues a Lambda event source mapping polls (each polled when idle too). */
  polledQueues: number;
  /** Scheduled guard key checks a month (KeyCheckScheduleRule): a changes invocation and a few KMS reads each. */
  keyChecksPerMonth: number;
}

/** What the bench measured: calls, invocations and time per new group (burst) and per listed group (sweep). */
export interface Measured {
  /** AWS calls the enforce function made per new log group (KMS and Logs). */
  callsPerNewGroup: number;
  /** Enforce invocations per new log group (batches of up to 10). */
  invocationsPerNewGroup: number;
  /** Calls the sweep made per listed group. */
  sweepCallsPerGroup: number;
  /** The sweep's time per listed group, ms (at the quotas). */
  sweepMsPerGroup: number;
  /** Metric names the sweep publishes on every run (its counts, SweepCompleted, ColdStart). */
  sweepMetricNames: number;
}

/** One deployment profile: existing groups, new groups a day, account-regions. */
export interface Scenario {
  name: string;
  accountRegions: number;
  groups: number;
  newPerDay: number;
}

/** Assumptions the pages do not settle, stated and used as they are. */
export const ASSUMPTIONS = {
  /** Per AWS call inside an invocation (ms), for the enforce function's billed duration. */
  callLatencyMs: 40,
  /** Lambda memory of both functions (serverless.yml). */
  memoryGb: 0.25,
  /** Lambda's SQS pollers on an idle queue, long-polling 20 s each: ReceiveMessage requests a month, per queue. */
  idleReceivesPerMonth: 5 * 3 * 60 * 24 * 30,
  /** KMS reads of one scheduled key check of a healthy key (DescribeKey, GetKeyPolicy, GetKeyRotationStatus). */
  keyCheckKmsCalls: 3,
  /** SQS requests of one scheduled key check (send, receive, delete). */
  keyCheckSqsRequests: 3,
  /** Log bytes per enforce invocation and per sweep run (JSON lines and EMF). */
  enforceLogBytes: 2_000,
  sweepLogBytes: 20_000,
  /** Custom metrics the sweep publishes per run (its counts, SweepCompleted, ColdStart): hours a month present. */
  sweepMetricHoursPerMonth: 30,
  /** With new groups every hour: the enforce metrics published every hour (Encrypted, ColdStart). */
  busyEnforceMetrics: 2,
  hoursPerMonth: 730,
  daysPerMonth: 30,
} as const;

/** One line of a scenario's bill. */
export interface CostLine {
  item: string;
  usd: number;
}

/** The monthly bill of one account-region of `s` (multiply by s.accountRegions for the total). Pure. */
export function monthlyPerAccountRegion(t: TemplateCounts, m: Measured, s: Scenario): CostLine[] {
  const P = PRICES;
  const A = ASSUMPTIONS;
  const newGroups = s.newPerDay * A.daysPerMonth;
  const enforceInvocations = newGroups * m.invocationsPerNewGroup;
  const enforceCalls = newGroups * m.callsPerNewGroup;
  const sweepRuns = A.daysPerMonth;
  const sweepCalls = sweepRuns * s.groups * m.sweepCallsPerGroup;
  const sweepSeconds = sweepRuns * Math.max(1, (s.groups * m.sweepMsPerGroup) / 1000);
  const enforceSeconds = (enforceCalls * A.callLatencyMs) / 1000 + enforceInvocations * 0.02;
  const checks = t.keyChecksPerMonth;
  const sweepMetrics = m.sweepMetricNames;
  const metricHours =
    sweepMetrics * A.sweepMetricHoursPerMonth +
    (s.newPerDay > 0 ? A.busyEnforceMetrics * A.hoursPerMonth : 0);
  const logBytes = enforceInvocations * A.enforceLogBytes + sweepRuns * A.sweepLogBytes;
  return [
    { item: `CloudWatch alarms (${t.alarms} alarm metrics)`, usd: t.alarms * P.alarm.usd },
    { item: `CloudWatch dashboard (${t.dashboards})`, usd: t.dashboards * P.dashboard.usd },
    {
      item: 'Custom metrics (EMF, prorated by the hour)',
      usd: (metricHours / A.hoursPerMonth) * P.customMetric.usd,
    },
    { item: `KMS key (${t.keys})`, usd: t.keys * P.kmsKey.usd },
    {
      item: 'KMS requests (every guard call counted as one)',
      usd: (enforceCalls + sweepCalls + checks * A.keyCheckKmsCalls) * P.kmsRequest.usd,
    },
    {
      item: `Lambda (${t.functions} functions: requests and arm64 GB-s)`,
      usd:
        (enforceInvocations + sweepRuns + checks) * P.lambdaRequest.usd +
        (enforceSeconds + sweepSeconds + (checks * A.keyCheckKmsCalls * A.callLatencyMs) / 1000) *
          A.memoryGb *
          P.lambdaGbSecondArm.usd,
    },
    {
      item: `SQS (${t.queues} queues, ${t.polledQueues} polled: idle polling, send/receive/delete)`,
      usd:
        (t.polledQueues * A.idleReceivesPerMonth + newGroups * 3 + checks * A.keyCheckSqsRequests) *
        P.sqsRequest.usd,
    },
    { item: "CloudWatch Logs ingestion of the functions' logs", usd: (logBytes / 1e9) * P.logsIngestGb.usd },
    { item: `EventBridge (${t.rules} rules; AWS service events)`, usd: 0 },
    { item: 'CloudTrail management events (first copy)', usd: 0 },
  ];
}

/** AWS Config's price for the same coverage: the periodic managed rule evaluates every group every day. Pure. */
export function configComparison(s: Scenario): { managedRule: number; guardRule: number } {
  const perMonth = (s.groups + (s.newPerDay * ASSUMPTIONS.daysPerMonth) / 2) * ASSUMPTIONS.daysPerMonth;
  const tiered = (n: number) =>
    Math.min(n, 100_000) * 0.001 +
    Math.min(Math.max(n - 100_000, 0), 400_000) * 0.0008 +
    Math.max(n - 500_000, 0) * 0.0005;
  // The guard's rule puts only changes: each new group once (COMPLIANT by the next evaluation).
  const guardEvaluations = s.newPerDay * ASSUMPTIONS.daysPerMonth;
  return { managedRule: tiered(perMonth), guardRule: tiered(guardEvaluations) };
}

/** The sum of a bill. */
export const total = (lines: CostLine[]) => lines.reduce((n, l) => n + l.usd, 0);
