/**
 * The scale section's options, scripts/bench/scale/args.ts scaleArgs, as a pure function (no benchmark
 * runs): taken out of the bench's argv, the rest left as it was.
 */
import { describe, expect, it } from 'vitest';
import { SCALE_DEFAULTS, scaleArgs } from '../../../../scripts/bench/scale/args.ts';

describe('scaleArgs', () => {
  it('takes its options and `scale` out of --only, and leaves the rest for the bench', () => {
    // Act
    const parsed = scaleArgs([
      '--scale-groups',
      '5000',
      '--scale-no-audit',
      '--only',
      'size,scale',
      '--reps',
      '3',
    ]);
    // Assess
    expect(parsed.scale).toEqual({ ...SCALE_DEFAULTS, groups: 5000, audit: false });
    expect(parsed.argv).toEqual(['--only', 'size', '--reps', '3']);
    expect(parsed.run).toBe(true);
    expect(parsed.others).toBe(true);
  });

  it('runs alone with --only scale, and --quick shrinks the region unless its size was given', () => {
    // Act
    const alone = scaleArgs(['--only', 'scale', '--quick']);
    const sized = scaleArgs(['--scale-groups', '300', '--quick']);
    // Assess
    expect(alone).toMatchObject({ argv: ['--quick'], run: true, others: false });
    expect(alone.scale.groups).toBe(20_000);
    expect(sized.scale.groups).toBe(300);
    expect(scaleArgs(['--only', 'size']).run).toBe(false);
  });

  it('refuses a bad number with a message naming the option', () => {
    // Act / Assess
    expect(() => scaleArgs(['--scale-groups', '5'])).toThrow(
      /--scale-groups must be a whole number ≥ 100, got "5"/,
    );
    expect(() => scaleArgs(['--scale-every'])).toThrow(/--scale-every .* got nothing/);
  });
});
