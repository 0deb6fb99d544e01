/**
 * Pure parsing of the events the guard's rules deliver: CloudTrail CreateLogGroup calls, the later changes
 * drift.ts handles (DisassociateKmsKey, key policy, rotation, deletion, aliases), and the sweep's own work
 * items and key checks. Each is validated against where the guard runs and said precisely why when refused.
 * No I/O.
 */
import { isAccountId, isRegion } from './arn.ts';
import { recogniseTool, type ToolSighting } from './iac.ts';
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

/** What happened to a group or a key after creation (issue: drift and tampering), from its CloudTrail event. */
export type ChangeKind =
  | 'key-check'
  | 'disassociated'
  | 'key-policy-changed'
  | 'rotation-disabled'
  | 'deletion-scheduled'
  | 'key-disabled'
  | 'alias-deleted'
  | 'alias-updated';

export interface ChangeRequest {
  kind: 'change';
  change: ChangeKind;
  eventId: string;
  region: string;
  account: string;
  /** `disassociated`: the group. */
  name?: string;
  /** KMS changes: the key as the caller named it (key id or key ARN); aliases: the target, if any. */
  keyId?: string;
  aliasName?: string;
  /** `deletion-scheduled`: when the key and every log it protects become unreadable (CloudTrail's text). */
  deletionDate?: string;
  pendingWindowInDays?: number;
  /** The role that made the call (userIdentity.sessionContext.sessionIssuer.arn), when CloudTrail names one. */
  callerRole?: string;
  /** `disassociated`: the tool that made the call (iac.ts), from the record's userAgent and userIdentity. */
  tool?: ToolSighting;
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

export const KEY_CHECK_DETAIL_TYPE = 'Guard Key Check';

/** The sweep's request, once per run, that the enforce function verify the guard key (state, policy, rotation). */
export function sweepKeyCheck(item: { region: string; account: string; runId: string }) {
  return {
    source: SWEEP_SOURCE,
    'detail-type': KEY_CHECK_DETAIL_TYPE,
    id: `${item.runId}:key-check`,
    account: item.account,
    region: item.region,
    detail: { runId: item.runId },
  };
}

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

const KMS_CHANGES: Record<string, ChangeKind> = {
  PutKeyPolicy: 'key-policy-changed',
  DisableKeyRotation: 'rotation-disabled',
  ScheduleKeyDeletion: 'deletion-scheduled',
  DisableKey: 'key-disabled',
  DeleteAlias: 'alias-deleted',
  UpdateAlias: 'alias-updated',
};

/** Validates any event the guard's rules deliver (creation, later changes, sweep work items); pure. */
export function parseGuardEvent(event: unknown, home: Home): ParsedEvent {
  if (isObject(event) && event.source === SWEEP_SOURCE && event['detail-type'] === KEY_CHECK_DETAIL_TYPE) {
    const { region, account } = event;
    const reason =
      typeof region !== 'string' || !isRegion(region) || (home.region !== undefined && region !== home.region)
        ? `key check: region ${describe(region)} is not this guard's`
        : typeof account !== 'string' ||
            !isAccountId(account) ||
            (home.account !== undefined && account !== home.account)
          ? `key check: account ${describe(account)} is not this guard's`
          : undefined;
    if (reason) return { kind: 'rejected', eventId: idOf(event), name: undefined, reason };
    return {
      kind: 'change',
      change: 'key-check',
      eventId: idOf(event) ?? `${region}:key-check`,
      region: region as string,
      account: account as string,
    };
  }
  if (isObject(event) && isObject(event.detail) && event['detail-type'] === 'AWS API Call via CloudTrail') {
    const name = event.detail.eventName;
    if (event.source === 'aws.logs' && name === 'DisassociateKmsKey') return parseChange(event, home);
    if (event.source === 'aws.kms' && typeof name === 'string' && name in KMS_CHANGES) {
      return parseChange(event, home);
    }
  }
  return parseCreateLogGroupEvent(event, home);
}

const KEY_ID = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/)?(mrk-)?[a-zA-Z0-9-]{1,128}$/;
const ALIAS = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias\/[a-zA-Z0-9/_-]{1,250}$/;

