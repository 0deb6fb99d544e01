/**
 * Pure parsing of the events the enforce function receives: CloudTrail CreateLogGroup calls and the sweep's
 * work items, each validated against where the guard runs and said precisely why when refused; and the helpers
 * change-event.ts shares for the later changes the changes function handles. No I/O.
 */

import { isAccountId, isRegion } from './arn.ts';
import type { ChangeRequest } from './change-event.ts';
import { isObject } from './parse.ts';
import { isLogGroupName } from './scope.ts';

/** A valid, successful CreateLogGroup call the guard may act on. */
export interface CreateLogGroupRequest {
  kind: 'create';
  eventId: string;
  name: string;
  region: string;
  account: string;
  /** The key the creator asked for, if any: such groups are the owner's choice. */
  kmsKeyId?: string;
  tags?: Record<string, string>;
}

export type ParsedEvent =
  | CreateLogGroupRequest
  | ChangeRequest
  | { kind: 'failed-call'; eventId: string | undefined; name: string | undefined; reason: string }
  | { kind: 'rejected'; eventId: string | undefined; name: string | undefined; reason: string };

/** Where the function runs; events for any other account or region are refused. */
export interface Home {
  account: string | undefined;
  region: string | undefined;
}

/** The `source` and `detail-type` of work items the sweep queues for groups it found unencrypted. */
export const SWEEP_SOURCE = 'logs-kms-guard.sweep';
export const SWEEP_DETAIL_TYPE = 'Unencrypted Log Group Found';

/** Builds the queue message the sweep sends for one unencrypted group; the enforce handler reads it back. */
export function sweepWorkItem(item: { name: string; region: string; account: string; runId: string }) {
  return {
    source: SWEEP_SOURCE,
    'detail-type': SWEEP_DETAIL_TYPE,
    id: `${item.runId}:${item.name}`.slice(0, 128),
    account: item.account,
    region: item.region,
    detail: { logGroupName: item.name, runId: item.runId },
  };
}

const MAX_ID = 128;

/** The event's region and account, checked against each other and against where the guard runs. */
export function eventOriginOf(
  event: Record<string, unknown>,
  detail: Record<string, unknown>,
  home: Home,
): { region: string; account: string } | { reason: string } {
  const region = firstString(detail.awsRegion, event.region);
  if (!region || !isRegion(region)) return { reason: `region ${describe(region)} is not an AWS region` };
  if (
    typeof event.region === 'string' &&
    typeof detail.awsRegion === 'string' &&
    event.region !== detail.awsRegion
  ) {
    return {
      reason: `region ${describe(event.region)} and detail.awsRegion ${describe(detail.awsRegion)} disagree`,
    };
  }
  if (home.region !== undefined && region !== home.region) {
    return { reason: `event is for region ${region}, this guard serves ${home.region}` };
  }
  const account = firstString(detail.recipientAccountId, event.account);
  if (!account || !isAccountId(account))
    return { reason: `account ${describe(account)} is not an AWS account id` };
  if (
    typeof event.account === 'string' &&
    typeof detail.recipientAccountId === 'string' &&
    event.account !== detail.recipientAccountId
  ) {
    return { reason: 'account and detail.recipientAccountId disagree' };
  }
  if (home.account !== undefined && account !== home.account) {
    return { reason: `event is for account ${account}, this guard serves ${home.account}` };
  }
  return { region, account };
}

