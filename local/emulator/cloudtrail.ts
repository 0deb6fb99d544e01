/**
 * CloudTrail's event history, as far as the CLI's `audit` and `doctor` read it: LookupEvents over the events the
 * emulator recorded (events.ts; every recorded call, also those EventBridge delivery lost), newest first, with
 * the lookup attributes EventName and EventSource, StartTime/EndTime, MaxResults (≤ 50) and NextToken; each
 * event's CloudTrailEvent is its record as JSON. CloudTrail API reference, LookupEvents: "You can look up events
 * that occurred in a Region within the last 90 days", "The default number of results returned is 50, with a
 * maximum of 50 possible", events in reverse chronological order. IAM: cloudtrail:LookupEvents on `*` (Service
 * Authorization Reference, AWS CloudTrail: LookupEvents has no resource type). Not modelled: the 2 TPS quota,
 * the other lookup attributes, Insights events.
 */

import type { Check } from './authorize.ts';
import { ApiError } from './errors.ts';
import type { EventBus } from './events.ts';
import type { Ctx, Input } from './kms.ts';

const NINETY_DAYS_MS = 90 * 86_400_000;

/** The CloudTrail operations of one account's emulator, over its bus's history. */
export class CloudTrailService {
  private readonly bus: EventBus;

  constructor(bus: EventBus) {
    this.bus = bus;
  }

  /** The IAM check of a request: LookupEvents on `*`. */
  checks(operation: string): Check[] {
    return operation === 'LookupEvents'
      ? [{ action: 'cloudtrail:LookupEvents', resource: '*', context: {} }]
      : [];
  }

  readonly handlers: Record<string, (ctx: Ctx, input: Input) => unknown> = {
    LookupEvents: (ctx, input) => {
      const limit = input.MaxResults === undefined ? 50 : Number(input.MaxResults);
      if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
        throw new ApiError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.');
      }
      const attributes = Array.isArray(input.LookupAttributes) ? (input.LookupAttributes as Input[]) : [];
      if (attributes.length > 1) {
        throw new ApiError(
          'InvalidLookupAttributesException',
          'You cannot specify more than one lookup attribute.',
        );
      }
      const [attribute] = attributes;
      const field =
        attribute?.AttributeKey === 'EventName'
          ? 'eventName'
          : attribute?.AttributeKey === 'EventSource'
            ? 'eventSource'
            : undefined;
      if (attribute && !field) {
        throw new ApiError(
          'InvalidLookupAttributesException',
          `${String(attribute.AttributeKey)} is not modelled by the emulator.`,
        );
      }
      const start = input.StartTime === undefined ? ctx.now - NINETY_DAYS_MS : Number(input.StartTime) * 1000;
      const end = input.EndTime === undefined ? ctx.now : Number(input.EndTime) * 1000;
      const all = this.bus.history
        .map((e) => e.detail as Record<string, unknown>)
        .filter((d) => d.awsRegion === ctx.region)
        .filter((d) => !field || d[field] === attribute?.AttributeValue)
        .map((d) => ({ d, at: Date.parse(String(d.eventTime)) }))
        .filter(({ at }) => at >= Math.max(start, ctx.now - NINETY_DAYS_MS) - 999 && at <= end)
        .reverse();
      const from =
        input.NextToken === undefined
          ? 0
          : Number(Buffer.from(String(input.NextToken), 'base64url').toString());
      if (!Number.isInteger(from) || from < 0)
        throw new ApiError('InvalidNextTokenException', 'Invalid NextToken.');
      const page = all.slice(from, from + limit);
      return {
        Events: page.map(({ d, at }) => ({
          EventId: d.eventID,
          EventName: d.eventName,
          ReadOnly: String(d.readOnly ?? false),
          ...((d.userIdentity as Input | undefined)?.accessKeyId
            ? { AccessKeyId: (d.userIdentity as Input).accessKeyId }
            : {}),
          EventTime: Math.floor(at / 1000),
          EventSource: d.eventSource,
          Resources: [],
          CloudTrailEvent: JSON.stringify(d),
        })),
        ...(from + limit < all.length
          ? { NextToken: Buffer.from(String(from + limit)).toString('base64url') }
          : {}),
      };
    },
  };
}
