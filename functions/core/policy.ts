/** Pure key-policy logic: build, merge and check. No I/O. */
import { dnsSuffixOf, logGroupArnPattern, logsPrincipal, type Partition, rootArn } from './arn.ts';
import { PROTECTION_NAMES, protectionStatements } from './key-protection.ts';
import { isObject } from './parse.ts';

export const LOGS_STATEMENT_SID = 'AllowCloudWatchLogs';
export const ROOT_STATEMENT_SID = 'EnableRootAccountAdministration';
/** The guard's roles may manage this key (policy merge, rotation, the creation-race alias): this key only. */
export const GUARD_ADMIN_SID = 'LogsKmsGuardManageThisKey';
/** The guard's roles may tag this key `ManagedBy=logs-kms-guard`, and no other tag. */
export const GUARD_TAG_SID = 'LogsKmsGuardTagThisKey';
/** What CloudWatch Logs does with the caller's credentials when the guard associates this key (2025). */
export const GUARD_VIA_LOGS_SID = 'LogsKmsGuardUseThroughCloudWatchLogs';
/**
 * Written at CreateKey and removed by the alias winner: while present, the guard's roles may schedule
 * deletion of this key (a race loser retires its own unused key). A key behind the alias never keeps it.
 */
export const GUARD_RETIRE_SID = 'LogsKmsGuardRetireIfUnused';
/** The Sids the guard writes for its roles; `mergeKeyPolicy` owns these and no others. */
const GUARD_ROLE_SIDS = [GUARD_ADMIN_SID, GUARD_TAG_SID, GUARD_VIA_LOGS_SID] as const;
/** Key-management actions the guard's roles hold on their own key (and only there). */
export const GUARD_ADMIN_ACTIONS = ['kms:PutKeyPolicy', 'kms:EnableKeyRotation', 'kms:CreateAlias'] as const;
/** With RESTORE_GUARD_KEY only: undo a deletion or disabling of the guard key, on that key alone. */
export const GUARD_RESTORE_ACTIONS = ['kms:CancelKeyDeletion', 'kms:EnableKey'] as const;
/**
 * What CloudWatch Logs calls with the caller's credentials on AssociateKmsKey (AWS CloudWatch Logs guide,
 * encrypt-log-data-kms: "CloudWatch Logs now supports kms:ViaService ... You should add this to your roles
 * which call CloudWatch Logs"; the fix of awslabs/landing-zone-accelerator-on-aws #768). DescribeKey comes
 * from the function's IAM read grant.
 */
export const VIA_LOGS_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
] as const;
export const LOGS_ACTIONS = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:Describe*',
] as const;
/** The concrete operations CloudWatch Logs performs with the key; each must be allowed. */
const LOGS_OPERATIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:DescribeKey',
];
const CONTEXT_KEY = 'kms:EncryptionContext:aws:logs:arn';

export interface PolicyContext {
  partition: Partition;
  region: string;
  account: string;
  /**
   * The IAM roles of the guard's functions (GUARD_ROLE_ARN). A key the guard creates names them in its
   * policy: that, not IAM on every key, is the guard's authority over its own key.
   */
  guardRoles?: readonly string[];
  /** RESTORE_GUARD_KEY: the guard roles may also cancel the deletion of this key and enable it again. */
  restoreGuardKey?: boolean;
  /** ENCRYPT_QUERY_RESULTS: the key also encrypts the account's CloudWatch Logs Insights query results. */
  encryptQueryResults?: boolean;
  /** MessageKmsKey=guard: the key also encrypts the stack's queues and alarm topic (messageStatements). */
  messages?: MessageResources;
  /**
   * BREAK_GLASS_ROLE_ARNS: the key is protected (key-protection.ts): only these roles may delete or disable it,
   * only they and the guard's roles may change its policy. Unset: no protection is written.
   */
  breakGlassRoles?: readonly string[];
}

/** What the guard key admits with MessageKmsKey=guard (MESSAGE_KEY_*): exactly the stack's own resources. */
export interface MessageResources {
  /** The stack's queues: SQS's encryption context `aws:sqs:arn` is the queue's ARN. */
  queueArns: readonly string[];
  /** The EventBridge rules that send to them (and to their DLQ). */
  ruleArns: readonly string[];
  /** The stack's alarms, which publish to the topic: `arn:…:alarm:<stack name>-*` (their names are generated). */
  alarmArnPattern: string;
}

