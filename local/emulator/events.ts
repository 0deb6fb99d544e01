/**
 * CloudTrail "AWS API Call via CloudTrail" events as EventBridge delivers them (the shapes of test/events/*.json)
 * for the calls the emulator records: CloudWatch Logs CreateLogGroup and DisassociateKmsKey, and the KMS calls
 * that change a key's policy, state, rotation or aliases (TRAILED); with best-effort delivery: delay, duplicates
 * and loss. The CreateLogGroup event the tests and the benchmark send the enforce function is built here too. Record shapes: KMS developer guide, "Logging AWS KMS API calls with AWS CloudTrail" (one example per
 * operation, ct-*.md in awsdocs/aws-kms-developer-guide); CloudWatch Logs: the captured samples in test/events.
 */
import { randomUUID } from 'node:crypto';
import { EMULATOR_USER_ID, type IamPrincipal, parseRoleArn, roleIdOf, sessionArn } from './iam.ts';
import { Listeners } from './listeners.ts';
import type { Random } from './random.ts';
import type { Store } from './state.ts';

export interface EventOptions {
  delayMs?: number;
  duplicateRate?: number;
  lossRate?: number;
}

/** One entry of a KMS record's `resources` (KMS developer guide, e.g. the PutKeyPolicy example). */
export interface TrailResource {
  accountId: string;
  type: 'AWS::KMS::Key';
  ARN: string;
}

/** One recorded call, as `cloudTrailEvent` turns it into an event. */
export interface TrailCall {
  service: 'kms' | 'logs';
  operation: string;
  region: string;
  account: string;
  at: number;
  requestId: string;
  userIdentity: Record<string, unknown>;
  userAgent: string;
  sourceIp: string;
  requestParameters: Record<string, unknown>;
  /** null for a failed call and for the operations whose record has none. */
  responseElements: Record<string, unknown> | null;
  /** KMS records only (CloudWatch Logs records carry none). */
  resources?: TrailResource[];
  error?: { code: string; message: string };
  /** A console session's call: the record says `sessionCredentialFromConsole: "true"`. */
  consoleSession?: boolean;
}

/**
 * The operations recorded, with the request fields CloudTrail keeps (as sent, camelCase: `KeyId` → `keyId`).
 * Fields not sent are left out: the record holds what the request held.
 */
export const TRAILED: Record<'kms' | 'logs', Record<string, readonly string[]>> = {
  logs: {
    CreateLogGroup: ['logGroupName', 'kmsKeyId', 'tags', 'logGroupClass'],
    DisassociateKmsKey: ['logGroupName', 'resourceIdentifier'],
    // In the event history (LookupEvents) only: no rule of the guard subscribes to them (serverless.yml).
    AssociateKmsKey: ['logGroupName', 'resourceIdentifier', 'kmsKeyId'],
    DeleteLogGroup: ['logGroupName'],
  },
  kms: {
    PutKeyPolicy: ['KeyId', 'PolicyName', 'Policy', 'BypassPolicyLockoutSafetyCheck'],
    EnableKeyRotation: ['KeyId', 'RotationPeriodInDays'],
    DisableKeyRotation: ['KeyId'],
    ScheduleKeyDeletion: ['KeyId', 'PendingWindowInDays'],
    CancelKeyDeletion: ['KeyId'],
    DisableKey: ['KeyId'],
    EnableKey: ['KeyId'],
    CreateAlias: ['AliasName', 'TargetKeyId'],
    UpdateAlias: ['AliasName', 'TargetKeyId'],
    DeleteAlias: ['AliasName'],
  },
};

/** The record's requestParameters, or undefined when the operation is not recorded. */
export function requestParametersOf(
  service: string,
  operation: string,
  input: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const fields = service === 'kms' || service === 'logs' ? TRAILED[service][operation] : undefined;
  if (!fields) return undefined;
  const parameters: Record<string, unknown> = {};
  for (const field of fields) {
    if (input[field] !== undefined) parameters[`${field[0]?.toLowerCase()}${field.slice(1)}`] = input[field];
  }
  return parameters;
}

/** CloudTrail times have second precision: `2026-11-22T08:03:11Z`. */
const trailTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/**
 * A date inside requestParameters / responseElements as CloudTrail writes it, in UTC: `Apr 12, 2021 6:58:30 PM`
 * (Java's `MMM d, yyyy h:mm:ss a`). KMS developer guide, ScheduleKeyDeletion: `"deletionDate": "Apr 12, 2021
 * 18:58:30 PM"` for an eventTime of 18:58:30Z (same clock time, so UTC; the 24-hour "18" beside "PM" is an edit
 * of the example); MediaStore developer guide, CloudTrail example: `"creationTime": "Jul 9, 2018 12:56:54 PM"`
 * for an eventTime of 12:56:54Z (unpadded day, 12-hour clock).
 */
