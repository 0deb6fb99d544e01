/**
 * One event in, one decision out: validates what a function receives (an SQS record's body or a direct
 * invocation) with its parser, runs the core step it asks for (encrypt a new group, enforceLogGroup; or, in the
 * changes function, a later change: handle-change.ts, passed as `onChange`), and logs and counts the decision.
 * Never throws: a failure is an outcome, and every failure goes back to the queue (after maxReceiveCount it lands
 * in the DLQ).
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { ChangeRequest } from './change-event.ts';
import type { Clients } from './clients.ts';
import { type Clock, systemClock } from './clock.ts';
import { mapLimit } from './concurrency.ts';
import type { GuardConfig } from './config.ts';
import { type EnforceDeps, type EnforceResult, enforceLogGroup, type Outcome } from './enforce.ts';
import { DeadlineExceededError, GuardError, KeyPolicyError, UnsafeKeyError } from './errors.ts';
import {
  type CreateLogGroupRequest,
  type Home,
  type ParsedEvent,
  parseCreateLogGroupEvent,
} from './event.ts';
import { reportFinding } from './finding.ts';
import { groupFindingOf } from './group-finding.ts';
import type { KeyCreator } from './key.ts';
import type { Log } from './log.ts';
import { shareRunning } from './once.ts';
import type { BackoffOptions } from './retry.ts';
import type { TokenBucket } from './token-bucket.ts';

/** What the event handler needs around the core; the Lambda entry and the local pipeline build it. */
export interface HandleDeps {
  config: GuardConfig;
  log: Log;
  home: Home;
  clientsFor: (region: string) => Clients;
  deadline: number;
  clock?: Clock;
  associateBucket?: TokenBucket;
  /** Paces the tag read before each association (EnforceDeps.tagsBucket). */
  tagsBucket?: TokenBucket;
  backoff?: BackoffOptions;
  /** Called once per decision, e.g. to count a metric. */
  record?: (outcome: Outcome, error?: unknown) => void;
  /** Counts an alarmed metric (see KeyStepOptions.alert). */
  alert?: EnforceDeps['alert'];
  /**
   * Work under way in this container, by group: a duplicate delivered while the first copy is still being
   * handled waits for its result instead of spending another AssociateKmsKey call of the 5 TPS quota
   * (once.ts, layer 1).
   */
  inflight?: Map<string, Promise<EnforceResult>>;
  /** Change events (drift.ts) this container has handled: a late duplicate raises no second alarm (layer 2). */
  handledChanges?: Set<string>;
  /**
   * Claims a change event across containers (false: another container has it). EventBridge may deliver an
   * event twice, and the copies can reach two containers within milliseconds (once.ts, layer 3).
   */
  claim?: (eventId: string) => Promise<boolean>;
  /** The function's own log group (KeyStepOptions.ownLogGroup). */
  ownLogGroup?: string;
  /** Validates an event (default: the enforce function's, event.ts parseCreateLogGroupEvent). */
  parse?: (raw: unknown, home: Home) => ParsedEvent;
  /** Handles a later change (the changes function's handle-change.ts); without it a change is refused. */
  onChange?: (change: ChangeRequest, deps: HandleDeps, clock: Clock) => Promise<HandledEvent>;
  /** Creates the guard key when it is missing (the changes function's; KeyStepOptions.creator). */
  keyCreator?: KeyCreator;
}

export interface HandledEvent extends EnforceResult {
  eventId: string | undefined;
  /** Set when the outcome is `failed`. */
  error?: GuardError | Error;
  /** A failure the queue should deliver again (every one but a permanent refusal: after maxReceiveCount, the DLQ). */
  retry: boolean;
}

/**
 * Validates one event, runs the core on it and logs the decision (and the group's finding, when it is one);
 * never throws. `attempt`: how many times the queue delivered this work item (1 for a direct invocation).
 */