export type Statement = Record<string, unknown>;
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement[];
  [key: string]: unknown;
}

/** The statement that lets CloudWatch Logs of this region and account use the key. */
export function logsStatement(ctx: PolicyContext): Statement {
  return {
    Sid: LOGS_STATEMENT_SID,
    Effect: 'Allow',
    Principal: { Service: logsPrincipal(ctx.region) },
    Action: [...LOGS_ACTIONS],
    Resource: '*',
    Condition: {
      ArnLike: { [CONTEXT_KEY]: logGroupArnPattern(ctx.partition, ctx.region, ctx.account) },
    },
  };
}

export const QUERY_RESULTS_STATEMENT_SID = 'AllowCloudWatchLogsQueryResults';

/** The ARN AssociateKmsKey takes for the account's Insights query results (AssociateKmsKey API reference). */
export function queryResultsArn(ctx: Pick<PolicyContext, 'partition' | 'region' | 'account'>): string {
  return `arn:${ctx.partition}:logs:${ctx.region}:${ctx.account}:query-result:*`;
}

/**
 * CloudWatch Logs encrypting Insights query results with the key: the encryption context is the query-result
 * ARN (CloudWatch Logs user guide, encrypt-log-data-kms, "Associate a KMS key with query results").
 */
export function queryResultsStatement(ctx: PolicyContext): Statement {
  return {
    ...logsStatement(ctx),
    Sid: QUERY_RESULTS_STATEMENT_SID,
    Condition: { ArnLike: { [CONTEXT_KEY]: queryResultsArn(ctx) } },
  };
}

/** The account-root statement that keeps the key manageable through IAM (nobody locked out). */
export function rootStatement(ctx: PolicyContext): Statement {
  return {
    Sid: ROOT_STATEMENT_SID,
    Effect: 'Allow',
    Principal: { AWS: rootArn(ctx.partition, ctx.account) },
    Action: 'kms:*',
    Resource: '*',
  };
}

/** The condition key that names the guard's roles in their statements (see `roleStatement`). */
const PRINCIPAL_ARN_KEY = 'aws:PrincipalArn';
/** An IAM role ARN (a role's unique id, `AROA…`, which KMS shows for a deleted role, is not one). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * One statement for the guard's roles, in the form that works whether or not the roles exist yet: Principal
 * `{"AWS": "*"}` narrowed by `ArnEquals aws:PrincipalArn` to the roles' ARNs. KMS refuses a key policy whose
 * Principal names a role that does not exist ("MalformedPolicyDocumentException: Policy contains a statement with
 * one or more invalid principals", KMS API reference, PutKeyPolicy: "The principals in the key policy must exist
 * and be visible to AWS KMS"), while condition values are not checked against IAM; so a key made before the
 * StackSet deploys its role (`enforce --org` first) can name that role. aws:PrincipalArn is the role's ARN for
 * every session of it (IAM User Guide, global condition keys). Not the account root as Principal: that only
 * delegates to IAM (KMS developer guide, "Allows access to the AWS account and enables IAM policies"), and the
 * function's role holds no IAM grant on keys. A role deleted and created again under the same name (a stack
 * replaced) is still named, where a Principal would have turned into the old role's unique id.
 */
function roleStatement(roles: readonly string[], body: Statement): Statement {
  const { Condition, ...rest } = body;
  const condition = isObject(Condition) ? Condition : {};
  return {
    ...rest,
    Principal: { AWS: '*' },
    Condition: {
      ...condition,
      ArnEquals: {
        ...(isObject(condition.ArnEquals) ? condition.ArnEquals : {}),
        [PRINCIPAL_ARN_KEY]: roles.length === 1 ? roles[0] : [...roles],
      },
    },
  };
}