function parseChange(event: Record<string, unknown>, home: Home): ParsedEvent {
  const detail = event.detail as Record<string, unknown>;
  const eventName = String(detail.eventName);
  const isLogs = eventName === 'DisassociateKmsKey';
  const reject = (reason: string): ParsedEvent => ({
    kind: 'rejected',
    eventId: idOf(event),
    name: undefined,
    reason: `${eventName}: ${reason}`,
  });
  const expected = isLogs ? 'logs.amazonaws.com' : 'kms.amazonaws.com';
  if (detail.eventSource !== expected) {
    return reject(`detail.eventSource is ${describe(detail.eventSource)}, not "${expected}"`);
  }
  if (detail.errorCode !== undefined && detail.errorCode !== null) {
    return {
      kind: 'failed-call',
      eventId: idOf(event),
      name: undefined,
      reason: `the ${eventName} call failed (${describe(detail.errorCode)}): nothing changed`,
    };
  }
  const where = eventOriginOf(event, detail, home);
  if ('reason' in where) return reject(where.reason);
  const params = detail.requestParameters;
  if (!isObject(params)) return reject('detail.requestParameters is missing or not an object');
  const base = {
    kind: 'change' as const,
    eventId: idOf(event) ?? `${where.region}:${eventName}`,
    region: where.region,
    account: where.account,
    ...callerOf(detail),
  };
  if (isLogs) {
    const raw = firstString(params.logGroupName, params.resourceIdentifier);
    const prefix = `:logs:${where.region}:${where.account}:log-group:`;
    const name =
      raw?.startsWith('arn:') && raw.includes(prefix) ? raw.slice(raw.indexOf(prefix) + prefix.length) : raw;
    if (raw?.includes(':query-result:')) return reject('a query-result resource, not a log group');
    if (!isLogGroupName(name)) return reject(`the log group ${describe(raw)} is not a log group name`);
    return { ...base, change: 'disassociated', name, tool: recogniseTool(detail) };
  }
  const change = KMS_CHANGES[eventName] as ChangeKind;
  if (change === 'alias-deleted' || change === 'alias-updated') {
    const aliasName = params.aliasName;
    if (typeof aliasName !== 'string' || !ALIAS.test(aliasName)) {
      return reject(`detail.requestParameters.aliasName ${describe(aliasName)} is not an alias name`);
    }
    const target = params.targetKeyId;
    if (target !== undefined && (typeof target !== 'string' || !KEY_ID.test(target))) {
      return reject(`detail.requestParameters.targetKeyId ${describe(target)} is not a key id`);
    }
    return {
      ...base,
      change,
      aliasName: aliasName.slice(aliasName.indexOf('alias/')),
      ...(typeof target === 'string' ? { keyId: target } : {}),
    };
  }
  const keyId = params.keyId;
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    return reject(`detail.requestParameters.keyId ${describe(keyId)} is not a key id or key ARN`);
  }
  if (keyId.startsWith('arn:') && !keyId.includes(`:kms:${where.region}:${where.account}:key/`)) {
    return reject(`key ${describe(keyId)} is not a key of ${where.account} in ${where.region}`);
  }
  const response = isObject(detail.responseElements) ? detail.responseElements : {};
  const window = Number(params.pendingWindowInDays ?? response.pendingWindowInDays);
  const deletionDate = response.deletionDate;
  return {
    ...base,
    change,
    keyId,
    ...(change === 'deletion-scheduled' && typeof deletionDate === 'string'
      ? { deletionDate: clip(deletionDate, 64) }
      : {}),
    ...(change === 'deletion-scheduled' && Number.isInteger(window) && window >= 7 && window <= 30
      ? { pendingWindowInDays: window }
      : {}),
  };
}

/** The role behind the call, from CloudTrail's userIdentity (AssumedRole sessions). */
function callerOf(detail: Record<string, unknown>): { callerRole?: string } {
  const identity = isObject(detail.userIdentity) ? detail.userIdentity : {};
  const session = isObject(identity.sessionContext) ? identity.sessionContext : {};
  const issuer = isObject(session.sessionIssuer) ? session.sessionIssuer : {};
  return typeof issuer.arn === 'string' && issuer.arn.length < 2048 ? { callerRole: issuer.arn } : {};
}

/** The event's region and account, checked against each other and against where the guard runs. */
function eventOriginOf(
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
function idOf(event: unknown): string | undefined {
  if (!isObject(event)) return undefined;
  const detail = event.detail;
  const id = firstString(isObject(detail) ? detail.eventID : undefined, event.id);
  return id === undefined ? undefined : clip(id, MAX_ID);
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.length > 0);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** A short, log-safe rendering of an untrusted value. */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (value === null) return 'null';
  return `a ${Array.isArray(value) ? 'list' : typeof value}`;
}

function clip(value: string, max = 600): string {
  return value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
}
