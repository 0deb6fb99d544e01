/**
 * Which log groups are in scope (functions/core/scope.ts): include/exclude patterns (prefix or glob),
 * AWS-reserved names, the skip tag, and legal log group names.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/core/errors.ts';
import {
  compilePatterns,
  decideScope,
  isLogGroupName,
  isReservedLogGroupName,
  RESERVED_REASON,
} from '../../functions/core/scope.ts';

const rules = (include: string[], exclude: string[]) => ({
  include: compilePatterns(include, 'INCLUDE_LOG_GROUPS'),
  exclude: compilePatterns(exclude, 'EXCLUDE_LOG_GROUPS'),
  skipTagKey: 'logs-kms-guard:skip',
});

describe('compilePatterns', () => {
  it('treats a pattern without wildcards as a prefix', () => {
    const [p] = compilePatterns(['/aws/lambda/'], 'X');
    expect(p?.test('/aws/lambda/orders')).toBe(true);
    expect(p?.test('/ecs/orders')).toBe(false);
  });

  it('treats a pattern with wildcards as a whole-name glob where * spans slashes', () => {
    const [p] = compilePatterns(['/aws/*/orders-?'], 'X');
    expect(p?.test('/aws/lambda/orders-1')).toBe(true);
    expect(p?.test('/aws/lambda/x/orders-2')).toBe(true);
    expect(p?.test('/aws/lambda/orders-12')).toBe(false);
  });

  it('escapes regex characters that are legal in names', () => {
    const [p] = compilePatterns(['a.b*'], 'X');
    expect(p?.test('a.b-c')).toBe(true);
    expect(p?.test('axb-c')).toBe(false);
  });

  it('names the variable when a pattern is illegal', () => {
    expect(() => compilePatterns(['bad pattern'], 'EXCLUDE_LOG_GROUPS')).toThrow(ConfigError);
    expect(() => compilePatterns(['bad pattern'], 'EXCLUDE_LOG_GROUPS')).toThrow(/EXCLUDE_LOG_GROUPS/);
  });
});

describe('decideScope', () => {
  it('keeps everything in scope by default', () => {
    expect(decideScope(rules([], []), '/any', undefined)).toEqual({ inScope: true });
  });

  it.each(['aws/spans', 'AWS/spans', 'Aws/anything/else'])(
    '%s is reserved for AWS: out of scope as not encryptable, whatever include says',
    (name) => {
      expect(decideScope(rules([name], []), name, undefined)).toEqual({
        inScope: false,
        reason: RESERVED_REASON,
        reserved: true,
      });
    },
  );

  it.each(['/aws/lambda/x', 'awsome/logs', 'aws', 'x/aws/spans'])('%s is not reserved', (name) => {
    expect(isReservedLogGroupName(name)).toBe(false);
  });

  it('lets exclude win over include', () => {
    const d = decideScope(rules(['/aws/'], ['/aws/lambda/skip-*']), '/aws/lambda/skip-me', {});
    expect(d).toEqual({ inScope: false, reason: 'matches exclude pattern "/aws/lambda/skip-*"' });
  });

  it('puts names outside every include pattern out of scope', () => {
    expect(decideScope(rules(['/aws/lambda/'], []), '/ecs/x', {}).inScope).toBe(false);
  });

  it('honours the skip tag unless its value is false', () => {
    const r = rules([], []);
    expect(decideScope(r, '/x', { 'logs-kms-guard:skip': 'true' }).inScope).toBe(false);
    expect(decideScope(r, '/x', { 'logs-kms-guard:skip': '' }).inScope).toBe(false);
    expect(decideScope(r, '/x', { 'logs-kms-guard:skip': 'False' }).inScope).toBe(true);
  });
});

describe('isLogGroupName', () => {
  it.each(['/aws/lambda/a', 'a', 'A.b-c_d/e#f', 'x'.repeat(512)])('accepts %s', (n) => {
    expect(isLogGroupName(n)).toBe(true);
  });
  it.each(['', 'x'.repeat(513), 'a b', 'a:b', 'ü', 'a\nb', '*'])('refuses %j', (n) => {
    expect(isLogGroupName(n)).toBe(false);
  });
});