/** Every value a statement names its principals by: its Principal AWS values, or, under `*`, aws:PrincipalArn's. */
function namedValues(s: Statement): string[] {
  if (!isObject(s.Principal)) return [];
  const named = asList(s.Principal.AWS);
  if (named.length !== 1 || named[0] !== '*') return named;
  const condition = isObject(s.Condition) ? s.Condition : {};
  return asList(isObject(condition.ArnEquals) ? condition.ArnEquals[PRINCIPAL_ARN_KEY] : undefined);
}

/**
 * The roles a statement grants to: the `aws:PrincipalArn` values of the guard's form (`roleStatement`) or the
 * role ARNs of its Principal (the form written before it). Empty for any other shape: the account root, a
 * Principal `*` without that condition, a service.
 */
export function statementRoles(s: Statement): string[] {
  return namedValues(s).filter((r) => ROLE_ARN.test(r));
}

/** The statements that give the guard's roles (`ctx.guardRoles`, plus `keep`) their authority over one key. */
export function guardRoleStatements(ctx: PolicyContext, keep: readonly string[] = []): Statement[] {
  const roles = [...new Set([...(ctx.guardRoles ?? []), ...keep])].filter((r) => ROLE_ARN.test(r)).sort();
  if (roles.length === 0) return [];
  return [
    roleStatement(roles, {
      Sid: GUARD_ADMIN_SID,
      Effect: 'Allow',
      Action: [...GUARD_ADMIN_ACTIONS, ...(ctx.restoreGuardKey ? GUARD_RESTORE_ACTIONS : [])],
      Resource: '*',
    }),
    roleStatement(roles, {
      Sid: GUARD_TAG_SID,
      Effect: 'Allow',
      Action: 'kms:TagResource',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:RequestTag/ManagedBy': 'logs-kms-guard' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['ManagedBy'] },
      },
    }),
    roleStatement(roles, {
      Sid: GUARD_VIA_LOGS_SID,
      Effect: 'Allow',
      Action: [...VIA_LOGS_ACTIONS],
      Resource: '*',
      Condition: {
        StringEquals: { 'kms:ViaService': logsPrincipal(ctx.region) },
        ArnLike: {
          [CONTEXT_KEY]: ctx.encryptQueryResults
            ? [logGroupArnPattern(ctx.partition, ctx.region, ctx.account), queryResultsArn(ctx)]
            : logGroupArnPattern(ctx.partition, ctx.region, ctx.account),
        },
      },
    }),
  ];
}

export const MESSAGES_EVENTBRIDGE_SID = 'LogsKmsGuardQueuesFromItsRules';
export const MESSAGES_SQS_SID = 'LogsKmsGuardQueuesThroughSqs';
export const MESSAGES_ALARMS_SID = 'LogsKmsGuardAlarmTopicFromItsAlarms';

/**
 * MessageKmsKey=guard: what the queues and the alarm topic need of the guard key, for the stack's resources
 * only. EventBridge sends (to the queue and its DLQ) as its service principal, only for the guard's rules
 * (aws:SourceArn, as the EventBridge user guide's SSE-KMS queue statement has it). The functions' roles send
 * and receive through SQS: the account's principals, only through SQS of this region, only for these queues
 * (the encryption context), and only where IAM also allows it (the template's KmsMessagesThroughSqs). CloudWatch
 * publishes the stack's alarms to the topic (aws:SourceArn, aws:SourceAccount). Empty without `ctx.messages`.
 */
export function messageStatements(ctx: PolicyContext): Statement[] {
  const m = ctx.messages;
  if (!m) return [];
  const dataKey = ['kms:Decrypt', 'kms:GenerateDataKey'];
  return [
    {
      Sid: MESSAGES_EVENTBRIDGE_SID,
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: dataKey,
      Resource: '*',
      Condition: { ArnEquals: { 'aws:SourceArn': [...m.ruleArns].sort() } },
    },
    {
      Sid: MESSAGES_SQS_SID,
      Effect: 'Allow',
      Principal: { AWS: rootArn(ctx.partition, ctx.account) },
      Action: dataKey,
      Resource: '*',
      Condition: {
        StringEquals: {
          'kms:ViaService': `sqs.${ctx.region}.${dnsSuffixOf(ctx.partition)}`,
          'kms:CallerAccount': ctx.account,
        },
        ArnEquals: { 'kms:EncryptionContext:aws:sqs:arn': [...m.queueArns].sort() },
      },
    },
    {
      Sid: MESSAGES_ALARMS_SID,
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceAccount': ctx.account },
        ArnLike: { 'aws:SourceArn': m.alarmArnPattern },
      },
    },
  ];
}

