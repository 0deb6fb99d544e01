/**
 * The SDK clients a region needs (KMS and CloudWatch Logs), with the timeouts and SDK retries every call of
 * the guard runs under; created once per region and process, so warm invocations reuse their connections.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';

/** The two SDK clients a region needs; every domain step takes them so tests and the CLI pass their own. */
export interface Clients {
  kms: KMSClient;
  logs: CloudWatchLogsClient;
}

// The SDK's standard retry mode absorbs short throttling and 5xx blips; the guard's own loop
// (associate.ts) handles the slow cases (KMS propagation) against the Lambda's deadline.
// `throwOnRequestTimeout`: without it the SDK only logs a warning when requestTimeout passes and keeps
// waiting, so a hung connection would hold the invocation until the Lambda timeout.
export const CLIENT_SETTINGS = {
  retryMode: 'standard',
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

const cache = new Map<string, Clients>();

/** Clients for a region, created once per process and reused by warm invocations. */
export function clientsFor(region: string): Clients {
  let clients = cache.get(region);
  if (!clients) {
    // AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_KMS / _CLOUDWATCH_LOGS) is honoured by the SDK itself.
    clients = {
      kms: new KMSClient({ region, ...CLIENT_SETTINGS }),
      logs: new CloudWatchLogsClient({ region, ...CLIENT_SETTINGS }),
    };
    cache.set(region, clients);
  }
  return clients;
}
