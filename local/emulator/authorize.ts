/**
 * IAM authorization of emulator requests (`EmulatorOptions.iam`): who is calling (access key → role, admin or
 * unknown), which checks each KMS and Logs operation needs (action, resource ARN, resource policy, condition
 * keys), the checks of a new key policy, and the KMS calls CloudWatch Logs makes with the caller's credentials.
 * Every decision is made by `evaluate` (iam.ts, i.e. iam-simulate) and recorded.
 */
import { isObject } from '../../functions/core/parse.ts';
import { fail } from './errors.ts';
import {
  type AuthorizationRecord,
  evaluate,
  type IamOptions,
  type IamPrincipal,
  IamValidationError,
} from './iam.ts';
import {
  type Ctx,
  encryptionContext,
  type Input,
  KEY_SPECS,
  keyArnOfCiphertext,
  trailingDaysWithoutUse,
} from './kms.ts';
import { keyUseByLogs } from './logs.ts';
import { logsServicePrincipal, parsePolicy, partitionOf } from './policy-eval.ts';
import { defaultPolicy, type KeyRecord, type Store } from './state.ts';

type Context = Record<string, string | string[]>;

/** One authorization question: what `evaluate` is asked for one action on one resource. */
export interface Check {
  action: string;
  resource: string;
  resourcePolicy?: unknown;
  context: Context;
  resourceInMessage?: string;
  /** See EvaluateInput.actionInMessage. */
  actionInMessage?: string;
  /** See EvaluateInput.authorizedResource. */
  authorizedResource?: string;
}

export interface AuthRequest {
  service: 'kms' | 'logs' | 'sqs' | 'lambda' | 'events' | 'config' | 'securityhub' | 'cloudtrail';
  operation: string;
  region: string;
  input: Input;
  at: number;
}

export type Caller =
  | { kind: 'admin'; accessKeyId: string }
  | { kind: 'principal'; accessKeyId: string; principal: IamPrincipal };

/** The KMS operations that act on one key named by `KeyId` (resource: the key ARN; resource policy: its key policy). */
const KEY_OPERATIONS = new Set([
  'DescribeKey',
  'GetKeyPolicy',
  'PutKeyPolicy',
  'EnableKeyRotation',
  'DisableKeyRotation',
  'GetKeyRotationStatus',
  'TagResource',
  'UntagResource',
  'ListResourceTags',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'GetKeyLastUsage',
  'CreateGrant',
  'Encrypt',
  'Decrypt',
  'GenerateDataKey',
]);

/** Operations whose request context carries kms:RequestAlias when KeyId is an alias (Service Authorization Reference, AWS KMS). */
const REQUEST_ALIAS_OPERATIONS = new Set(['DescribeKey', 'Encrypt', 'Decrypt', 'GenerateDataKey']);

/** Logs operations on one log group, by name (`logGroupName`, or `resourceIdentifier` for the KMS association). */
const LOG_GROUP_BY_NAME = new Set([
  'CreateLogGroup',
  'DeleteLogGroup',
  'AssociateKmsKey',
  'DisassociateKmsKey',
  'PutRetentionPolicy',
  'DeleteRetentionPolicy',
  'ListTagsLogGroup',
  'TagLogGroup',
  'UntagLogGroup',
]);
/** Logs operations on one log group, by `resourceArn`. */
const LOG_GROUP_BY_ARN = new Set(['TagResource', 'UntagResource', 'ListTagsForResource']);
const LOG_STREAM_OPERATIONS = new Set(['CreateLogStream', 'DeleteLogStream', 'DescribeLogStreams']);

const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const NEW_KEY_PLACEHOLDER = '00000000-0000-0000-0000-000000000000';
const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.';
const LOCKOUT = 'The new key policy will not allow you to update the key policy in the future.';

/** The IAM side of one emulator: its principals and admins, each request's checks, and the record of every decision. */
export class Authorizer {
  readonly records: AuthorizationRecord[] = [];
  private readonly principals: Map<string, IamPrincipal>;
  private readonly admins: Set<string>;
  private readonly lagMs: number;
  private readonly store: Store;
  /** The checks of the services modelled outside this file (SQS, Lambda), by service. */
  private readonly services: Partial<Record<AuthRequest['service'], (req: AuthRequest) => Check[]>>;