/** The statement a new key carries until it wins the alias: its creator may retire it (>= 7 days). */
export function retireStatement(ctx: PolicyContext): Statement | undefined {
  const roles = [...(ctx.guardRoles ?? [])].filter((r) => ROLE_ARN.test(r)).sort();
  if (roles.length === 0) return undefined;
  return roleStatement(roles, {
    Sid: GUARD_RETIRE_SID,
    Effect: 'Allow',
    Action: 'kms:ScheduleKeyDeletion',
    Resource: '*',
    Condition: { NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '7' } },
  });
}

/**
 * The complete policy of a key the guard creates: root, Logs, the guard roles' statements, and (with
 * `candidate`) the retire statement the alias winner removes again.
 */
export function defaultKeyPolicy(ctx: PolicyContext, options: { candidate?: boolean } = {}): PolicyDocument {
  const retire = options.candidate ? retireStatement(ctx) : undefined;
  return {
    Version: '2012-10-17',
    Id: 'logs-kms-guard',
    Statement: [
      rootStatement(ctx),
      logsStatement(ctx),
      ...(ctx.encryptQueryResults ? [queryResultsStatement(ctx)] : []),
      ...guardRoleStatements(ctx),
      ...messageStatements(ctx),
      // A candidate stays unprotected: its creator must be able to retire it if it loses the alias race.
      ...(options.candidate ? [] : protectionStatements(ctx)),
      ...(retire ? [retire] : []),
    ],
  };
}

/** Thrown by parsePolicy for text that is not a key policy document. */
export class PolicyParseError extends Error {}

/** Parses a key policy; a single statement object is returned as a one-element array view. */
export function parsePolicy(text: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new PolicyParseError('key policy is not valid JSON', { cause });
  }
  if (!isObject(doc)) throw new PolicyParseError('key policy is not a JSON object');
  const raw = doc.Statement;
  const statements = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!statements?.every(isObject)) {
    throw new PolicyParseError('key policy has no Statement list of objects');
  }
  return { ...doc, Statement: statements as Statement[] };
}

export interface MergeResult {
  policy: PolicyDocument;
  changed: boolean;
  /** What was changed, in words ("the CloudWatch Logs statement added", …); empty when nothing. */
  changes: string[];
}

/** What each statement the guard writes is, in the words of a change report. */
const STATEMENT_NAMES: Readonly<Record<string, string>> = {
  [LOGS_STATEMENT_SID]: 'the CloudWatch Logs statement',
  [QUERY_RESULTS_STATEMENT_SID]: 'the Insights query results statement',
  [GUARD_ADMIN_SID]: "the enforce role's statement to manage the key",
  [GUARD_TAG_SID]: "the enforce role's statement to tag the key",
  [GUARD_VIA_LOGS_SID]: "the enforce role's statement to use the key through CloudWatch Logs",
};

export interface MergeOptions {
  /**
   * The guard's own key (behind its alias): also keep the guard roles' statements (their principals are
   * kept and `ctx.guardRoles` added) and drop the retire statement, which only an unused candidate carries.
   */
  own?: boolean;
  /** Also write the protection (key-protection.ts) into a configured key's policy (`key setup --break-glass-role`). */
  protect?: boolean;
  /**
   * A break-glass is in progress (the key's break-glass tag, or the change was made by a break-glass role): the
   * protection statements are left as they are, neither added back nor corrected.
   */
  breakGlass?: boolean;
}

/**
 * Returns `policy` with the guard's Logs statement present and correct (matched by Sid) and the root
 * statement present; for the guard's own key also its role statements and, with `ctx.messages`, the queue and
 * topic statements (messageStatements), without the retire statement.
 * Every other statement is kept as it was, in its place.
 */
