/**
 * The stack's CloudWatch dashboard (infra/sls/dashboard.cjs) in the packaged template: every metric it shows in
 * the LogsKmsGuard namespace is one the functions emit (read from their source: the outcome and count tables,
 * the alarmed counts and every `metrics.add('…')`), and so is every LogsKmsGuard metric an alarm reads, under the namespace and `service` dimension the functions publish with; every
 * AWS/* metric names the stack's own queues and functions; and the widgets the issue asks for are there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cfn } from './iam-allowlist.ts';
import { type Packaged, packageTemplate, root } from './template.ts';

let packaged: Packaged;
beforeAll(() => {
  packaged = packageTemplate({ withSweep: true });
}, 180_000);

const source = (file: string) => readFileSync(path.join(root, file), 'utf8');

/** The body between `start` and the next line that is just `end` (a table in the source). */
function block(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  if (from < 0) throw new Error(`${start} not found`);
  return text.slice(from, text.indexOf(end, from));
}

/** Every metric name the functions emit, from their source. */
function emittedMetricNames(): Set<string> {
  // The outcome table both the enforce and the changes function publish with (one module since the split).
  const guard = source('functions/core/guard-function.ts');
  const enforce = source('functions/enforce.ts');
  const changes = source('functions/changes.ts');
  const sweep = source('functions/sweep.ts');
  const key = source('functions/core/key.ts');
  const names = [
    ...[...block(guard, 'const METRIC_NAMES', '\n};').matchAll(/:\s*'([A-Za-z]+)'/g)].map((m) => m[1]),
    ...[...block(sweep, 'const METRICS', '\n];').matchAll(/'(Sweep[A-Za-z]+)'/g)].map((m) => m[1]),
    ...[...block(key, 'export type AlertMetric', ';').matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]),
    // The alarmed causes counted through `count` (UnsafeKeyRefused, ReEncrypted, CustomResourceRefused, the
    // alert metrics) and the combined count each adds (NeedsAttention).
    ...[...block(guard, 'export type AttentionMetric', ';').matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]),
    ...[...block(guard, 'export function alarmedCounts', '\n}').matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]),
    ...[guard, enforce, changes, sweep].flatMap((t) =>
      [...t.matchAll(/metrics\.add\('([A-Za-z]+)'/g)].map((m) => m[1]),
    ),
  ];
  return new Set(names as string[]);
}

/** The dashboard body with the Fn::Sub placeholders replaced by `<Name>` (so it parses as JSON). */
function dashboard() {
  const resource = packaged.template.Resources.GuardDashboard;
  expect(resource?.Type).toBe('AWS::CloudWatch::Dashboard');
  const body: string = resource?.Properties.DashboardBody['Fn::Sub'];
  const placeholders = [...body.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] as string);
  return { body: JSON.parse(body.replace(/\$\{([^}]+)\}/g, '<$1>')), placeholders };
}

type Row = (string | Record<string, unknown>)[];
const rows = (body: any): Row[] =>
  body.widgets.flatMap((w: any) => (w.type === 'metric' ? (w.properties.metrics as Row[]) : []));

