/**
 * Pure parsing of the events the changes function receives: the later changes drift.ts handles, from their
 * CloudTrail events (DisassociateKmsKey, key policy, rotation, deletion, aliases), and the guard key checks (the
 * schedule's, every 15 minutes). Validated against where the guard runs, like event.ts does for new groups,
 * with whose helpers. No I/O.
 */
import { isAccountId, isRegion } from './arn.ts';
import {
  clip,
  describe,
  eventOriginOf,
  firstString,
  type Home,
  idOf,
  type ParsedEvent,
  parseCreateLogGroupEvent,
  SWEEP_SOURCE,
} from './event.ts';
import { recogniseTool, type ToolSighting } from './iac.ts';
import { isObject } from './parse.ts';
import { isLogGroupName } from './scope.ts';

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

/** The `source` of the key checks the template's schedule sends (KeyCheckScheduleRule) to the changes queue. */
export const SCHEDULE_SOURCE = 'logs-kms-guard.schedule';
export const KEY_CHECK_DETAIL_TYPE = 'Guard Key Check';

/**
 * A guard key check as the template's schedule sends it to the changes queue (KeyCheckScheduleRule's input
 * transformer; `id`: the scheduled event's own id, so each check is handled once). Local runs and tests send it too.
 */
export function keyCheckItem(item: { region: string; account: string; id: string }) {
  return {
    source: SCHEDULE_SOURCE,
    'detail-type': KEY_CHECK_DETAIL_TYPE,
    id: item.id,
    account: item.account,
    region: item.region,
    detail: {},
  };
}

const KMS_CHANGES: Record<string, ChangeKind> = {
  PutKeyPolicy: 'key-policy-changed',
  DisableKeyRotation: 'rotation-disabled',
  ScheduleKeyDeletion: 'deletion-scheduled',
  DisableKey: 'key-disabled',
  DeleteAlias: 'alias-deleted',
  UpdateAlias: 'alias-updated',
};

/** Validates any event the guard's rules deliver (later changes and key checks, else as a new group); pure. */
export function parseGuardEvent(event: unknown, home: Home): ParsedEvent {
  if (
    isObject(event) &&
    (event.source === SCHEDULE_SOURCE || event.source === SWEEP_SOURCE) &&
    event['detail-type'] === KEY_CHECK_DETAIL_TYPE
  ) {
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

/**
 * Validates an event of the changes function: a later change or a key check. A new group or a sweep work item is
 * the enforce function's (its own queue): refused here, saying so.
 */
export function parseChangeEvent(event: unknown, home: Home): ParsedEvent {
  const parsed = parseGuardEvent(event, home);
  if (parsed.kind !== 'create') return parsed;
  return {
    kind: 'rejected',
    eventId: parsed.eventId,
    name: parsed.name,
    reason: 'a new log group or a sweep work item: the enforce function handles these, from its own queue',
  };
}