export function mergeKeyPolicy(
  policy: PolicyDocument,
  ctx: PolicyContext,
  options: MergeOptions = {},
): MergeResult {
  const statements = [...policy.Statement];
  let changed = false;
  const changes: string[] = [];
  const put = (wanted: Statement) => {
    const index = statements.findIndex((s) => s.Sid === wanted.Sid);
    const sid = String(wanted.Sid);
    const name = STATEMENT_NAMES[sid] ?? PROTECTION_NAMES[sid] ?? `statement ${sid}`;
    if (index === -1) {
      statements.push(wanted);
      changed = true;
      changes.push(`${name} added`);
    } else if (canonical(roleForm(statements[index] as Statement)) !== canonical(roleForm(wanted))) {
      statements[index] = wanted;
      changed = true;
      changes.push(`${name} corrected`);
    }
  };
  put(logsStatement(ctx));
  if (ctx.encryptQueryResults) put(queryResultsStatement(ctx));
  if (options.own) {
    const named = statements
      .filter((s) => (GUARD_ROLE_SIDS as readonly unknown[]).includes(s.Sid))
      .flatMap((s) => statementRoles(s))
      // The guard's roles are of the key's own account: a principal added from elsewhere is not kept.
      .filter((r) => r.split(':')[4] === ctx.account);
    for (const wanted of guardRoleStatements(ctx, named)) put(wanted);
    // Added or corrected, never removed: messages already encrypted under the key must stay readable.
    for (const wanted of messageStatements(ctx)) put(wanted);
    const retire = statements.findIndex((s) => s.Sid === GUARD_RETIRE_SID);
    if (retire !== -1) {
      statements.splice(retire, 1);
      changed = true;
      changes.push('the retire-if-unused statement removed');
    }
  }
  // Added or corrected, never removed by the guard; left alone while a break-glass is in progress.
  if ((options.own || options.protect) && !options.breakGlass) {
    for (const wanted of protectionStatements(ctx)) put(wanted);
  }
  if (!statements.some((s) => grantsRootAdmin(s, ctx))) {
    statements.unshift(rootStatement(ctx));
    changed = true;
    changes.push('the account-root statement added');
  }
  return { policy: changed ? { ...policy, Statement: statements } : policy, changed, changes };
}

/**
 * True when the policy names `role` (as Principal, or as the guard writes it: `aws:PrincipalArn`) in an Allow of
 * every action in `actions` (own-key check).
 */
export function namesRoleFor(policy: PolicyDocument, role: string, actions: readonly string[]): boolean {
  return actions.every((op) =>
    policy.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        s.NotAction === undefined &&
        statementRoles(s).includes(role) &&
        asList(s.Action).some((a) => globMatch(a.toLowerCase(), op.toLowerCase())),
    ),
  );
}

/**
 * For a configured key: the via-Logs actions its policy does not let `role` use, neither by naming the role
 * nor by delegating to IAM (an unconditional account-root Allow, which lets the function's IAM grant count).
 * Empty when nothing is missing.
 */
export function missingCallerAccess(
  policy: PolicyDocument,
  ctx: PolicyContext,
  role: string | undefined,
): string[] {
  const root = rootArn(ctx.partition, ctx.account);
  const covers = (s: Statement, op: string) => {
    if (s.Effect !== 'Allow' || s.NotAction !== undefined || !isObject(s.Principal)) return false;
    if (!asList(s.Action).some((a) => globMatch(a.toLowerCase(), op.toLowerCase()))) return false;
    const named = asList(s.Principal.AWS);
    const delegates = s.Condition === undefined && (named.includes(root) || named.includes(ctx.account));
    return delegates || (role !== undefined && statementRoles(s).includes(role));
  };
  return ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'].filter(
    (op) => !policy.Statement.some((s) => covers(s, op)),
  );
}

/** True when the statement gives the account root `kms:*` on the key, unconditionally. */
export function grantsRootAdmin(s: Statement, ctx: PolicyContext): boolean {
  if (s.Effect !== 'Allow' || s.Condition !== undefined || s.NotAction !== undefined) return false;
  if (s.NotPrincipal !== undefined) return false;
  const principal = s.Principal;
  const root = rootArn(ctx.partition, ctx.account);
  const awsPrincipals = isObject(principal) ? asList(principal.AWS) : principal === '*' ? ['*'] : [];
  const rootNamed = awsPrincipals.some((p) => p === root || p === ctx.account);
  return rootNamed && asList(s.Action).some((a) => a === 'kms:*' || a === '*') && resourceIsKey(s.Resource);
}

