/**
 * Pure key-policy evaluation for the two questions the emulator asks:
 * - does this key policy let CloudWatch Logs use the key for a given log group? (AssociateKmsKey)
 * - does a new key policy still let the account root update it? (PutKeyPolicy lockout safety check)
 *
 * A deliberately small subset of IAM policy evaluation: Effect, Principal/NotPrincipal,
 * Action/NotAction, Resource/NotResource and the String and Arn condition operators.
 * Anything it does not understand counts against admission (never silently admits).
 */
import { isObject } from '../../functions/core/parse.ts';

export type Policy = { Statement: Statement[] } & Record<string, unknown>;
export interface Statement {
  Sid?: string;
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/** Parses a key policy document; returns an error message (for MalformedPolicyDocumentException) or the policy. */
export function parsePolicy(text: string): { policy: Policy } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { error: 'The new key policy is not valid JSON.' };
  }
  if (!isObject(doc) || doc.Statement === undefined) {
    return { error: 'Policy contains a statement with no Statement element.' };
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (statements.length === 0) return { error: 'Policy contains no statements.' };
  for (const s of statements) {
    if (!isObject(s)) return { error: 'Policy contains a statement that is not an object.' };
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      return { error: 'Policy contains a statement with an invalid or missing Effect.' };
    }
    if (s.Principal === undefined && s.NotPrincipal === undefined) {
      return { error: 'Policy contains a statement with no principal.' };
    }
    if (s.Action === undefined && s.NotAction === undefined) {
      return { error: 'Policy contains a statement with no action.' };
    }
  }
  return { policy: { ...doc, Statement: statements as Statement[] } };
}

