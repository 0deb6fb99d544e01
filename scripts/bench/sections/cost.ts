/**
 * The `cost` section of `npm run bench` (issue 22 item 6): what a deployment costs a month, from the packaged
 * template (alarms, dashboards, functions, queues, rules; the guard key made at run time) and the calls the burst
 * and sweep sections measured (run here on a small scale when they were not chosen), for one idle account-region,
 * one with 1,000 new log groups a day, and an organization of 500 accounts × 4 regions; beside AWS Config's price
 * for the same coverage (the periodic managed rule cloudwatch-log-group-encrypted). Prices and assumptions:
 * scripts/bench/cost-model.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnTemplate, packageTemplateFile } from '../../../local/roles.ts';
import type { BenchArgs } from '../args.ts';
import {
  configComparison,
  type Measured,
  monthlyPerAccountRegion,
  PRICES_AS_OF,
  type Scenario,
  type TemplateCounts,
  total,
} from '../cost-model.ts';
import { root } from '../rig.ts';
import { type Figure, spread } from '../stats.ts';
import { burstFigures } from './burst.ts';
import { sweepFigures } from './sweep.ts';

export const SCENARIOS: Scenario[] = [
  { name: 'one account-region, idle (200 groups, none new)', accountRegions: 1, groups: 200, newPerDay: 0 },
  {
    name: 'one account-region, 1,000 new groups a day (5,000 groups)',
    accountRegions: 1,
    groups: 5_000,
    newPerDay: 1_000,
  },
  { name: '500 accounts × 4 regions, idle profile', accountRegions: 2_000, groups: 200, newPerDay: 0 },
  {
    name: '500 accounts × 4 regions, 20 new groups a day each',
    accountRegions: 2_000,
    groups: 500,
    newPerDay: 20,
  },
];

/** What the packaged template deploys per account and region (resources under a Condition counted apart). */
export function countTemplate(
  template: CfnTemplate & {
    Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, unknown> }>;
  },
): TemplateCounts {
  const always = Object.values(template.Resources).filter((r) => !r.Condition);
  const count = (type: string) => always.filter((r) => r.Type === type).length;
  const alarmMetrics = always
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => {
      const metrics = r.Properties?.Metrics as { MetricStat?: unknown }[] | undefined;
      return metrics ? metrics.filter((m) => m.MetricStat).length : 1;
    });
  const schedule = template.Resources.KeyCheckScheduleRule?.Properties?.ScheduleExpression;
  return {
    alarms: alarmMetrics.reduce((n, k) => n + k, 0),
    // On by default (Dashboard=true), under its condition: counted, and its saving shown apart.
    dashboards: Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')
      .length,
    functions: count('AWS::Lambda::Function'),
    queues: count('AWS::SQS::Queue'),
    rules: count('AWS::Events::Rule'),
    optionalRules: Object.values(template.Resources).filter(
      (r) => r.Condition && (r.Type === 'AWS::Events::Rule' || r.Type === 'AWS::Config::ConfigRule'),
    ).length,
    keys: 1,
    polledQueues: count('AWS::Lambda::EventSourceMapping'),
    keyChecksPerMonth: typeof schedule === 'string' ? perMonth(schedule) : 0,
  };
}

/** How many times a month a `rate(N minutes|hours)` schedule fires (30 days); 0 for any other expression. */
export function perMonth(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  if (!m) return 0;
  const minutes = Number(m[1]) * (m[2]?.startsWith('hour') ? 60 : 1);
  return Math.floor((30 * 24 * 60) / minutes);
}

/** The sweep's per-run metric names, from its source (its count table, SweepCompleted, ColdStart). */
function sweepMetricNames(): number {
  const source = readFileSync(join(root, 'functions', 'sweep.ts'), 'utf8');
  const table = source.slice(
    source.indexOf('const METRICS'),
    source.indexOf('];', source.indexOf('const METRICS')),
  );
  return [...table.matchAll(/'(Sweep[A-Za-z]+)'/g)].length + 2;
}

type Run = Record<string, unknown>;
const runsOf = (f: Figure | undefined) => ((f?.details?.runs as Run[] | undefined) ?? []) as Run[];
const num = (v: unknown) => (typeof v === 'number' ? v : 0);