/**
 * Semantic check: does the policy let CloudWatch Logs of this region use the key for every log group of
 * the account? Accepts any statement shape that grants it (not only the guard's Sid), and refuses when a
 * Deny statement could match the Logs principal.
 */
export function admitsLogs(policy: PolicyDocument, ctx: PolicyContext): boolean {
  const principal = logsPrincipal(ctx.region);
  const sampleGroupArn = logGroupArnPattern(ctx.partition, ctx.region, ctx.account).replace(/\*$/, 'sample');
  const covers = (s: Statement, op: string) =>
    s.NotAction === undefined && asList(s.Action).some((a) => globMatch(a.toLowerCase(), op.toLowerCase()));
  const names = (s: Statement) => {
    if (s.NotPrincipal !== undefined) return true;
    if (s.Principal === '*') return true;
    return isObject(s.Principal) && asList(s.Principal.Service).includes(principal);
  };
  const denies = policy.Statement.some(
    (s) =>
      s.Effect === 'Deny' &&
      names(s) &&
      LOGS_OPERATIONS.some((op) => s.NotAction !== undefined || covers(s, op)),
  );
  if (denies) return false;
  return LOGS_OPERATIONS.every((op) =>
    policy.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        s.NotPrincipal === undefined &&
        names(s) &&
        covers(s, op) &&
        resourceIsKey(s.Resource) &&
        conditionAdmits(s.Condition, sampleGroupArn),
    ),
  );
}

function conditionAdmits(condition: unknown, groupArn: string): boolean {
  if (condition === undefined) return true;
  if (!isObject(condition)) return false;
  return Object.entries(condition).every(([operator, block]) => {
    if (!isObject(block)) return false;
    return Object.entries(block).every(([key, value]) => {
      if (key.toLowerCase() !== CONTEXT_KEY.toLowerCase()) return false;
      const values = asList(value);
      switch (operator) {
        case 'ArnLike':
        case 'StringLike':
          return values.some((v) => globMatch(v, groupArn));
        case 'ArnEquals':
        case 'StringEquals':
          return values.includes(groupArn);
        default:
          return false;
      }
    });
  });
}

function resourceIsKey(resource: unknown): boolean {
  return asList(resource).includes('*');
}

/** IAM-style glob: `*` any run of characters, `?` one character; the rest literal. */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * A statement with its roles taken out of either form (Principal, or the guard's aws:PrincipalArn condition) and
 * set apart: a guard statement written before the conditional form, naming the same roles, is not rewritten.
 */
function roleForm(s: Statement): Statement {
  const roles = statementRoles(s);
  // Only a statement naming roles and nothing else (no account, no unique id of a deleted role) is equivalent.
  if (roles.length === 0 || roles.length !== namedValues(s).length) return s;
  const { Principal: _principal, Condition, ...rest } = s;
  const condition = isObject(Condition) ? { ...Condition } : {};
  if (isObject(condition.ArnEquals)) {
    const { [PRINCIPAL_ARN_KEY]: _roles, ...others } = condition.ArnEquals;
    if (Object.keys(others).length > 0) condition.ArnEquals = others;
    else delete condition.ArnEquals;
  }
  return {
    ...rest,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    GuardRoles: [...roles].sort(),
  };
}

/** Key-order-insensitive JSON, with Action lists compared as sets. */
function canonical(value: unknown): string {
  const norm = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => norm(x));
      return key === 'Action' || key === 'Service' || key === 'AWS' ? [...items].sort() : items;
    }
    if (isObject(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, norm(v[k], k)]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(value));
}

/**
 * True when the policy holds the guard's statement for Insights query results: AWS has no call to read the
 * results' key association back, and EncryptQueryResults=true writes this statement when it associates them.
 */
export function hasQueryResultsStatement(policy: PolicyDocument): boolean {
  return policy.Statement.some((s) => s.Sid === QUERY_RESULTS_STATEMENT_SID);
}
