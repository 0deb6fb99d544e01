/**
 * Amazon EventBridge `PutEvents` (awsJson1_1, `X-Amz-Target: AWSEvents.PutEvents`): custom events put on an
 * account's buses, answered per entry as EventBridge answers, and handed to `onPutEvent` listeners (the
 * emulator runs no rules: a test decides where an event goes). The guard's findings function puts one event per
 * finding (functions/core/findings/eventbridge-sink.ts).
 *
 * Sources: EventBridge API Reference, PutEvents ("Entries ... Minimum number of 1 item. Maximum number of 10
 * items"; FailedEntryCount; each result entry has EventId or ErrorCode/ErrorMessage, in the order of the
 * request), PutEventsRequestEntry (EventBusName: name or ARN, default bus when omitted; Detail "a valid JSON
 * object"), PutEventsResultEntry; EventBridge User Guide, "Calculating PutEvents event entry size" (256 KB per
 * request: 14 bytes for Time plus the UTF-8 bytes of Source, DetailType, Detail and Resources); Service
 * Authorization Reference, Amazon EventBridge (events:PutEvents on `event-bus`
 * `arn:${Partition}:events:${Region}:${Account}:event-bus/${EventBusName}`, condition keys events:source and
 * events:detail-type, evaluated for each entry). Assumptions, stated: a denial for any entry refuses the whole
 * request (AccessDeniedException), the size error's text, and the per-entry texts for a missing field, malformed
 * detail, an `aws.` source and a bus that does not exist; only the default bus and the buses a test creates exist.
 */
import { randomUUID } from 'node:crypto';
import { isObject } from '../../functions/core/parse.ts';
import type { Check } from './authorize.ts';
import { fail } from './errors.ts';
import type { Ctx, Input } from './kms.ts';
import { Listeners } from './listeners.ts';
import { partitionOf } from './policy-eval.ts';

/** An event EventBridge accepted, as `onPutEvent` listeners and `putEvents` get it. */
export interface PutEvent {
  id: string;
  region: string;
  account: string;
  /** The bus ARN. */
  eventBusArn: string;
  source: string;
  detailType: string;
  /** The parsed Detail. */
  detail: Record<string, unknown>;
  resources: string[];
  /** ISO 8601 (the entry's Time, else when it was put). */
  time: string;
}

/** The EventBridge part of `emulator.state`. */
export interface EventBridgeStateApi {
  /** Every event put in `region`, in order. */
  putEvents(region: string): PutEvent[];
  /** Creates a custom bus (the default bus always exists); returns its ARN. */
  createEventBus(region: string, name: string): string;
}

const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;
const BUS_ARN = /^arn:aws[a-z-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/([A-Za-z0-9/._-]+)$/;

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** One account's EventBridge buses and the events put on them. */
export class EventBridgeService {
  readonly account: string;
  private readonly events: PutEvent[] = [];
  private readonly buses = new Set<string>();
  private readonly listeners: Listeners<PutEvent>;

  constructor(account: string, log: (line: string) => void = () => {}) {
    this.account = account;
    this.listeners = new Listeners('events: onPutEvent listener', log);
  }

  onPutEvent(listener: (event: PutEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /** The ARN of a bus given by name or ARN (default when omitted). */
  busArn(region: string, nameOrArn: unknown): string {
    if (typeof nameOrArn === 'string' && BUS_ARN.test(nameOrArn)) return nameOrArn;
    const name = typeof nameOrArn === 'string' && nameOrArn !== '' ? nameOrArn : 'default';
    return `arn:${partitionOf(region)}:events:${region}:${this.account}:event-bus/${name}`;
  }

  private exists(region: string, arn: string): boolean {
    return arn === this.busArn(region, 'default') || this.buses.has(arn);
  }

  stateApi(): EventBridgeStateApi {
    return {
      putEvents: (region) => this.events.filter((e) => e.region === region).map((e) => structuredClone(e)),
      createEventBus: (region, name) => {
        const arn = this.busArn(region, name);
        this.buses.add(arn);
        return arn;
      },
    };
  }

  /** events:PutEvents on each entry's bus, with its source and detail-type as condition keys. */
  checks(region: string, operation: string, input: Input): Check[] {
    if (operation !== 'PutEvents' || !Array.isArray(input.Entries)) return [];
    return input.Entries.filter(isObject).map((entry) => ({
      action: 'events:PutEvents',
      resource: this.busArn(region, entry.EventBusName),
      context: {
        ...(typeof entry.Source === 'string' ? { 'events:source': entry.Source } : {}),
        ...(typeof entry.DetailType === 'string' ? { 'events:detail-type': entry.DetailType } : {}),
      },
    }));
  }

  readonly handlers: Record<string, (ctx: Ctx, input: Input) => unknown> = {
    PutEvents: (ctx, input) => {
      const entries = Array.isArray(input.Entries) ? input.Entries : [];
      if (entries.length < 1 || entries.length > MAX_ENTRIES) {
        fail(
          'ValidationException',
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
        );
      }
      const size = entries.reduce<number>((n, e) => n + entrySize(isObject(e) ? e : {}), 0);
      if (size > MAX_BYTES)
        fail('ValidationException', 'Total size of the entries in the request is over the limit.');
      const results = entries.map((entry) => this.putOne(ctx, isObject(entry) ? entry : {}));
      return {
        FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
        Entries: results,
      };
    },
  };

  /** One entry: validated, stored and handed to the listeners; its result entry. */
  private putOne(ctx: Ctx, entry: Input): EntryResult {
    const { Source: source, DetailType: detailType, Detail: detailText } = entry;
    if (typeof source !== 'string' || typeof detailType !== 'string' || typeof detailText !== 'string') {
      const missing = ['Source', 'DetailType', 'Detail'].filter((f) => typeof entry[f] !== 'string');
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter(s) ${missing.join(', ')} must be specified.`,
      };
    }
    if (source.startsWith('aws.')) {
      return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(detailText);
    } catch {
      detail = undefined;
    }
    if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const eventBusArn = this.busArn(ctx.region, entry.EventBusName);
    if (!this.exists(ctx.region, eventBusArn)) {
      return {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: `Event bus ${eventBusArn.split('/').pop()} does not exist.`,
      };
    }
    const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(ctx.now);
    const event: PutEvent = {
      id: randomUUID(),
      region: ctx.region,
      account: this.account,
      eventBusArn,
      source,
      detailType,
      detail,
      resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    this.events.push(event);
    this.listeners.notify(event, structuredClone);
    return { EventId: event.id };
  }
}

/** An entry's size as EventBridge counts it (User Guide, "Calculating PutEvents event entry size"). */
function entrySize(entry: Input): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    14 +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    resources.reduce<number>((n, r) => n + bytes(r), 0)
  );
}
