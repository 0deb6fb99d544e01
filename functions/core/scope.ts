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

export type ScopeDecision = { inScope: true } | { inScope: false; reason: string };

/** Decides from name and tags alone whether the guard may touch a log group. */
export function decideScope(
  rules: ScopeRules,
  name: string,
  tags: Record<string, string> | undefined,
): ScopeDecision {
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