/** Validates an event and extracts the request, or says precisely why it is not one to act on. */
export function parseCreateLogGroupEvent(event: unknown, home: Home): ParsedEvent {
  const reject = (reason: string, name?: unknown): ParsedEvent => ({
    kind: 'rejected',
    eventId: idOf(event),
    name: typeof name === 'string' ? clip(name) : undefined,
    reason,
  });
  if (!isObject(event)) return reject('event is not a JSON object');
  if (event.source === SWEEP_SOURCE && event['detail-type'] === SWEEP_DETAIL_TYPE)
    return parseWorkItem(event, home);
  if (event.source !== 'aws.logs') return reject(`source is ${describe(event.source)}, not "aws.logs"`);
  if (event['detail-type'] !== 'AWS API Call via CloudTrail') {
    return reject(`detail-type is ${describe(event['detail-type'])}, not "AWS API Call via CloudTrail"`);
  }
  const detail = event.detail;
  if (!isObject(detail)) return reject('detail is missing or not an object');
  if (detail.eventSource !== 'logs.amazonaws.com') {
    return reject(`detail.eventSource is ${describe(detail.eventSource)}, not "logs.amazonaws.com"`);
  }
  if (detail.eventName !== 'CreateLogGroup') {
    return reject(`detail.eventName is ${describe(detail.eventName)}, not "CreateLogGroup"`);
  }
  const params = detail.requestParameters;
  const rawName = isObject(params) ? params.logGroupName : undefined;
  if (detail.errorCode !== undefined && detail.errorCode !== null) {
    return {
      kind: 'failed-call',
      eventId: idOf(event),
      name: typeof rawName === 'string' ? clip(rawName) : undefined,
      reason: `the CreateLogGroup call failed (${describe(detail.errorCode)}): no group was created`,
    };
  }
  if (!isObject(params)) return reject('detail.requestParameters is missing or not an object');
  if (!isLogGroupName(rawName)) {
    return reject(
      `detail.requestParameters.logGroupName ${describe(rawName)} is not a log group name (1-512 of [.-_/#A-Za-z0-9])`,
      rawName,
    );
  }
  const where = eventOriginOf(event, detail, home);
  if ('reason' in where) return reject(where.reason, rawName);
  const { region, account } = where;
  const kmsKeyId = params.kmsKeyId;
  if (
    kmsKeyId !== undefined &&
    kmsKeyId !== null &&
    (typeof kmsKeyId !== 'string' || kmsKeyId.length > 2048)
  ) {
    return reject('detail.requestParameters.kmsKeyId is not a string', rawName);
  }
  const tags = params.tags;
  if (tags !== undefined && tags !== null && !isStringMap(tags)) {
    return reject('detail.requestParameters.tags is not a map of strings', rawName);
  }
  const eventId = idOf(event) ?? `${region}:${rawName}`;
  return {
    kind: 'create',
    eventId,
    name: rawName,
    region,
    account,
    ...(typeof kmsKeyId === 'string' && kmsKeyId.length > 0 ? { kmsKeyId } : {}),
    ...(isStringMap(tags) ? { tags } : {}),
  };
}

function parseWorkItem(event: Record<string, unknown>, home: Home): ParsedEvent {
  const detail = isObject(event.detail) ? event.detail : {};
  const name = detail.logGroupName;
  const reject = (reason: string): ParsedEvent => ({
    kind: 'rejected',
    eventId: idOf(event),
    name: typeof name === 'string' ? clip(name) : undefined,
    reason: `sweep work item: ${reason}`,
  });
  if (!isLogGroupName(name)) return reject(`logGroupName ${describe(name)} is not a log group name`);
  const { region, account } = event;
  if (typeof region !== 'string' || !isRegion(region))
    return reject(`region ${describe(region)} is not a region`);
  if (typeof account !== 'string' || !isAccountId(account))
    return reject(`account ${describe(account)} is invalid`);
  if (home.region !== undefined && region !== home.region)
    return reject(`region ${region} is not ${home.region}`);
  if (home.account !== undefined && account !== home.account)
    return reject(`account ${account} is not ${home.account}`);
  return { kind: 'create', eventId: idOf(event) ?? `${region}:${name}`, name, region, account };
}

/** True when the value looks like an SQS event (a `Records` list from `aws:sqs`). */
export function isSqsEvent(event: unknown): event is { Records: unknown[] } {
  return (
    isObject(event) &&
    Array.isArray(event.Records) &&
    event.Records.every((r) => isObject(r) && r.eventSource === 'aws:sqs')
  );
}

/** The event id for logs: the CloudTrail eventID when present, else the EventBridge id. */
export function idOf(event: unknown): string | undefined {
  if (!isObject(event)) return undefined;
  const detail = event.detail;
  const id = firstString(isObject(detail) ? detail.eventID : undefined, event.id);
  return id === undefined ? undefined : clip(id, MAX_ID);
}

export function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.length > 0);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** A short, log-safe rendering of an untrusted value. */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (value === null) return 'null';
  return `a ${Array.isArray(value) ? 'list' : typeof value}`;
}

export function clip(value: string, max = 600): string {
  return value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
}
