import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Log } from './log.ts';

/** The Powertools Logger and Metrics every function uses, with the service name the alarms filter on. */
export function createObservability() {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'logs-kms-guard';
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LogsKmsGuard',
    serviceName,
  });
  const log: Log = {
    debug: (message, extra) => logger.debug(message, extra ?? {}),
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
  return { logger, metrics, log };
}
