/**
 * One sweep run at a time, without reserved concurrency (which fails the stack in accounts whose unreserved
 * concurrency would drop below 10). The lease lives in the sweep function's own log group: every invocation
 * of a run creates a log stream `sweep-lease/<runId>/<invocation>` (CreateLogStream is atomic per name and
 * its creationTime is set by CloudWatch Logs), then lists the lease streams. A run is active while its newest
 * stream is younger than the lease time (longer than one invocation plus its continuation); of the active
 * runs the one that started first (its oldest stream; ties by run id) holds the lease, and every other run
 * yields at once: it lists nothing, enqueues nothing and leaves the progress to the holder. A run that died
 * stops renewing and its lease lapses. Pure decision here, I/O in `acquireSweepLease`.
 *
 * Anyone who may create log streams in the group (AWSLambdaBasicExecutionRole grants logs:CreateLogStream on
 * `*`) can add streams named like a run's, so a run is only believed within what a run of this sweep can be
 * (LeaseLimits): it renews at least once per lease time and takes at most `maxInvocations` invocations, one
 * stream each, so no run of it started more than `maxInvocations x ttlMs` ago (the longest possible run) or
 * has more streams than that. A stream-adder is ignored past either bound and holds the lease for at most one
 * longest run; one that starts a new run id before each bound is reached still makes the sweep yield, which the
 * SweepNotCompleted and SweepYielded alarms report (infra/sls/sweep.yml).
 *
 * Not to be confused with once.ts, which also claims by CreateLogStream: that handles one change event once
 * (a claim per event, never released); this lets one run of many invocations hold the sweep for as long as
 * it renews (a lease per run, released at its end, lapsing when it stops renewing).
 */
import {
  type CloudWatchLogsClient,
  CreateLogStreamCommand,
  DeleteLogStreamCommand,
  DescribeLogStreamsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';

/** The name prefix of every lease stream in the sweep function's log group. */
export const LEASE_PREFIX = 'sweep-lease/';

/** One lease stream as listed: its name and when CloudWatch Logs created it. */
export interface LeaseStream {
  name: string;
  createdAt: number;
}

/** Whether this run holds the lease, or which run does. */
export type LeaseDecision = { held: true } | { held: false; holder: string };

/** What a run of this sweep can be: renewed within `ttlMs`, at most `maxInvocations` invocations (settings). */
export interface LeaseLimits {
  ttlMs: number;
  maxInvocations: number;
}

/** The longest possible run: every invocation renews within the lease time, and there are at most so many. */
export function maxRunMs(limits: LeaseLimits): number {
  return limits.maxInvocations * limits.ttlMs;
}

/** Who holds the lease, from the lease streams as listed; pure. */
export function decideLease(
  streams: LeaseStream[],
  runId: string,
  now: number,
  limits: LeaseLimits,
): LeaseDecision {
  const runs = new Map<string, { first: number; last: number; streams: number }>();
  for (const s of streams) {
    if (!s.name.startsWith(LEASE_PREFIX)) continue;
    const id = s.name.slice(LEASE_PREFIX.length).split('/')[0];
    if (!id) continue;
    const run = runs.get(id) ?? { first: s.createdAt, last: s.createdAt, streams: 0 };
    run.first = Math.min(run.first, s.createdAt);
    run.last = Math.max(run.last, s.createdAt);
    run.streams += 1;
    runs.set(id, run);
  }
  const oldestStart = now - maxRunMs(limits);
  const active = [...runs.entries()]
    .filter(
      ([id, r]) =>
        id === runId ||
        (r.last >= now - limits.ttlMs && r.first >= oldestStart && r.streams <= limits.maxInvocations),
    )
    .sort(([a, x], [b, y]) => x.first - y.first || (a < b ? -1 : a > b ? 1 : 0));
  const holder = active[0]?.[0] ?? runId;
  return holder === runId ? { held: true } : { held: false, holder };
}

/** What taking the lease needs: the log group it lives in, this run and invocation, the time. */
export interface LeaseOptions {
  logs: CloudWatchLogsClient;
  /** The sweep function's own log group. */
  logGroupName: string;
  runId: string;
  invocation: number;
  now: () => number;
  ttlMs: number;
  /** The sweep's SWEEP_MAX_INVOCATIONS: with ttlMs, what a run of it can be (LeaseLimits). */
  maxInvocations: number;
}

/** Renews this run's lease and answers whether it holds it; a yielding run removes its own stream again. */
export async function acquireSweepLease(options: LeaseOptions): Promise<LeaseDecision> {
  const { logs, logGroupName, runId } = options;
  const mine = `${LEASE_PREFIX}${runId}/${String(options.invocation).padStart(5, '0')}`;
  try {
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: mine }));
  } catch (err) {
    // A retried invocation finds its stream made by the first attempt: the same renewal.
    if ((err as Error).name !== 'ResourceAlreadyExistsException') throw err;
  }
  const streams = await listLeaseStreams(logs, logGroupName);
  const decision = decideLease(streams, runId, options.now(), {
    ttlMs: options.ttlMs,
    maxInvocations: options.maxInvocations,
  });
  if (!decision.held) await deleteStreams(logs, logGroupName, [mine]);
  return decision;
}

/** Removes every lease stream of this run (its end). */
export async function releaseSweepLease(
  options: Omit<LeaseOptions, 'invocation' | 'ttlMs' | 'now' | 'maxInvocations'>,
): Promise<void> {
  const streams = await listLeaseStreams(
    options.logs,
    options.logGroupName,
    `${LEASE_PREFIX}${options.runId}/`,
  );
  await deleteStreams(
    options.logs,
    options.logGroupName,
    streams.map((s) => s.name),
  );
}

async function listLeaseStreams(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  prefix = LEASE_PREFIX,
): Promise<LeaseStream[]> {
  const streams: LeaseStream[] = [];
  let nextToken: string | undefined;
  do {
    const out = await logs.send(
      new DescribeLogStreamsCommand({
        logGroupName,
        logStreamNamePrefix: prefix,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const s of out.logStreams ?? []) {
      if (s.logStreamName && s.creationTime !== undefined) {
        streams.push({ name: s.logStreamName, createdAt: s.creationTime });
      }
    }
    nextToken = out.nextToken;
  } while (nextToken);
  return streams;
}

async function deleteStreams(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  names: string[],
): Promise<void> {
  for (const logStreamName of names) {
    try {
      await logs.send(new DeleteLogStreamCommand({ logGroupName, logStreamName }));
    } catch (err) {
      if (
        !(err instanceof ResourceNotFoundException) &&
        (err as Error).name !== 'ResourceNotFoundException'
      ) {
        throw err;
      }
    }
  }
}