/** The CloudWatch Logs service principal of a region (`.amazonaws.com.cn` in the China partition). */
export function logsServicePrincipal(region: string): string {
  return `logs.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** The partition of a region: `aws-cn` for cn-*, `aws-us-gov` for us-gov-*, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The actions CloudWatch Logs performs with an associated key; every one must be allowed. */
const LOGS_REQUIRED_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:DescribeKey',
] as const;

const LOGS_CONTEXT_KEY = 'kms:EncryptionContext:aws:logs:arn';

export interface LogsAdmissionInput {
  region: string;
  keyArn: string;
  /** `arn:<partition>:logs:<region>:<account>:log-group:<name>` (no trailing `:*`). */
  logGroupArn: string;
}

export interface Verdict {
  admitted: boolean;
  reason: string;
}

/** Does this key policy let CloudWatch Logs (of `region`) use the key for this log group? */
export function policyAdmitsLogs(policy: string | Policy, input: LogsAdmissionInput): Verdict {
  const parsed = typeof policy === 'string' ? parsePolicy(policy) : { policy };
  if ('error' in parsed) return { admitted: false, reason: parsed.error };
  const principal: Principal = { service: logsServicePrincipal(input.region) };
  const context: Record<string, string> = { [LOGS_CONTEXT_KEY.toLowerCase()]: input.logGroupArn };
  for (const action of LOGS_REQUIRED_ACTIONS) {
    const request = { principal, action, resource: input.keyArn, context };
    const deny = parsed.policy.Statement.find(
      (s) => s.Effect === 'Deny' && statementApplies(s, request, true),
    );
    if (deny) return { admitted: false, reason: `${action} denied by statement ${deny.Sid ?? '(no Sid)'}` };
    if (!parsed.policy.Statement.some((s) => s.Effect === 'Allow' && statementApplies(s, request, false))) {
      return { admitted: false, reason: `no statement allows ${principal.service} to call ${action}` };
    }
  }
  return { admitted: true, reason: 'allowed' };
}

/**
 * Lockout safety check: some Allow statement gives the account (root ARN, account id or '*')
 * kms:PutKeyPolicy (directly or through a wildcard such as kms:*), unconditionally.
 */
export function policyKeepsRootAccess(policy: Policy, account: string, partition: string): boolean {
  const root: Principal = { aws: [`arn:${partition}:iam::${account}:root`, account] };
  const request = { principal: root, action: 'kms:PutKeyPolicy', resource: '*', context: {} };
  return policy.Statement.some(
    (s) => s.Effect === 'Allow' && s.Condition === undefined && statementApplies(s, request, false),
  );
}

// --- evaluation -------------------------------------------------------------------------------

interface Principal {
  service?: string;
  /** Equivalent spellings of the same AWS principal (root ARN and account id). */
  aws?: string[];
}
interface Request {
  principal: Principal;
  action: string;
  resource: string;
  /** Condition context, keys lower-cased (IAM condition keys are case-insensitive). */
  context: Record<string, string>;
}

/**
 * Whether the statement matches the request. `unknownMeans` decides what a condition the
 * evaluator cannot judge counts as: false for Allow (never over-admit), true for Deny (never under-deny).
 */
function statementApplies(s: Statement, r: Request, unknownMeans: boolean): boolean {
  const principalOk =
    s.Principal !== undefined
      ? principalMatches(s.Principal, r.principal)
      : !principalMatches(s.NotPrincipal, r.principal);
  if (!principalOk) return false;
  const actionOk =
    s.Action !== undefined
      ? values(s.Action).some((a) => globMatch(a, r.action, true))
      : !values(s.NotAction).some((a) => globMatch(a, r.action, true));
  if (!actionOk) return false;
  const resourceOk =
    s.Resource !== undefined
      ? values(s.Resource).some((p) => globMatch(p, r.resource, false))
      : s.NotResource !== undefined
        ? !values(s.NotResource).some((p) => globMatch(p, r.resource, false))
        : false;
  if (!resourceOk) return false;
  if (s.Condition === undefined) return true;
  const verdict = conditionHolds(s.Condition, r.context);
  return verdict === 'unknown' ? unknownMeans : verdict;
}

function principalMatches(p: unknown, who: Principal): boolean {
  if (p === '*') return true;
  if (!isObject(p)) return false;
  const aws = values(p.AWS);
  if (aws.includes('*')) return true;
  if (who.aws && aws.some((a) => who.aws?.includes(a))) return true;
  if (who.service && values(p.Service).includes(who.service)) return true;
  return false;
}

type Tri = boolean | 'unknown';

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => globMatch(p, v, false),
  ArnEquals: (p, v) => arnMatch(p, v, false),
  ArnLike: (p, v) => arnMatch(p, v, true),
  // Numeric operators, for kms:TrailingDaysWithoutKeyUsage (IAM User Guide, "IAM JSON policy elements:
  // Condition operators", numeric condition operators); a value that is not a number never matches.
  NumericLessThan: (p, v) => numeric(v) < numeric(p),
  NumericLessThanEquals: (p, v) => numeric(v) <= numeric(p),
  NumericGreaterThan: (p, v) => numeric(v) > numeric(p),
  NumericGreaterThanEquals: (p, v) => numeric(v) >= numeric(p),
};

function numeric(text: string): number {
  const n = Number(text);
  return text.trim() === '' || !Number.isFinite(n) ? Number.NaN : n;
}

/** Every operator and every key must hold; any of a key's values may match. */
function conditionHolds(condition: unknown, context: Record<string, string>): Tri {
  if (!isObject(condition)) return 'unknown';
  for (const [operator, block] of Object.entries(condition)) {
    const test = OPERATORS[operator];
    if (!test || !isObject(block)) return 'unknown';
    for (const [key, expected] of Object.entries(block)) {
      const actual = context[key.toLowerCase()];
      if (actual === undefined) return 'unknown';
      if (!values(expected).some((p) => test(p, actual))) return false;
    }
  }
  return true;
}

/** ArnLike/ArnEquals compare the six colon-separated parts one by one (the last part may hold colons). */
function arnMatch(pattern: string, value: string, like: boolean): boolean {
  const p = splitArn(pattern);
  const v = splitArn(value);
  if (!p || !v) return false;
  return p.every((part, i) => (like ? globMatch(part, v[i] ?? '', false) : part === v[i]));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** IAM glob: `*` any run of characters, `?` one character. Actions compare case-insensitively. */
export function globMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function values(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}