  constructor(
    store: Store,
    options: IamOptions,
    timeScale: number,
    services: Partial<Record<AuthRequest['service'], (req: AuthRequest) => Check[]>> = {},
  ) {
    this.store = store;
    this.services = services;
    this.principals = new Map(Object.entries(options.principals));
    this.admins = new Set(options.admins ?? []);
    this.lagMs = (options.authorizationLagMs ?? 300_000) / timeScale;
  }

  /** Registers or replaces the role behind an access key (a role's policies changed at run time). */
  setPrincipal(accessKeyId: string, principal: IamPrincipal): void {
    this.principals.set(accessKeyId, principal);
  }

  /** Forgets an access key: its requests are then UnrecognizedClientException. */
  removePrincipal(accessKeyId: string): void {
    this.principals.delete(accessKeyId);
  }

  /** The caller behind an access key; an unknown (or missing) key is rejected as AWS rejects a bad token. */
  identify(accessKeyId: string | undefined): Caller {
    if (accessKeyId !== undefined && this.admins.has(accessKeyId)) return { kind: 'admin', accessKeyId };
    const principal = accessKeyId === undefined ? undefined : this.principals.get(accessKeyId);
    if (accessKeyId === undefined || !principal) {
      return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    return { kind: 'principal', accessKeyId, principal };
  }

  /** Authorizes a principal's own request (before quotas, faults and the operation). */
  async authorizeCall(caller: Caller, req: AuthRequest): Promise<void> {
    if (caller.kind !== 'principal') return;
    const checks =
      req.service === 'kms'
        ? this.kmsChecks(req)
        : req.service === 'logs'
          ? this.logsChecks(req)
          : (this.services[req.service]?.(req) ?? []);
    for (const check of checks) await this.enforce(caller, req, check);
  }

  /**
   * What runs inside the operation before its own checks: the principals of a new key policy, the lockout
   * safety check for a principal, and the KMS calls Logs makes for the caller. Returns whether the lockout
   * check was made here (the handler then skips its root-only check).
   */
  async beforeOperation(caller: Caller, req: AuthRequest): Promise<boolean> {
    if (req.service === 'kms' && (req.operation === 'CreateKey' || req.operation === 'PutKeyPolicy')) {
      return this.checkNewKeyPolicy(caller, req);
    }
    if (req.service === 'logs' && caller.kind === 'principal') await this.authorizeForwarded(caller, req);
    return false;
  }

  /** Evaluates one check, records the decision, and raises AccessDeniedException unless allowed. */
  private async enforce(
    caller: Extract<Caller, { kind: 'principal' }>,
    req: AuthRequest,
    check: Check,
    forwardedBy?: 'logs',
  ): Promise<void> {
    const { decision, message } = await evaluate({
      principal: caller.principal,
      accessKeyId: caller.accessKeyId,
      account: this.store.account,
      ...check,
    });
    this.records.push({
      at: req.at,
      accessKeyId: caller.accessKeyId,
      principal: caller.principal.arn,
      operation: req.operation,
      action: check.action,
      resource: check.resource,
      ...(forwardedBy ? { forwardedBy } : {}),
      decision,
    });
    if (decision !== 'Allowed') fail('AccessDeniedException', message);
  }

  // --- KMS ---------------------------------------------------------------------------------------------

  /** The checks of a KMS operation; none when the key (or alias) does not exist, so NotFoundException stays. */
  private kmsChecks(req: AuthRequest): Check[] {
    const { operation, input, region } = req;
    if (operation === 'CreateKey') return this.createKeyChecks(req);
    if (operation === 'ListAliases') return [{ action: 'kms:ListAliases', resource: '*', context: {} }];
    if (operation === 'CreateAlias' || operation === 'UpdateAlias' || operation === 'DeleteAlias') {
      return this.aliasChecks(req);
    }
    if (!KEY_OPERATIONS.has(operation)) return [];
    const keyId =
      typeof input.KeyId === 'string'
        ? input.KeyId
        : operation === 'Decrypt'
          ? keyArnOfCiphertext(input.CiphertextBlob)
          : undefined;
    const key = keyId === undefined ? undefined : this.store.findKey(region, keyId);
    if (!key) return [];
    const context: Context = { ...this.keyContext(key, req.at), ...operationContext(operation, input) };
    if (operation === 'ScheduleKeyDeletion' || operation === 'DisableKey') {
      // Service Authorization Reference, AWS KMS: kms:TrailingDaysWithoutKeyUsage, on these two actions only.
      context['kms:TrailingDaysWithoutKeyUsage'] = String(trailingDaysWithoutUse(key, req.at));
    }
    if (REQUEST_ALIAS_OPERATIONS.has(operation) && keyId !== undefined && isAlias(keyId)) {
      context['kms:RequestAlias'] = keyId.slice(keyId.indexOf('alias/'));
    }
    return [this.keyCheck(`kms:${operation}`, key, context)];
  }

  /**
   * CreateKey: kms:CreateKey on `*` with the new key's properties; with Tags also kms:TagResource ("To use
   * the Tags parameter, kms:TagResource", KMS API reference, CreateKey), under the policy the key will have.
   */
  private createKeyChecks(req: AuthRequest): Check[] {
    const { input, region } = req;
    const keySpec = stringOr(input.KeySpec ?? input.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    const keyUsage = stringOr(input.KeyUsage, KEY_SPECS[keySpec]?.[0] ?? 'ENCRYPT_DECRYPT');
    const tags = requestTags(input.Tags);
    const checks: Check[] = [
      {
        action: 'kms:CreateKey',
        resource: '*',
        context: {
          ...tags,
          'kms:KeySpec': keySpec,
          'kms:KeyUsage': keyUsage,
          'kms:KeyOrigin': stringOr(input.Origin, 'AWS_KMS'),
          'kms:BypassPolicyLockoutSafetyCheck': String(input.BypassPolicyLockoutSafetyCheck === true),
        },
      },
    ];
    const policy = this.newKeyPolicy(req);
    if (Object.keys(tags).length > 0 && policy !== undefined) {
      checks.push({
        action: 'kms:TagResource',
        resource: this.store.keyArn(region, NEW_KEY_PLACEHOLDER),
        resourcePolicy: policy,
        context: tags,
        // AWS names no resource here: the key does not exist yet (as reported in LeanerCloud/CUDly#1670).
        resourceInMessage: '',
      });
    }
    return checks;
  }

  /**
   * Aliases ("Controlling access to aliases", KMS developer guide): CreateAlias needs kms:CreateAlias on the
   * alias (IAM only: an alias has no policy) and on the target key; UpdateAlias on the alias, the current key
   * and the new key; DeleteAlias on the alias and its key.
   */
  private aliasChecks(req: AuthRequest): Check[] {
    const { operation, input, region } = req;
    const name = input.AliasName;
    if (typeof name !== 'string' || !/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.startsWith('alias/aws/')) {
      return []; // the operation's own validation answers (NotAuthorizedException for alias/aws/)
    }
    const action = `kms:${operation}`;
    const aliasCheck: Check = { action, resource: this.store.aliasArn(region, name), context: {} };
    const current = this.store.kms(region).aliases.get(name);
    const currentKey = current ? this.store.kms(region).keys.get(current.keyId) : undefined;
    const target =
      typeof input.TargetKeyId === 'string' ? this.store.findKey(region, input.TargetKeyId) : undefined;
    const keys =
      operation === 'CreateAlias'
        ? [target]
        : operation === 'UpdateAlias'
          ? [currentKey, target]
          : [currentKey];
    if (keys.some((k) => k === undefined) || (operation !== 'CreateAlias' && !current)) return [];
    return [
      aliasCheck,
      ...(keys as KeyRecord[]).map((k) => this.keyCheck(action, k, this.keyContext(k, req.at))),
    ];
  }

  /** A check on a key: its ARN, its current key policy. */
  private keyCheck(action: string, key: KeyRecord, context: Context): Check {
    return { action, resource: key.arn, resourcePolicy: JSON.parse(key.policy), context };
  }

  /**
   * The key's condition keys (Service Authorization Reference, AWS KMS, resource type "key"): tags and aliases
   * as they were `authorizationLagMs` ago ("up to five minutes" for a tag or alias change to affect
   * authorization: KMS developer guide, "ABAC for AWS KMS"), spec and usage (never change).
   */
  private keyContext(key: KeyRecord, now: number): Context {
    const { tags, aliases } = this.store.attributesForAuthorization(key, now, this.lagMs);
    const context: Context = { 'kms:KeySpec': key.keySpec, 'kms:KeyUsage': key.keyUsage };
    for (const [k, v] of Object.entries(tags)) context[`aws:ResourceTag/${k}`] = v;
    if (aliases.length > 0) context['kms:ResourceAliases'] = aliases;
    return context;
  }

  /**
   * CreateKey / PutKeyPolicy with IAM: every AWS principal must be an account (root ARN or 12 digits), `*`
   * or a registered role ("invalid principals", KMS API reference, PutKeyPolicy); for a principal caller the
   * lockout safety check asks whether that caller could still call PutKeyPolicy under the new policy
   * (KMS API reference, BypassPolicyLockoutSafetyCheck). Admins keep the handler's root check.
   */
  private async checkNewKeyPolicy(caller: Caller, req: AuthRequest): Promise<boolean> {
    const { input, region, operation } = req;
    // The default key policy of a CreateKey without Policy is not checked (the check is of "the key policy
    // that you specify", KMS API reference, CreateKey).
    if (operation === 'CreateKey' && input.Policy === undefined) return false;
    const policy = this.newKeyPolicy(req);
    if (policy === undefined) return false; // malformed or unknown key: the operation answers
    if (!this.principalsValid(policy)) fail('MalformedPolicyDocumentException', INVALID_PRINCIPALS);
    if (caller.kind !== 'principal') return false;
    if (input.BypassPolicyLockoutSafetyCheck === true) return true;
    const key = operation === 'PutKeyPolicy' ? this.store.findKey(region, String(input.KeyId)) : undefined;
    const { decision } = await this.evaluateNewPolicy(caller, {
      action: 'kms:PutKeyPolicy',
      resource: key?.arn ?? this.store.keyArn(region, NEW_KEY_PLACEHOLDER),
      resourcePolicy: policy,
      context: {
        ...(key ? this.keyContext(key, req.at) : {}),
        'kms:BypassPolicyLockoutSafetyCheck': 'false',
      },
    });
    if (decision !== 'Allowed') fail('MalformedPolicyDocumentException', LOCKOUT);
    return true;
  }

  /** The policy document a CreateKey / PutKeyPolicy would set, parsed; undefined where the operation fails first. */
  private newKeyPolicy(req: AuthRequest): Record<string, unknown> | undefined {
    const { input, region, operation } = req;
    if (operation === 'PutKeyPolicy') {
      const name = input.PolicyName ?? 'default';
      if (name !== 'default' || typeof input.KeyId !== 'string' || !this.store.findKey(region, input.KeyId)) {
        return undefined;
      }
    }
    const text = input.Policy === undefined && operation === 'CreateKey' ? undefined : String(input.Policy);
    if (text === undefined) return JSON.parse(defaultPolicy(this.store.account, partitionOf(region)));
    const parsed = parsePolicy(text);
    return 'error' in parsed ? undefined : parsed.policy;
  }

  /** Evaluates against a policy a caller proposes: a policy iam-simulate rejects is a malformed document. */
  private async evaluateNewPolicy(caller: Extract<Caller, { kind: 'principal' }>, check: Check) {
    try {
      return await evaluate({
        principal: caller.principal,
        accessKeyId: caller.accessKeyId,
        account: this.store.account,
        ...check,
      });
    } catch (err) {
      if (err instanceof IamValidationError && err.errors.resourcePolicyErrors) {
        return fail('MalformedPolicyDocumentException', err.message);
      }
      throw err;
    }
  }

  /** Whether every AWS principal (Principal and NotPrincipal) is `*`, an account or a registered role. */
  private principalsValid(policy: Record<string, unknown>): boolean {
    const roles = new Set([...this.principals.values()].map((p) => p.arn));
    const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    const named = statements.flatMap((s: Record<string, unknown>) => [
      ...awsPrincipals(s?.Principal),
      ...awsPrincipals(s?.NotPrincipal),
    ]);
    return named.every(
      (p) => p === '*' || /^\d{12}$/.test(p) || /^arn:[^:]+:iam::\d{12}:root$/.test(p) || roles.has(p),
    );
  }

  // --- CloudWatch Logs -----------------------------------------------------------------------------------

  /**
   * The check of a Logs operation. A log group's resource is `log-group:<name>:log-stream:`, as AWS's own
   * denials print it (elastic/apm-aws-lambda#526 for CreateLogGroup), which iam-simulate types as the
   * Service Authorization Reference's `log-group` (arn:…:log-group:${LogGroupName}); that is why policies
   * naming `log-group:<name>:*` match. DescribeLogGroups has no resource type there (`*`), while AWS's denial
   * names `log-group::log-stream:` (FormidableLabs/terraform-aws-serverless#49).
   */
  private logsChecks(req: AuthRequest): Check[] {
    const { operation, input, region } = req;
    const action = `logs:${operation}`;
    if (operation === 'DescribeLogGroups') {
      // AWS authorizes it on that ARN: a policy on `log-group:*` allows it (the common, documented form).
      const resource = this.logGroupResource(region, '');
      return [
        { action, resource: '*', context: {}, resourceInMessage: resource, authorizedResource: resource },
      ];
    }
    if (LOG_STREAM_OPERATIONS.has(operation)) {
      // The Service Authorization Reference types Create/DeleteLogStream as `log-stream`
      // (arn:…:log-group:<group>:log-stream:<stream>) and DescribeLogStreams as `log-group`.
      const group = this.groupName(region, input.logGroupName);
      if (group === undefined) return [];
      const stream = operation === 'DescribeLogStreams' ? '' : String(input.logStreamName ?? '');
      return [{ action, resource: `${this.logGroupResource(region, group)}${stream}`, context: {} }];
    }
    const name = LOG_GROUP_BY_NAME.has(operation)
      ? this.groupName(region, input.logGroupName ?? input.resourceIdentifier)
      : LOG_GROUP_BY_ARN.has(operation)
        ? this.groupName(region, input.resourceArn, true)
        : undefined;
    if (name === undefined) return []; // unknown operation or a name the operation rejects itself
    return [
      {
        action,
        resource: this.logGroupResource(region, name),
        context: logsRequestContext(operation, input),
      },
    ];
  }

  /** A log group name from a name or a log group ARN of this region and account; undefined if neither. */
  private groupName(region: string, value: unknown, arnOnly = false): string | undefined {
    if (typeof value !== 'string') return undefined;
    const prefix = `arn:${partitionOf(region)}:logs:${region}:${this.store.account}:log-group:`;
    const name = value.startsWith(prefix) ? value.slice(prefix.length) : arnOnly ? undefined : value;
    return name !== undefined && LOG_GROUP_NAME.test(name) ? name : undefined;
  }

  private logGroupResource(region: string, name: string): string {
    return `arn:${partitionOf(region)}:logs:${region}:${this.store.account}:log-group:${name}:log-stream:`;
  }

  /**
   * AssociateKmsKey and CreateLogGroup with kmsKeyId: CloudWatch Logs calls KMS with the caller's credentials
   * ("CloudWatch Logs now supports kms:ViaService which allows logs to make AWS KMS calls on your behalf. You
   * should add this to your roles which call CloudWatch Logs in either your Key Policy or in IAM.": CloudWatch
   * Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"; aws-samples/aws-secure-environment-
   * accelerator#1293), under the key policy version Logs sees, after its own checks of the key and before the
   * key-policy admission of the Logs service principal. The first denial is the caller's AccessDeniedException.
   */
  private async authorizeForwarded(caller: Extract<Caller, { kind: 'principal' }>, req: AuthRequest) {
    const ctx: Ctx = { store: this.store, region: req.region, now: req.at };
    let use: ReturnType<typeof keyUseByLogs>;
    try {
      use = keyUseByLogs(ctx, req.operation, req.input);
    } catch {
      return; // the operation fails the same way on its own
    }
    if (!use) return;
    const via = {
      'kms:ViaService': logsServicePrincipal(req.region),
      'aws:CalledVia': ['logs.amazonaws.com'],
    };
    const crypto: Context = {
      ...via,
      'aws:CalledViaFirst': 'logs.amazonaws.com',
      'aws:CalledViaLast': 'logs.amazonaws.com',
      'kms:EncryptionContext:aws:logs:arn': use.groupArn,
      'kms:EncryptionContextKeys': ['aws:logs:arn'],
    };
    const resourcePolicy = JSON.parse(use.policySeen);
    const checks: Check[] = [
      { action: 'kms:DescribeKey', resource: use.keyArn, resourcePolicy, context: via },
      ...['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'].map((action) => ({
        action,
        resource: use.keyArn,
        resourcePolicy,
        context: crypto,
      })),
    ];
    for (const check of checks) await this.enforce(caller, req, check, 'logs');
  }
}

/** The condition keys a KMS key operation's own parameters set (Service Authorization Reference, AWS KMS). */
function operationContext(operation: string, input: Input): Context {
  switch (operation) {
    case 'PutKeyPolicy':
      return { 'kms:BypassPolicyLockoutSafetyCheck': String(input.BypassPolicyLockoutSafetyCheck === true) };
    case 'TagResource':
      return requestTags(input.Tags);
    case 'UntagResource':
      return Array.isArray(input.TagKeys) ? { 'aws:TagKeys': input.TagKeys.map(String) } : {};
    case 'ScheduleKeyDeletion':
      return input.PendingWindowInDays === undefined
        ? {}
        : { 'kms:ScheduleKeyDeletionPendingWindowInDays': String(input.PendingWindowInDays) };
    case 'Encrypt':
    case 'Decrypt':
    case 'GenerateDataKey':
      return encryptionContextKeys(input);
    case 'CreateGrant':
      return {
        ...(typeof input.GranteePrincipal === 'string'
          ? { 'kms:GranteePrincipal': input.GranteePrincipal }
          : {}),
        ...(Array.isArray(input.Operations) ? { 'kms:GrantOperations': input.Operations.map(String) } : {}),
      };
    default:
      return {};
  }
}

/** kms:EncryptionContext:<k> and kms:EncryptionContextKeys for a request with an EncryptionContext. */
function encryptionContextKeys(input: Input): Context {
  const pairs = encryptionContext(input);
  const keys = Object.keys(pairs);
  if (keys.length === 0) return {};
  const context: Context = { 'kms:EncryptionContextKeys': keys };
  for (const [k, v] of Object.entries(pairs)) context[`kms:EncryptionContext:${k}`] = v;
  return context;
}

/** aws:RequestTag/<k> and aws:TagKeys from KMS's `[{TagKey, TagValue}]`. */
function requestTags(value: unknown): Context {
  if (!Array.isArray(value)) return {};
  const context: Context = {};
  const keys: string[] = [];
  for (const tag of value as { TagKey?: unknown; TagValue?: unknown }[]) {
    if (typeof tag?.TagKey !== 'string' || typeof tag.TagValue !== 'string') continue;
    context[`aws:RequestTag/${tag.TagKey}`] = tag.TagValue;
    keys.push(tag.TagKey);
  }
  return keys.length > 0 ? { ...context, 'aws:TagKeys': keys } : {};
}

/** The tag keys of a Logs request (Service Authorization Reference, CloudWatch Logs). */
function logsRequestContext(operation: string, input: Input): Context {
  const tagMap = input.tags;
  if (['CreateLogGroup', 'TagLogGroup', 'TagResource'].includes(operation) && isObject(tagMap)) {
    const context: Context = {};
    for (const [k, v] of Object.entries(tagMap)) context[`aws:RequestTag/${k}`] = String(v);
    const keys = Object.keys(tagMap);
    return keys.length > 0 ? { ...context, 'aws:TagKeys': keys } : {};
  }
  const removed =
    operation === 'UntagLogGroup' ? input.tags : operation === 'UntagResource' ? input.tagKeys : undefined;
  return Array.isArray(removed) && removed.length > 0 ? { 'aws:TagKeys': removed.map(String) } : {};
}

/** The AWS principals a Principal / NotPrincipal element names (`"*"` counts as `*`). */
function awsPrincipals(element: unknown): string[] {
  if (element === undefined) return [];
  if (typeof element === 'string') return [element];
  if (!isObject(element) || element.AWS === undefined) return [];
  const aws = element.AWS;
  return (Array.isArray(aws) ? aws : [aws]).map(String);
}

function isAlias(id: string): boolean {
  return id.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(id);
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