/** Calls per group from the burst and sweep figures (measured now on a small scale when absent). */
async function measured(
  args: BenchArgs,
  prior: Figure[],
  tmp: string,
  log: (l: string) => void,
): Promise<Measured> {
  let burst = prior.find((f) => f.id === 'burst');
  let sweep = prior.find((f) => f.id === 'sweep');
  const sweepMeasuredHere = !sweep;
  const small = {
    ...args,
    runs: 1,
    burst: Math.min(args.burst, 200),
    sweepGroups: Math.min(args.sweepGroups, 1_000),
    reference: false,
  };
  if (!burst) burst = (await burstFigures(small, tmp, log)).find((f) => f.id === 'burst');
  if (!sweep) sweep = (await sweepFigures(small, log)).find((f) => f.id === 'sweep');
  const b = runsOf(burst);
  const s = runsOf(sweep);
  const groupsBurst = b.reduce((n, r) => n + num(r.encrypted), 0) || 1;
  const sweepGroups = sweepMeasuredHere ? small.sweepGroups : args.sweepGroups;
  return {
    callsPerNewGroup: b.reduce((n, r) => n + num(r.calls), 0) / groupsBurst,
    invocationsPerNewGroup: b.reduce((n, r) => n + num(r.invocations), 0) / groupsBurst,
    sweepCallsPerGroup: s.reduce((n, r) => n + num(r.calls), 0) / (s.length || 1) / sweepGroups,
    sweepMsPerGroup: s.reduce((n, r) => n + num(r.elapsed), 0) / (s.length || 1) / sweepGroups,
    sweepMetricNames: sweepMetricNames(),
  };
}

const usd = (n: number) => `$${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)}`;

/** 9. Monthly cost of a deployment per scenario, beside AWS Config's managed rule for the same coverage. */
export async function costFigures(
  args: BenchArgs,
  prior: Figure[],
  tmp: string,
  log: (line: string) => void,
): Promise<Figure[]> {
  const template = JSON.parse(readFileSync(packageTemplateFile(), 'utf8'));
  const counts = countTemplate(template);
  const m = await measured(args, prior, tmp, log);
  const figures: Figure[] = SCENARIOS.map((s, i) => {
    const lines = monthlyPerAccountRegion(counts, m, s);
    const each = total(lines);
    const config = configComparison(s);
    const biggest = [...lines].sort((a, b) => b.usd - a.usd).slice(0, 4);
    return {
      id: `cost-${i + 1}`,
      name: `cost a month: ${s.name}`,
      unit: 'USD',
      ours: spread([each * s.accountRegions]),
      floor: spread([config.managedRule * s.accountRegions]),
      ratio: spread([config.managedRule > 0 ? each / config.managedRule : 0]),
      goal: 'reference (floor: AWS Config managed rule, same coverage)',
      met: undefined,
      note:
        `${usd(each)} per account-region: ${biggest.map((l) => `${l.item} ${usd(l.usd)}`).join(', ')}; ` +
        `AWS Config cloudwatch-log-group-encrypted (periodic, daily) ${usd(config.managedRule)} per account-region, ` +
        `the guard's own Config rule (ConfigRule=true, changes only) ${usd(config.guardRule)}`,
      details: { perAccountRegion: lines, config, scenario: s },
    };
  });
  figures.push({
    id: 'cost-model',
    name: 'cost model inputs (template and measured calls)',
    unit: '',
    ours: spread([counts.alarms]),
    goal: 'reference',
    met: undefined,
    note:
      `template per account-region: ${counts.alarms} alarms, ${counts.dashboards} dashboard, ${counts.functions} functions, ` +
      `${counts.queues} queues, ${counts.rules} rules (+${counts.optionalRules} optional), ${counts.keys} KMS key; ` +
      `measured: ${m.callsPerNewGroup.toFixed(2)} calls and ${m.invocationsPerNewGroup.toFixed(2)} invocations per new group, ` +
      `sweep ${m.sweepCallsPerGroup.toFixed(3)} calls and ${m.sweepMsPerGroup.toFixed(1)} ms per group; prices as of ${PRICES_AS_OF} ` +
      '(scripts/bench/cost-model.ts PRICES, each with its pricing page)',
    details: { counts, measured: m },
  });
  return figures;
}
