/**
 * The observability every Lambda function sets up once per container: the JSON logger (json-logger.ts) and the
 * EMF counts (metrics.ts), under the service name and namespace the alarms filter on.
 */
import { JsonLogger, logLevelFrom } from './json-logger.ts';
import type { Log } from './log.ts';
import { CountMetrics } from './metrics.ts';

/** The JSON logger and the EMF counts every function uses, with the service name the alarms filter on. */
export function createObservability() {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'logs-kms-guard';
  const logger = new JsonLogger({ service: serviceName, level: logLevelFrom(process.env) });
  const metrics = new CountMetrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LogsKmsGuard',
    service: serviceName,
  });
  const log: Log = logger;
  return { logger, metrics, log };
}
