// The deployed-key run, in a fresh process whose clock runs BENCH_TIME_SCALE times faster (Date.now and
// setTimeout, installed before anything is imported), as the emulator the parent runs (AWS_ENDPOINT_URL) does:
// 1. a container (a fresh import of the bundle) receives the `Custom::LogsKmsGuardKey` Create request, as
//    CloudFormation sends it at deployment, and answers on a local stand-in for the pre-signed ResponseURL;
// 2. right after, a log group is created and a NEW container (another fresh import, a cold Lambda container)
//    receives its CreateLogGroup event, in an SQS batch as the event source mapping delivers it.
// Reports both times on the scaled clock (AWS time) and on the real one, on stderr. Run by
// scripts/bench/sections/deployed.ts.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { DEFAULT_KEY_ALIAS } from '../../functions/core/config.ts';
import { installScaledTime } from '../../local/clock.ts';
import { customResourceRequest, startResponseSink } from '../../local/custom-resource.ts';
import { lambdaContext } from '../../local/functions.ts';
import { sqsRecord } from '../../local/sqs-record.ts';
import { env } from './child.ts';

installScaledTime(Number(env('BENCH_TIME_SCALE')));

const bundle = env('BENCH_BUNDLE');
/** The custom resource's function (GuardKeyReady's ServiceToken): the changes bundle. */
const changesBundle = env('BENCH_CHANGES_BUNDLE');
const functionArn = env('BENCH_FUNCTION_ARN');
const timeoutMs = Number(env('BENCH_TIMEOUT_MS'));
const group = env('BENCH_GROUP');
const [, , , region = '', account = '', , functionName = ''] = functionArn.split(':');
type Handler = (event: unknown, context: unknown) => Promise<unknown>;

// A Lambda context whose remaining time runs on the (scaled) clock, from `timeoutMs` at the invocation.
const context = () => lambdaContext({ region, account }, functionName, timeoutMs);
const changesName = functionName.replace(/-enforce$/, '-changes');
const changesContext = () => lambdaContext({ region, account }, changesName, timeoutMs);

// The stand-in for CloudFormation's pre-signed URL.
const sink = await startResponseSink();

const load = async (tag: string, from = bundle) =>
  ((await import(`${pathToFileURL(from).href}?${tag}`)) as { handler: Handler }).handler;

// 1. The deployment: the custom resource's Create request, as CloudFormation sends it.
const deployer = await load('deploy', changesBundle);
const request = customResourceRequest({
  region,
  account,
  stackName: 'logs-kms-guard-bench',
  functionName: changesName,
  responseUrl: sink.url,
  properties: { KeyAlias: DEFAULT_KEY_ALIAS, KeyArn: '', AllowKeyPolicyUpdate: 'false' },
});
const deployStart = { scaled: Date.now(), real: performance.now() };
const deployed = await deployer(request, changesContext());
const deployEnd = { scaled: Date.now(), real: performance.now() };

// 2. Right after: a new log group, and its event reaching a new container. The group is created through
// the emulator's API (the emulator's record of that call marks where the deployment's calls end).
const { CloudWatchLogsClient, CreateLogGroupCommand } = await import('@aws-sdk/client-cloudwatch-logs');
await new CloudWatchLogsClient({ maxAttempts: 10 }).send(new CreateLogGroupCommand({ logGroupName: group }));
const event = JSON.parse(env('BENCH_EVENT')) as unknown;
const loadStart = performance.now();
const first = await load('first');
const loadMs = performance.now() - loadStart;
const id = randomUUID();
const batch = {
  Records: [
    sqsRecord(
      { messageId: id, body: JSON.stringify(event) },
      { region, account, queueName: 'logs-kms-guard-events' },
    ),
  ],
};
const eventStart = { scaled: Date.now(), real: performance.now() };
const answer = (await first(batch, context())) as { batchItemFailures?: unknown[] };
const eventEnd = { scaled: Date.now(), real: performance.now() };
await sink.close();

process.stderr.write(
  `BENCH ${JSON.stringify({
    deployMs: deployEnd.scaled - deployStart.scaled,
    deployRealMs: deployEnd.real - deployStart.real,
    deployed,
    responses: sink.bodies,
    firstMs: eventEnd.scaled - eventStart.scaled,
    firstRealMs: eventEnd.real - eventStart.real,
    firstLoadMs: loadMs,
    batchItemFailures: answer?.batchItemFailures ?? null,
  })}\n`,
);
process.exit(0);
