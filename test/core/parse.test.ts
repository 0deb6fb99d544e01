/**
 * The small parsing helpers (functions/core/parse.ts): isObject, parseNumber with its bounds and messages,
 * and describeRule.
 */
import { describe, expect, it } from 'vitest';
import { describeRule, isObject, parseNumber } from '../../functions/core/parse.ts';

describe('isObject', () => {
  it('accepts plain objects only', () => {
    expect(isObject({ a: 1 })).toBe(true);
    expect(isObject(null)).toBe(false);
    expect(isObject([])).toBe(false);
    expect(isObject('x')).toBe(false);
  });
});

describe('parseNumber', () => {
  it('is undefined when absent or blank, so the caller picks the default', () => {
    expect(parseNumber(undefined, 'X', { min: 1 })).toBeUndefined();
    expect(parseNumber('  ', 'X', { min: 1 })).toBeUndefined();
  });

  it('parses within the bounds, inclusive min and max, exclusive above', () => {
    expect(parseNumber(' 5 ', 'X', { min: 1, max: 5 })).toBe(5);
    expect(parseNumber('0.5', 'X', { above: 0, max: 10 })).toBe(0.5);
    expect(parseNumber('1', 'X', { min: 1, integer: true })).toBe(1);
  });

  it('refuses with a message that names the input and the rule', () => {
    expect(() => parseNumber('0', 'SWEEP_RATE', { above: 0, max: 10 })).toThrow(
      new RangeError('SWEEP_RATE must be a number above 0 and at most 10, got "0"'),
    );
    expect(() => parseNumber('11', 'X', { min: 1, max: 10 })).toThrow(
      'X must be a number from 1 to 10, got "11"',
    );
    expect(() => parseNumber('1.5', '--reps', { min: 1, integer: true })).toThrow(
      '--reps must be a whole number ≥ 1, got "1.5"',
    );
    expect(() => parseNumber('abc', 'X', { min: 0 })).toThrow(RangeError);
    expect(() => parseNumber('Infinity', 'X', {})).toThrow(RangeError);
  });
});

describe('describeRule', () => {
  it('says the rule in words', () => {
    expect(describeRule({})).toBe('a number');
    expect(describeRule({ min: 0, integer: true })).toBe('a whole number ≥ 0');
  });
});
