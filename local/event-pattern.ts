// A small, faithful matcher of EventBridge event patterns, for checking the deployed rule against real events
// offline. Semantics (EventBridge user guide, "Event patterns" and "Content filtering"):
// - every field named in the pattern must match (AND); the values listed for a field are alternatives (OR);
// - a pattern leaf is an array of exact values (string, number, boolean, null; "5" is not 5) and/or
//   operator objects: prefix, suffix, equals-ignore-case, anything-but, exists, numeric, wildcard;
// - a missing field matches nothing except `exists: false`; a null field is present and matches `null`
//   and `exists: true`;
// - when the event holds an array at a leaf, the leaf matches if any element matches;
// - a nested pattern object needs an object at that place in the event (or an array of objects, any of which
//   may match).

import { isObject } from '../functions/core/parse.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Pattern = { [key: string]: Pattern | Json[] };

const MISSING = Symbol('missing');
type Value = Json | typeof MISSING;

/** Checks a pattern is well formed the way EventBridge would (throws with a reason otherwise). */
export function validatePattern(pattern: unknown, where = '$'): asserts pattern is Pattern {
  if (!isObject(pattern)) throw new Error(`${where}: a pattern must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = `${where}.${key}`;
    if (Array.isArray(value)) {
      if (value.length === 0)
        throw new Error(`${at}: an empty array matches nothing (EventBridge rejects it)`);
      for (const m of value) {
        if (isObject(m)) {
          const ops = Object.keys(m);
          if (ops.length !== 1) throw new Error(`${at}: an operator object has exactly one operator`);
          const op = ops[0] as string;
          if (!OPERATORS.has(op)) throw new Error(`${at}: unknown operator "${op}"`);
          if (op === 'exists' && typeof m[op] !== 'boolean')
            throw new Error(`${at}: exists takes true or false`);
        } else if (Array.isArray(m)) {
          throw new Error(`${at}: nested arrays are not allowed in a pattern`);
        }
      }
    } else if (isObject(value)) {
      validatePattern(value, at);
    } else {
      throw new Error(`${at}: a leaf must be an array of values`);
    }
  }
}

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'exists',
  'numeric',
  'wildcard',
]);

function exactEquals(expected: Json, actual: Json): boolean {
  return expected === actual; // primitives only; type-sensitive, so "5" !== 5
}

function wildcardToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

function numericMatches(spec: Json[], actual: Json): boolean {
  if (typeof actual !== 'number') return false;
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const bound = spec[i + 1];
    if (typeof bound !== 'number') return false;
    const ok =
      op === '='
        ? actual === bound
        : op === '<'
          ? actual < bound
          : op === '<='
            ? actual <= bound
            : op === '>'
              ? actual > bound
              : op === '>='
                ? actual >= bound
                : false;
    if (!ok) return false;
  }
  return true;
}

/** One matcher of a leaf against one present, non-array value. */
function matchOne(matcher: Json, actual: Json): boolean {
  if (!isObject(matcher)) return exactEquals(matcher, actual);
  const [op, arg] = Object.entries(matcher)[0] as [string, Json];
  switch (op) {
    case 'exists':
      return arg === true;
    case 'prefix':
      if (isObject(arg)) {
        const p = arg['equals-ignore-case'];
        return (
          typeof p === 'string' &&
          typeof actual === 'string' &&
          actual.toLowerCase().startsWith(p.toLowerCase())
        );
      }
      return typeof arg === 'string' && typeof actual === 'string' && actual.startsWith(arg);
    case 'suffix':
      return typeof arg === 'string' && typeof actual === 'string' && actual.endsWith(arg);
    case 'equals-ignore-case':
      return (
        typeof arg === 'string' && typeof actual === 'string' && actual.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return typeof arg === 'string' && typeof actual === 'string' && wildcardToRegExp(arg).test(actual);
    case 'numeric':
      return Array.isArray(arg) && numericMatches(arg, actual);
    case 'anything-but': {
      if (isObject(arg)) {
        // anything-but { prefix | suffix | equals-ignore-case | wildcard }
        return typeof actual === 'string' && !matchOne(arg, actual);
      }
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.some((e) => exactEquals(e, actual));
    }
    default:
      throw new Error(`unsupported operator ${op}`);
  }
}

function matchLeaf(matchers: Json[], actual: Value): boolean {
  if (actual === MISSING) {
    return matchers.some((m) => isObject(m) && m.exists === false);
  }
  if (Array.isArray(actual)) {
    // Any element may satisfy the leaf; an empty array is present but has nothing to match (except exists).
    if (actual.length === 0) return matchers.some((m) => isObject(m) && m.exists === true);
    return actual.some((element) => matchLeaf(matchers, element));
  }
  if (isObject(actual)) {
    // A leaf pattern never matches an object; `exists` applies to leaf values only.
    return false;
  }
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return m.exists === true;
    return matchOne(m, actual);
  });
}

function fieldsMissing(pattern: Pattern): boolean {
  // A nested pattern over a missing object matches only if every leaf inside it accepts "missing".
  return Object.values(pattern).every((p) =>
    Array.isArray(p) ? matchLeaf(p, MISSING) : fieldsMissing(p as Pattern),
  );
}

/** Does `event` match `pattern` under EventBridge semantics? */
export function matches(pattern: Pattern, event: Json | undefined): boolean {
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([key, sub]) => {
    const actual: Value = Object.hasOwn(event, key) ? (event[key] as Json) : MISSING;
    if (Array.isArray(sub)) return matchLeaf(sub, actual);
    if (actual === MISSING) return fieldsMissing(sub as Pattern);
    if (Array.isArray(actual)) return actual.some((element) => matches(sub as Pattern, element));
    return matches(sub as Pattern, actual);
  });
}
