/**
 * Which log groups the guard may touch, from their name and tags alone: legal names, the include and exclude
 * patterns (prefixes or globs), the opt-out tag, and the names AWS reserves (`aws/…`), which no key can
 * encrypt. Pure.
 */
import { ConfigError } from './errors.ts';

/** Log group names: 1–512 characters of `[.\-_/#A-Za-z0-9]`. */
export const LOG_GROUP_NAME_RE = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** True when `name` is a legal CloudWatch Logs log group name. */
export function isLogGroupName(name: unknown): name is string {
  return typeof name === 'string' && LOG_GROUP_NAME_RE.test(name);
}

/** A compiled include/exclude pattern: a prefix, or a glob when it has `*` or `?`. */
export interface NamePattern {
  source: string;
  test(name: string): boolean;
}

/** Compiles config patterns; a pattern with `*`/`?` is a whole-name glob (`*` spans `/`), else a prefix. */
export function compilePatterns(patterns: string[], variable: string): NamePattern[] {
  return patterns.map((source) => {
    if (!/^[.\-_/#A-Za-z0-9*?]{1,512}$/.test(source)) {
      throw new ConfigError(
        `${variable}: "${source}" is not a log group name prefix or glob (allowed: letters, digits, . - _ / # and the wildcards * ?)`,
      );
    }
    if (!/[*?]/.test(source)) return { source, test: (name: string) => name.startsWith(source) };
    const body = source
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.\-/#]/g, '\\$&')))
      .join('');
    const re = new RegExp(`^${body}$`, 's');
    return { source, test: (name: string) => re.test(name) };
  });
}

export interface ScopeRules {
  include: NamePattern[];
  exclude: NamePattern[];
  skipTagKey: string;
}

export type ScopeDecision = { inScope: true } | { inScope: false; reason: string; reserved?: true };

/**
 * Names starting with `aws/` (any case) are reserved for AWS (X-Ray transaction search creates `aws/spans`);
 * CloudWatch Logs refuses AssociateKmsKey on them with InvalidParameterException "Log groups starting with
 * AWS/ are reserved for AWS" (awslabs/landing-zone-accelerator-on-aws #751, PR #755).
 */
export function isReservedLogGroupName(name: string): boolean {
  return /^aws\//i.test(name);
}

export const RESERVED_REASON = 'reserved for AWS (aws/…): CloudWatch Logs does not let anyone encrypt it';

/** Decides from name and tags alone whether the guard may touch a log group. */
export function decideScope(
  rules: ScopeRules,
  name: string,
  tags: Record<string, string> | undefined,
): ScopeDecision {
  if (isReservedLogGroupName(name)) return { inScope: false, reason: RESERVED_REASON, reserved: true };
  const skip = tags?.[rules.skipTagKey];
  if (skip !== undefined && skip.trim().toLowerCase() !== 'false') {
    return { inScope: false, reason: `tagged ${rules.skipTagKey}=${skip}` };
  }
  const excluded = rules.exclude.find((p) => p.test(name));
  if (excluded) return { inScope: false, reason: `matches exclude pattern "${excluded.source}"` };
  if (rules.include.length > 0 && !rules.include.some((p) => p.test(name))) {
    return { inScope: false, reason: 'matches no include pattern' };
  }
  return { inScope: true };
}