export function trailDate(ms: number): string {
  const d = new Date(ms);
  const hours = d.getUTCHours();
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${hours % 12 || 12}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/**
 * The caller as CloudTrail names it. A registered principal (with `iam`) is its role's session: `AssumedRole`
 * with the session ARN and the role as `sessionContext.sessionIssuer` (the shape of the AssumedRole samples in
 * test/events; CloudTrail User Guide, "CloudTrail userIdentity element"); the session's `creationDate` is the
 * call's time (the emulator does not model sessions). Anyone else (no `iam`, admins, unknown keys) is the
 * emulator's IAM user, as before.
 */
export function userIdentityOf(
  account: string,
  accessKeyId: string,
  at: number,
  principal?: IamPrincipal,
): Record<string, unknown> {
  if (!principal) {
    return {
      type: 'IAMUser',
      principalId: EMULATOR_USER_ID,
      arn: `arn:aws:iam::${account}:user/local-emulator`,
      accountId: account,
      accessKeyId,
      userName: 'local-emulator',
    };
  }
  const { account: roleAccount, roleName } = parseRoleArn(principal.arn);
  const roleId = roleIdOf(principal.arn);
  return {
    type: 'AssumedRole',
    principalId: `${roleId}:${accessKeyId}`,
    arn: sessionArn(principal.arn, accessKeyId),
    accountId: roleAccount,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: roleId,
        arn: principal.arn,
        accountId: roleAccount,
        userName: roleName,
      },
      attributes: { creationDate: trailTime(at), mfaAuthenticated: 'false' },
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_ARN = /^arn:[^:]+:kms:[^:]*:[^:]*:key\/.+$/;

/** The key ARN a KeyId names: the key's own, or the ARN the id spells (a key that does not exist). */
function keyArnOf(store: Store, region: string, id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const key = store.findKey(region, id);
  if (key) return key.arn;
  if (KEY_ARN.test(id)) return id;
  return UUID.test(id) ? store.keyArn(region, id) : undefined;
}

/**
 * The key an alias named until a DeleteAlias that just succeeded (the handler recorded the key's aliases with the
 * call's time, synchronously before this runs).
 */
function keyThatLostAlias(store: Store, region: string, alias: string, at: number): string | undefined {
  for (const key of store.kms(region).keys.values()) {
    const [before, after] = key.attributeHistory.slice(-2);
    if (after?.at === at && !after.aliases.includes(alias) && before?.aliases.includes(alias)) return key.arn;
  }
  return undefined;
}

/**
 * responseElements and resources of a KMS record, from the store right after the call (KMS developer guide,
 * "Logging AWS KMS API calls with AWS CloudTrail"): ScheduleKeyDeletion `{keyId: <key ARN>, keyState,
 * deletionDate}`, CancelKeyDeletion `{keyId: <key ARN>}`, the other operations null; `resources` the key
 * (`{accountId, type: "AWS::KMS::Key", ARN}`), and for the alias operations the alias too, in the examples'
 * order: CreateAlias key then alias, UpdateAlias alias then the new target key, DeleteAlias alias then its key.
 * A KeyId that names no key (a failed call) gives the ARN it spells, or no entry when it spells none (our choice).
 */
export function kmsTrailDetails(
  store: Store,
  region: string,
  operation: string,
  input: Record<string, unknown>,
  applied: boolean,
  at: number,
): { responseElements: Record<string, unknown> | null; resources: TrailResource[] } {
  const resource = (arn: string | undefined): TrailResource[] =>
    arn === undefined ? [] : [{ accountId: store.account, type: 'AWS::KMS::Key', ARN: arn }];
  const alias = typeof input.AliasName === 'string' ? input.AliasName : undefined;
  const aliasArn = alias === undefined ? undefined : store.aliasArn(region, alias);
  if (operation === 'CreateAlias') {
    return {
      responseElements: null,
      resources: [...resource(keyArnOf(store, region, input.TargetKeyId)), ...resource(aliasArn)],
    };
  }
  if (operation === 'UpdateAlias') {
    return {
      responseElements: null,
      resources: [...resource(aliasArn), ...resource(keyArnOf(store, region, input.TargetKeyId))],
    };
  }
  if (operation === 'DeleteAlias') {
    const keyArn =
      alias === undefined
        ? undefined
        : applied
          ? keyThatLostAlias(store, region, alias, at)
          : store.findKey(region, alias)?.arn;
    return { responseElements: null, resources: [...resource(aliasArn), ...resource(keyArn)] };
  }
  const keyArn = keyArnOf(store, region, input.KeyId);
  const key = applied && keyArn !== undefined ? store.findKey(region, keyArn) : undefined;
  let responseElements: Record<string, unknown> | null = null;
  if (key && operation === 'ScheduleKeyDeletion') {
    responseElements = {
      keyId: key.arn,
      keyState: key.state,
      ...(key.deletionDate !== undefined ? { deletionDate: trailDate(key.deletionDate) } : {}),
    };
  } else if (key && operation === 'CancelKeyDeletion') {
    responseElements = { keyId: key.arn };
  }
  return { responseElements, resources: resource(keyArn) };
}

/** The EventBridge event of one recorded call. */
export function cloudTrailEvent(call: TrailCall): Record<string, unknown> {
  const time = trailTime(call.at);
  const kms = call.service === 'kms';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: kms ? 'aws.kms' : 'aws.logs',
    account: call.account,
    time,
    region: call.region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: call.userIdentity,
      eventTime: time,
      eventSource: kms ? 'kms.amazonaws.com' : 'logs.amazonaws.com',
      eventName: call.operation,
      awsRegion: call.region,
      ...(call.error ? { errorCode: call.error.code, errorMessage: call.error.message } : {}),
      sourceIPAddress: call.sourceIp,
      userAgent: call.userAgent,
      requestParameters: call.requestParameters,
      responseElements: call.error ? null : call.responseElements,
      requestID: call.requestId,
      eventID: randomUUID(),
      readOnly: false,
      // KMS records carry the key (and alias) ARNs; CloudWatch Logs records carry the API version instead.
      ...(kms ? { resources: call.resources ?? [] } : {}),
      eventType: 'AwsApiCall',
      ...(kms ? {} : { apiVersion: '20140328' }),
      managementEvent: true,
      recipientAccountId: call.account,
      eventCategory: 'Management',
      ...(call.consoleSession ? { sessionCredentialFromConsole: 'true' } : {}),
    },
  };
}

