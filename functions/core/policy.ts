import { logGroupArnPattern, logsPrincipal, type Partition, rootArn } from './arn.ts';

/** Pure key-policy logic: build, merge and check. No I/O. */

export const LOGS_STATEMENT_SID = 'AllowCloudWatchLogs';
export const ROOT_STATEMENT_SID = 'EnableRootAccountAdministration';
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

/** The complete policy of a key the guard creates. */
export function defaultKeyPolicy(ctx: PolicyContext): PolicyDocument {
  return { Version: '2012-10-17', Id: 'logs-kms-guard', Statement: [rootStatement(ctx), logsStatement(ctx)] };
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
}

/**
 * Returns `policy` with the guard's Logs statement present and correct (matched by Sid) and the root
 * statement present; every other statement is kept as it was, in its place.
 */
export function mergeKeyPolicy(policy: PolicyDocument, ctx: PolicyContext): MergeResult {
  const wanted = logsStatement(ctx);
  const statements = [...policy.Statement];
  let changed = false;
  const index = statements.findIndex((s) => s.Sid === LOGS_STATEMENT_SID);
  if (index === -1) {
    statements.push(wanted);
    changed = true;
  } else if (canonical(statements[index]) !== canonical(wanted)) {
    statements[index] = wanted;
    changed = true;
  }
  if (!statements.some((s) => grantsRootAdmin(s, ctx))) {
    statements.unshift(rootStatement(ctx));
    changed = true;
  }
  return { policy: changed ? { ...policy, Statement: statements } : policy, changed };
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Key-order-insensitive JSON, with Action lists compared as sets. */
function canonical(value: unknown): string {
  const norm = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => norm(x));
      return key === 'Action' || key === 'Service' ? [...items].sort() : items;
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
