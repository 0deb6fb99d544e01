/**
 * The retry schedule of the sweep's reference loop, scripts/bench/sequential.ts referenceBackoff (its own,
 * apart from the guard's), as a pure function: no benchmark runs.
 */
import { describe, expect, it } from 'vitest';
import { referenceBackoff } from '../../../scripts/bench/sequential.ts';

describe('referenceBackoff', () => {
  it('doubles from 100 ms up to a 2 s cap, with half of it jittered', () => {
    // Act / Assess: random 0 gives the fixed half, random 1 the whole ceiling
    expect(referenceBackoff(1, () => 0)).toBe(50);
    expect(referenceBackoff(1, () => 1)).toBe(100);
    expect(referenceBackoff(3, () => 1)).toBe(400);
    expect(referenceBackoff(10, () => 0)).toBe(1_000);
    expect(referenceBackoff(10, () => 1)).toBe(2_000);
  });
});