export async function handleEvent(raw: unknown, deps: HandleDeps, attempt = 1): Promise<HandledEvent> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const parsed: ParsedEvent =
    raw instanceof InvalidBody
      ? {
          kind: 'rejected',
          eventId: undefined,
          name: undefined,
          reason: `SQS message body is not JSON: ${raw.excerpt}`,
        }
      : (deps.parse ?? parseCreateLogGroupEvent)(raw, deps.home);
  let handled: HandledEvent;
  if (parsed.kind === 'create' || parsed.kind === 'change') {
    try {
      if (clock.now() >= deps.deadline) throw new DeadlineExceededError('no time left in this invocation');
      if (parsed.kind === 'change' && !deps.onChange) throw new Error('this function handles no changes');
      handled =
        parsed.kind === 'create'
          ? await handleCreateEvent(parsed, deps, clock)
          : await (deps.onChange as NonNullable<HandleDeps['onChange']>)(parsed, deps, clock);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      handled = {
        outcome: 'failed',
        logGroupName: parsed.name ?? '',
        reason: `${error.name}: ${error.message}`,
        eventId: parsed.eventId,
        error,
        // Every failure goes back to the queue, except a refusal no retry can change (a KMS resource limit).
        retry: !(error instanceof GuardError && error.permanent),
      };
    }
  } else {
    handled = {
      outcome: parsed.kind === 'failed-call' ? 'ignored-failed-call' : 'rejected-input',
      logGroupName: parsed.name ?? '',
      reason: parsed.reason,
      eventId: parsed.eventId,
      retry: false,
    };
  }
  const entry = {
    outcome: handled.outcome,
    reason: handled.reason,
    eventId: handled.eventId,
    logGroupName: handled.logGroupName,
    ...(handled.keyArn ? { keyArn: handled.keyArn } : {}),
    ...(handled.attempts ? { attempts: handled.attempts } : {}),
    durationMs: clock.now() - started,
    ...(handled.error ? { errorName: handled.error.name, unsafeKey: isUnsafeKey(handled.error) } : {}),
  };
  if (handled.outcome === 'failed') deps.log.error('decision', entry);
  else if (handled.outcome === 'rejected-input') deps.log.warn('decision', entry);
  else deps.log.info('decision', entry);
  deps.record?.(handled.outcome, handled.error);
  reportGroupFinding(handled, parsed, deps, attempt, clock);
  return handled;
}

/** Writes the finding line of a group the guard cannot encrypt (or encrypted at last), if this decision is one. */
function reportGroupFinding(
  handled: HandledEvent,
  parsed: ParsedEvent,
  deps: HandleDeps,
  attempt: number,
  clock: Clock,
): void {
  const where = 'region' in parsed ? parsed : deps.home;
  if (!where.account || !where.region) return;
  const finding = groupFindingOf(handled, {
    account: where.account,
    region: where.region,
    attempt,
    now: new Date(clock.now()).toISOString(),
  });
  if (finding) reportFinding(deps.log, finding);
}

/** Handles an SQS batch a few records at once; the records to deliver again, as Lambda's partial batch response. */
export async function handleSqsBatch(
  records: SQSRecord[],
  deps: HandleDeps,
  concurrency: number,
): Promise<SQSBatchResponse> {
  const results = await mapLimit(records, concurrency, (r) =>
    handleEvent(recordBody(r), deps, Number(r.attributes?.ApproximateReceiveCount ?? 1) || 1),
  );
  return {
    batchItemFailures: results.flatMap((h, i) =>
      h.retry ? [{ itemIdentifier: records[i]?.messageId as string }] : [],
    ),
  };
}

/** Handles a direct invocation; a failure is thrown, so Lambda's retries and on-failure destination see it. */
export async function handleInvocation(
  event: unknown,
  deps: HandleDeps,
): Promise<Omit<HandledEvent, 'error' | 'retry'>> {
  const handled = await handleEvent(event, deps);
  if (handled.error) throw handled.error;
  const { error: _error, retry: _retry, ...result } = handled;
  return result;
}

/** A new log group: encrypted by enforceLogGroup; a duplicate delivered meanwhile shares the running one. */
async function handleCreateEvent(
  create: CreateLogGroupRequest,
  deps: HandleDeps,
  clock: Clock,
): Promise<HandledEvent> {
  const target = {
    name: create.name,
    region: create.region,
    account: create.account,
    ...(create.tags ? { tags: create.tags } : {}),
    ...(create.kmsKeyId ? { requestedKmsKeyId: create.kmsKeyId } : {}),
  };
  const result = await shareRunning(deps.inflight, JSON.stringify(target), () =>
    enforceLogGroup(target, coreDeps(deps, create.region, clock)),
  );
  return { ...result, eventId: create.eventId, retry: false };
}

/** What the core steps need, from the handler's dependencies. */
export function coreDeps(deps: HandleDeps, region: string, clock: Clock): EnforceDeps {
  return {
    clients: deps.clientsFor(region),
    config: deps.config,
    log: deps.log,
    deadline: deps.deadline,
    clock,
    associateBucket: deps.associateBucket,
    tagsBucket: deps.tagsBucket,
    backoff: deps.backoff,
    alert: deps.alert,
    ownLogGroup: deps.ownLogGroup,
    keyCreator: deps.keyCreator,
  };
}

/** True for the refusals that must raise the unsafe-key alarm. */
export function isUnsafeKey(error: unknown): boolean {
  return error instanceof UnsafeKeyError || error instanceof KeyPolicyError;
}

/** An SQS body that is not JSON, kept for the rejection message. */
export class InvalidBody {
  readonly excerpt: string;
  constructor(body: string) {
    this.excerpt = JSON.stringify(body.slice(0, 120));
  }
}

/** Parses an SQS record's body as JSON; a body that is not JSON becomes an InvalidBody the handler rejects. */
export function recordBody(record: SQSRecord): unknown {
  try {
    return JSON.parse(record.body);
  } catch {
    return new InvalidBody(record.body);
  }
}