describe('the dashboard', () => {
  it('shows only LogsKmsGuard metrics the functions emit, with the service dimension they publish', () => {
    // Prepare
    const emitted = emittedMetricNames();
    const env = (packaged.template.Resources as any).EnforceLambdaFunction.Properties.Environment.Variables;
    const { body } = dashboard();

    // Act
    const guard = rows(body).filter((r) => r[0] === 'LogsKmsGuard');

    // Assess
    expect(emitted.size).toBeGreaterThan(20);
    expect(guard.length).toBeGreaterThan(15);
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('LogsKmsGuard');
    for (const row of guard) {
      expect(emitted.has(row[1] as string), String(row[1])).toBe(true);
      expect(row.slice(2, 4)).toEqual(['service', env.POWERTOOLS_SERVICE_NAME]);
    }
  });

  it("names only the stack's own queues and functions in the AWS namespaces, and resolves every placeholder", () => {
    // Prepare
    const { body, placeholders } = dashboard();
    const resources = packaged.template.Resources;

    // Act
    const aws = rows(body).filter((r) => typeof r[0] === 'string' && r[0].startsWith('AWS/'));

    // Assess
    for (const p of placeholders) {
      if (p.startsWith('AWS::')) continue;
      const [logical] = p.split('.');
      expect(resources[logical as string], p).toBeDefined();
    }
    const dims = aws.map((r) => `${r[0]} ${r[1]} ${r.slice(2, -1).join('=')}`);
    expect(dims).toEqual(
      expect.arrayContaining([
        'AWS/SQS ApproximateNumberOfMessagesVisible QueueName=<EnforceDlq.QueueName>',
        'AWS/SQS ApproximateNumberOfMessagesVisible QueueName=<RuleTargetDlq.QueueName>',
        'AWS/Lambda Throttles FunctionName=<EnforceLambdaFunction>',
        'AWS/Lambda Errors FunctionName=<ChangesLambdaFunction>',
        'AWS/SQS ApproximateNumberOfMessagesVisible QueueName=<ChangesQueue.QueueName>',
        'AWS/Lambda Errors FunctionName=logs-kms-guard-prod-sweep',
      ]),
    );
    expect((resources as any).SweepLambdaFunction.Properties.FunctionName).toBe('logs-kms-guard-prod-sweep');
  });

  it('has the widgets the security team asked for: coverage, encrypted per hour, failures, DLQs, throttles, keys at risk, the sweep', () => {
    // Act
    const { body } = dashboard();
    const titles = body.widgets.filter((w: any) => w.type === 'metric').map((w: any) => w.properties.title);
    const coverage = body.widgets.find((w: any) => /^Coverage/.test(w.properties.title ?? ''));

    // Assess
    expect(titles.join('\n')).toMatch(
      /Coverage[\s\S]*encrypted per hour[\s\S]*Failures[\s\S]*dead letters[\s\S]*Throttles[\s\S]*Keys at risk[\s\S]*sweep/,
    );
    expect(coverage.properties.metrics.at(-1)[0].expression).toBe('100 * (1 - FILL(missed, 0) / listed)');
    // On by default; Dashboard=false (an organization's StackSet) leaves it out ($3 a month each).
    expect(packaged.template.Resources.GuardDashboard?.Condition).toBe('HasDashboard');
    expect(packaged.template.Parameters.Dashboard).toMatchObject({
      Default: 'true',
      AllowedValues: ['true', 'false'],
    });
    expect(packaged.template.Resources.GuardDashboard?.Properties.DashboardName).toEqual({
      'Fn::Sub': `${cfn('AWS::StackName')}-${cfn('AWS::Region')}`,
    });
  });
});

describe('the alarms', () => {
  it('read only LogsKmsGuard metrics the functions emit, NeedsAttention among them', () => {
    // Prepare: an alarm on a metric nobody emits never fires (with notBreaching, silently)
    const emitted = emittedMetricNames();
    const alarms = Object.values(packaged.template.Resources as Record<string, any>).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm',
    );

    // Act: the metric of a plain alarm and each metric of a metric-math alarm
    const read = alarms.flatMap((a) => [
      ...(a.Properties.Namespace ? [[a.Properties.Namespace, a.Properties.MetricName]] : []),
      ...(a.Properties.Metrics ?? [])
        .filter((m: any) => m.MetricStat)
        .map((m: any) => [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName]),
    ]);
    const guard = read.filter(([ns]) => ns === 'LogsKmsGuard').map(([, name]) => name as string);

    // Assess
    expect(guard).toEqual(expect.arrayContaining(['NeedsAttention', 'KeyAtRisk', 'SweepCompleted']));
    for (const name of guard) expect(emitted.has(name), name).toBe(true);
  });
});
