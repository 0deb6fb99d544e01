/**
 * A CloudWatch Logs subscription delivery to a Lambda function, as CloudWatch Logs sends it: `{ awslogs: { data } }`
 * where data is the base64 of the gzipped JSON of the log events the filter matched (CloudWatch Logs User Guide,
 * "Subscription filters with AWS Lambda"; the CloudWatchLogsDecodedData type of @types/aws-lambda). Local runs and
 * tests feed the findings function with it.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** The delivery of `lines` (each a log event's message) from `logGroup`. */
export function subscriptionEvent(
  lines: readonly string[],
  options: { logGroup: string; owner: string; filterName?: string; at?: number },
): { awslogs: { data: string } } {
  const at = options.at ?? Date.now();
  const payload = {
    messageType: 'DATA_MESSAGE',
    owner: options.owner,
    logGroup: options.logGroup,
    logStream: `2026/12/07/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    subscriptionFilters: [options.filterName ?? 'FindingsFromEnforce'],
    logEvents: lines.map((message, i) => ({
      id: `${at}${String(i).padStart(6, '0')}`,
      timestamp: at,
      message,
    })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}