/** Who made a call, as its record names the caller. */
export type TrailCaller = Pick<TrailCall, 'userIdentity' | 'userAgent' | 'sourceIp'>;

/**
 * The EventBridge event of a CreateLogGroup call that `caller` made at `at` in `where`'s account and region,
 * built as the emulator builds its own records: what the tests and the benchmark hand the enforce function
 * directly, without going through the emulator.
 */
export function createLogGroupEvent(
  where: { region: string; account: string },
  requestParameters: { logGroupName: string; kmsKeyId?: string; tags?: Record<string, string> },
  caller: TrailCaller,
  at = Date.now(),
): Record<string, unknown> {
  return cloudTrailEvent({
    service: 'logs',
    operation: 'CreateLogGroup',
    region: where.region,
    account: where.account,
    at,
    requestId: randomUUID(),
    ...caller,
    requestParameters,
    responseElements: null,
  });
}

/** Recorded calls kept in the event history (LookupEvents) but not delivered to the event listeners. */
export const HISTORY_ONLY = new Set(['AssociateKmsKey', 'DeleteLogGroup']);

/** The most events the history keeps. */
const HISTORY_MAX = 200_000;

/**
 * Delivers events to listeners after a delay; loses or duplicates some (seeded). Keeps every recorded event in
 * `history` as well (CloudTrail's event history, which LookupEvents reads: delivery through EventBridge is best
 * effort, the trail is not).
 */
export class EventBus {
  readonly history: Record<string, unknown>[] = [];
  private readonly listeners: Listeners<unknown>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly delayMs: number;
  private readonly duplicateRate: number;
  private readonly lossRate: number;
  private readonly random: Random;

  constructor(options: EventOptions, timeScale: number, random: Random, log: (line: string) => void) {
    this.delayMs = (options.delayMs ?? 0) / timeScale;
    this.duplicateRate = options.duplicateRate ?? 0;
    this.lossRate = options.lossRate ?? 0;
    this.random = random;
    this.listeners = new Listeners('event listener', log);
  }

  subscribe(listener: (event: unknown) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Keeps an event in the history without delivering it. */
  record(event: Record<string, unknown>): void {
    this.history.push(event);
    // Bounded, so that a long benchmark run does not grow without end (the oldest go first, as after 90 days).
    if (this.history.length > HISTORY_MAX) this.history.splice(0, this.history.length - HISTORY_MAX / 2);
  }

  publish(event: Record<string, unknown>): void {
    this.record(event);
    // Draw both numbers every time so that one rate does not shift the other's sequence.
    const lost = this.random() < this.lossRate;
    const duplicated = this.random() < this.duplicateRate;
    if (lost) return;
    this.schedule(event, this.delayMs);
    // A duplicate is the same event (same id) delivered again a little later, as EventBridge does.
    if (duplicated) this.schedule(event, this.delayMs + 1 + this.random() * Math.max(10, this.delayMs));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  private schedule(event: Record<string, unknown>, delay: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.listeners.notify(event, structuredClone);
    }, delay);
    this.timers.add(timer);
  }
}
