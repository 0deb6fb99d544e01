/**
 * Count metrics in CloudWatch Embedded Metric Format: one JSON line on stdout per invocation, which
 * Lambda's log pipeline turns into metrics. The guard only ever counts, so this replaces Powertools
 * Metrics (about 15 KB of bundle and its start-up work on every cold start) with the one document shape
 * it needs. Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** EMF allows at most 100 metrics per document. */
const MAX_METRICS = 100;

/** One EMF document: the counts under `namespace`, with `dimensions` as the only dimension set. */
export function emfDocument(
  namespace: string,
  dimensions: Record<string, string>,
  counts: ReadonlyMap<string, number>,
  timestamp: number,
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: [...counts.keys()].map((Name) => ({ Name, Unit: 'Count' })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(counts),
  };
}

export interface CountMetricsOptions {
  namespace: string;
  /** The `service` dimension the alarms filter on. */
  service: string;
  /** Where a document goes; stdout (one line each) unless a test passes its own. */
  write?: (line: string) => void;
  now?: () => number;
}

/** Counts per invocation, flushed as EMF; a ColdStart count (with function_name) once per container. */
export class CountMetrics {
  private counts = new Map<string, number>();
  private coldStart = true;
  private readonly options: Required<CountMetricsOptions>;

  constructor(options: CountMetricsOptions) {
    this.options = {
      write: (line) => process.stdout.write(`${line}\n`),
      now: Date.now,
      ...options,
    };
  }

  /** Adds `value` to the count called `name` for this invocation. */
  add(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  /** Writes this invocation's counts (in documents of at most 100 metrics) and starts afresh. */
  publish(functionName?: string): void {
    const { namespace, service, write, now } = this.options;
    const timestamp = now();
    if (this.coldStart && functionName) {
      const cold = new Map([['ColdStart', 1]]);
      write(
        JSON.stringify(emfDocument(namespace, { service, function_name: functionName }, cold, timestamp)),
      );
    }
    this.coldStart = false;
    const entries = [...this.counts];
    this.counts = new Map();
    for (let i = 0; i < entries.length; i += MAX_METRICS) {
      const chunk = new Map(entries.slice(i, i + MAX_METRICS));
      write(JSON.stringify(emfDocument(namespace, { service }, chunk, timestamp)));
    }
  }
}

/** A middy middleware that publishes the counts after every invocation, also one that throws. */
export function publishMetrics(metrics: CountMetrics) {
  const publish = (request: { context?: { functionName?: string } }) => {
    metrics.publish(request.context?.functionName);
  };
  return { after: publish, onError: publish };
}
