import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from './log.ts';
import { CountMetrics } from './metrics.ts';

/** The Powertools Logger and the EMF counts every function uses, with the service name the alarms filter on. */
export function createObservability() {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'logs-kms-guard';
  const logger = new Logger({ serviceName });
  const metrics = new CountMetrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LogsKmsGuard',
    service: serviceName,
  });
  const log: Log = {
    debug: (message, extra) => logger.debug(message, extra ?? {}),
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
  return { logger, metrics, log };
}
