/**
 * Small checks over untrusted input, shared by every door (environment, flags, events, emulator requests):
 * one place decides what "an object" and "a number within bounds" mean, so the messages read the same.
 */

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bounds for `parseNumber`: an inclusive `min` or an exclusive `above`, an inclusive `max`, whole numbers only. */
export interface NumberRule {
  /** The inclusive lower bound. */
  min?: number;
  /** The exclusive lower bound (`above: 0`: any positive number). */
  above?: number;
  /** The inclusive upper bound. */
  max?: number;
  /** Only whole numbers. */
  integer?: boolean;
}

/** The rule in words, for an error message: "a number above 0 and at most 10", "a whole number ≥ 1". */
export function describeRule({ min, above, max, integer }: NumberRule): string {
  const noun = integer ? 'a whole number' : 'a number';
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  const bounds = [
    above !== undefined && `above ${above}`,
    min !== undefined && `≥ ${min}`,
    max !== undefined && `at most ${max}`,
  ].filter(Boolean);
  return bounds.length ? `${noun} ${bounds.join(' and ')}` : noun;
}

/**
 * Parses `raw` as a number within `rule`; `undefined` when it is absent or blank (the caller picks the default),
 * and a `RangeError` whose message names `name` when it is not a number or is out of bounds. Callers wrap the
 * error in their own kind (ConfigError for the environment, UsageError for a flag).
 */
export function parseNumber(raw: string | undefined, name: string, rule: NumberRule): number | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  const value = Number(text);
  // An absent bound lets every number through it.
  const bad =
    !Number.isFinite(value) ||
    (rule.integer && !Number.isInteger(value)) ||
    value < (rule.min ?? -Infinity) ||
    value <= (rule.above ?? -Infinity) ||
    value > (rule.max ?? Infinity);
  if (bad) throw new RangeError(`${name} must be ${describeRule(rule)}, got "${raw}"`);
  return value;
}
