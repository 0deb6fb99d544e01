/**
 * The CloudWatch embedded metric format documents (functions/core/metrics.ts), output captured: the EMF
 * shape, counts per invocation, the ColdStart count, splitting past 100 metrics, publishing after success or
 * failure.
 */
import { describe, expect, it } from 'vitest';
import { CountMetrics, emfDocument, publishMetrics } from '../../functions/core/metrics.ts';

function capture() {
  const lines: string[] = [];
  const metrics = new CountMetrics({
    namespace: 'LogsKmsGuard',
    service: 'logs-kms-guard',
    write: (line) => lines.push(line),
    now: () => 1_700_000_000_000,
  });
  return { lines, metrics, docs: () => lines.map((l) => JSON.parse(l)) };
}

describe('emfDocument', () => {
  it('declares every count under the namespace with the dimension set, values at the top level', () => {
    // Act
    const doc = emfDocument('NS', { service: 's' }, new Map([['Encrypted', 2]]), 5);
    // Assess: the shape CloudWatch's EMF specification requires
    expect(doc).toEqual({
      _aws: {
        Timestamp: 5,
        CloudWatchMetrics: [
          { Namespace: 'NS', Dimensions: [['service']], Metrics: [{ Name: 'Encrypted', Unit: 'Count' }] },
        ],
      },
      service: 's',
      Encrypted: 2,
    });
  });
});

describe('CountMetrics', () => {
  it('sums counts per invocation and starts afresh after publishing', () => {
    // Prepare
    const { metrics, docs } = capture();
    metrics.add('Encrypted');
    metrics.add('Encrypted');
    metrics.add('Failed', 3);
    // Act
    metrics.publish();
    metrics.add('Encrypted');
    metrics.publish();
    // Assess
    const [first, second] = docs();
    expect(first).toMatchObject({ Encrypted: 2, Failed: 3, service: 'logs-kms-guard' });
    expect(second).toMatchObject({ Encrypted: 1 });
    expect(second.Failed).toBeUndefined();
  });

  it('writes nothing when nothing was counted (and it is not a cold start)', () => {
    const { metrics, lines } = capture();
    metrics.publish();
    expect(lines).toEqual([]);
  });

  it('adds one ColdStart count with the function name, on the first invocation only', () => {
    // Prepare
    const { metrics, docs } = capture();
    // Act
    metrics.add('Encrypted');
    metrics.publish('enforce');
    metrics.add('Encrypted');
    metrics.publish('enforce');
    // Assess
    const cold = docs().filter((d) => 'ColdStart' in d);
    expect(cold).toHaveLength(1);
    expect(cold[0]).toMatchObject({ ColdStart: 1, function_name: 'enforce', service: 'logs-kms-guard' });
    expect(cold[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'function_name']]);
  });

  it('splits more than 100 metrics into several documents, as EMF requires', () => {
    const { metrics, docs } = capture();
    for (let i = 0; i < 150; i++) metrics.add(`M${i}`);
    metrics.publish();
    expect(docs().map((d) => d._aws.CloudWatchMetrics[0].Metrics.length)).toEqual([100, 50]);
  });
});

describe('publishMetrics', () => {
  it('publishes after a successful and after a failed invocation', () => {
    // Prepare
    const { metrics, docs } = capture();
    const middleware = publishMetrics(metrics);
    // Act
    metrics.add('Encrypted');
    middleware.after({ context: { functionName: 'f' } });
    metrics.add('Failed');
    middleware.onError({ context: { functionName: 'f' } });
    // Assess
    expect(docs().filter((d) => 'Encrypted' in d || 'Failed' in d)).toHaveLength(2);
  });
});
