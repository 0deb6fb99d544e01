/**
 * The EventBridge pattern matcher (local/event-pattern.ts) that the
 * template tests and the local runs decide events with: EventBridge's matching semantics and its refusals of
 * bad patterns.
 */
import { describe, expect, it } from 'vitest';
import { matches, type Pattern, validatePattern } from '../../local/event-pattern.ts';

describe('event pattern matcher (EventBridge semantics)', () => {
  it('matches exact values as alternatives and requires every field', () => {
    // Prepare
    const pattern: Pattern = { source: ['aws.logs', 'aws.kms'], detail: { eventName: ['CreateLogGroup'] } };

    // Act
    const hit = matches(pattern, { source: 'aws.kms', detail: { eventName: 'CreateLogGroup' } });
    const wrongName = matches(pattern, { source: 'aws.logs', detail: { eventName: 'DeleteLogGroup' } });
    const noDetail = matches(pattern, { source: 'aws.logs' });

    // Assess
    expect(hit).toBe(true);
    expect(wrongName).toBe(false);
    expect(noDetail).toBe(false);
  });

  it('is type-sensitive: "5" is not 5, true is not "true"', () => {
    // Prepare
    const pattern: Pattern = { a: [5], b: [true] };

    // Act
    const typed = matches(pattern, { a: 5, b: true });
    const strings = matches(pattern, { a: '5', b: 'true' });

    // Assess
    expect(typed).toBe(true);
    expect(strings).toBe(false);
  });

  it('exists:false matches a missing field only, not a null one', () => {
    // Prepare
    const pattern: Pattern = { detail: { errorCode: [{ exists: false }] } };

    // Act
    const missing = matches(pattern, { detail: { eventName: 'X' } });
    const nullValue = matches(pattern, { detail: { errorCode: null } });
    const present = matches(pattern, { detail: { errorCode: 'ResourceAlreadyExistsException' } });

    // Assess
    expect(missing).toBe(true);
    expect(nullValue).toBe(false);
    expect(present).toBe(false);
  });

  it('exists:true matches present values including null, not missing ones or objects', () => {
    // Prepare
    const pattern: Pattern = { detail: { errorCode: [{ exists: true }] } };

    // Act / Assess
    expect(matches(pattern, { detail: { errorCode: 'X' } })).toBe(true);
    expect(matches(pattern, { detail: { errorCode: null } })).toBe(true);
    expect(matches(pattern, { detail: {} })).toBe(false);
    expect(matches(pattern, { detail: { errorCode: { nested: 1 } } })).toBe(false);
  });

  it('a null value matches only an explicit null', () => {
    // Prepare
    const pattern: Pattern = { responseElements: [null] };

    // Act / Assess
    expect(matches(pattern, { responseElements: null })).toBe(true);
    expect(matches(pattern, {})).toBe(false);
    expect(matches(pattern, { responseElements: 'null' })).toBe(false);
  });

  it('an array in the event matches if any element matches', () => {
    // Prepare
    const pattern: Pattern = { resources: ['arn:x'], detail: { items: { name: ['b'] } } };

    // Act
    const hit = matches(pattern, {
      resources: ['arn:y', 'arn:x'],
      detail: { items: [{ name: 'a' }, { name: 'b' }] },
    });
    const miss = matches(pattern, { resources: ['arn:y'], detail: { items: [{ name: 'b' }] } });
    const empty = matches(pattern, { resources: [], detail: { items: [{ name: 'b' }] } });

    // Assess
    expect(hit).toBe(true);
    expect(miss).toBe(false);
    expect(empty).toBe(false);
  });

  it('supports prefix, suffix, equals-ignore-case, wildcard, numeric and anything-but', () => {
    // Act / Assess
    expect(matches({ n: [{ prefix: '/aws/' }] }, { n: '/aws/lambda/x' })).toBe(true);
    expect(matches({ n: [{ prefix: '/aws/' }] }, { n: '/ecs/x' })).toBe(false);
    expect(matches({ n: [{ suffix: '.log' }] }, { n: 'a.log' })).toBe(true);
    expect(matches({ n: [{ 'equals-ignore-case': 'ABC' }] }, { n: 'abc' })).toBe(true);
    expect(matches({ n: [{ wildcard: '/aws/*/x' }] }, { n: '/aws/lambda/x' })).toBe(true);
    expect(matches({ n: [{ wildcard: '/aws/*/x' }] }, { n: '/aws/lambda/y' })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0, '<=', 5] }] }, { n: 5 })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 0, '<=', 5] }] }, { n: 6 })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: '3' })).toBe(false);
    expect(matches({ n: [{ 'anything-but': ['a', 'b'] }] }, { n: 'c' })).toBe(true);
    expect(matches({ n: [{ 'anything-but': ['a', 'b'] }] }, { n: 'a' })).toBe(false);
    expect(matches({ n: [{ 'anything-but': 'a' }] }, {})).toBe(false);
    expect(matches({ n: [{ 'anything-but': { prefix: 'aws-' } }] }, { n: 'aws-x' })).toBe(false);
    expect(matches({ n: [{ 'anything-but': { prefix: 'aws-' } }] }, { n: 'mine' })).toBe(true);
  });

  it('a leaf pattern does not match an object, and a nested pattern does not match a string', () => {
    // Act / Assess
    expect(matches({ detail: ['x'] }, { detail: { a: 1 } })).toBe(false);
    expect(matches({ detail: { a: [1] } }, { detail: 'a' })).toBe(false);
  });

  it('rejects malformed patterns the way EventBridge does', () => {
    // Act / Assess
    expect(() => validatePattern({ source: [] })).toThrow(/empty array/);
    expect(() => validatePattern({ source: 'aws.logs' })).toThrow(/array/);
    expect(() => validatePattern({ source: [{ bogus: 1 }] })).toThrow(/unknown operator/);
    expect(() => validatePattern({ source: [{ exists: 'no' }] })).toThrow(/exists/);
    expect(() => validatePattern({ detail: { errorCode: [{ exists: false }] } })).not.toThrow();
  });
});
