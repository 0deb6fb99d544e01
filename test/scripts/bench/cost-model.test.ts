/**
 * The cost model (scripts/bench/cost-model.ts) and the cost section's template count (sections/cost.ts): pure
 * sums checked by hand, so a price or a formula changed by mistake fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  ASSUMPTIONS,
  configComparison,
  type Measured,
  monthlyPerAccountRegion,
  PRICES,
  total,
} from '../../../scripts/bench/cost-model.ts';
import { countTemplate } from '../../../scripts/bench/sections/cost.ts';

const counts = {
  alarms: 14,
  dashboards: 1,
  functions: 2,
  queues: 3,
  rules: 3,
  optionalRules: 2,
  keys: 1,
  polledQueues: 2,
  keyChecksPerMonth: 2_880,
};
const measured: Measured = {
  callsPerNewGroup: 3,
  invocationsPerNewGroup: 0.1,
  sweepCallsPerGroup: 0.4,
  sweepMsPerGroup: 10,
  sweepMetricNames: 9,
};

describe('cost model', () => {
  it('every price names its source page', () => {
    for (const [name, price] of Object.entries(PRICES)) {
      expect(price.source, name).toMatch(/^aws\.amazon\.com\/[a-z-]+\/pricing/);
      expect(price.usd, name).toBeGreaterThanOrEqual(0);
    }
  });

  it('an idle account-region pays the alarms, the dashboard, the key, idle polling and the daily sweep', () => {
    // Act
    const lines = monthlyPerAccountRegion(counts, measured, {
      name: 'idle',
      accountRegions: 1,
      groups: 200,
      newPerDay: 0,
    });
    const item = (prefix: string) => lines.find((l) => l.item.startsWith(prefix))?.usd ?? Number.NaN;

    // Assess
    expect(item('CloudWatch alarms')).toBeCloseTo(1.4, 10);
    expect(item('CloudWatch dashboard')).toBe(3);
    expect(item('KMS key')).toBe(1);
    // Two polled queues idle, and the scheduled key checks' send/receive/delete.
    expect(item('SQS')).toBeCloseTo((2 * ASSUMPTIONS.idleReceivesPerMonth + 2_880 * 3) * 0.4e-6, 10);
    // 9 sweep metrics, 30 hours a month each, at $0.30 a metric-month of 730 hours.
    expect(item('Custom metrics')).toBeCloseTo((9 * 30 * 0.3) / 730, 10);
    // The daily sweep's reads and the key checks' 3 reads each.
    expect(item('KMS requests')).toBeCloseTo((30 * 200 * 0.4 + 2_880 * 3) * 3e-6, 10);
    expect(total(lines)).toBeGreaterThan(5.6);
    expect(total(lines)).toBeLessThan(6.2);
  });

  it('AWS Config: the periodic managed rule pays every group every day, tiered; the guard rule only changes', () => {
    // Act
    const small = configComparison({ name: 's', accountRegions: 1, groups: 200, newPerDay: 0 });
    const big = configComparison({ name: 'b', accountRegions: 1, groups: 5_000, newPerDay: 1_000 });

    // Assess
    expect(small).toEqual({ managedRule: 200 * 30 * 0.001, guardRule: 0 });
    // (5,000 + 15,000 on average) × 30 = 600,000: 100k at $0.001, 400k at $0.0008, 100k at $0.0005.
    expect(big.managedRule).toBeCloseTo(100 + 320 + 50, 6);
    expect(big.guardRule).toBeCloseTo(30, 6);
  });

  it('counts what the template always deploys, optional rules apart, the dashboard even under its condition', () => {
    // Act
    const c = countTemplate({
      Resources: {
        A: { Type: 'AWS::CloudWatch::Alarm' },
        B: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: { Metrics: [{ MetricStat: {} }, { MetricStat: {} }, { Expression: 'a + b' }] },
        },
        KeyCheckScheduleRule: {
          Type: 'AWS::Events::Rule',
          Properties: { ScheduleExpression: 'rate(15 minutes)' },
        },
        M: { Type: 'AWS::Lambda::EventSourceMapping' },
        D: { Type: 'AWS::CloudWatch::Dashboard', Condition: 'HasDashboard' },
        R: { Type: 'AWS::Events::Rule' },
        N: { Type: 'AWS::Events::Rule', Condition: 'NotifiesFindings' },
        C: { Type: 'AWS::Config::ConfigRule', Condition: 'HasConfigRule' },
        Q: { Type: 'AWS::SQS::Queue' },
        F: { Type: 'AWS::Lambda::Function' },
      },
    });

    // Assess
    expect(c).toEqual({
      // one single-metric alarm, one metric-math alarm over two metrics (billed per metric)
      alarms: 3,
      dashboards: 1,
      functions: 1,
      queues: 1,
      rules: 2,
      optionalRules: 2,
      keys: 1,
      polledQueues: 1,
      // rate(15 minutes) over 30 days
      keyChecksPerMonth: 2_880,
    });
  });
});
