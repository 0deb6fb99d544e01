/**
 * The org section's options, scripts/bench/org/args.ts orgArgs, as a pure function (no benchmark runs):
 * taken out of the bench's argv, the rest left as it was.
 */
import { describe, expect, it } from 'vitest';
import { ORG_DEFAULTS, orgArgs } from '../../../../scripts/bench/org/args.ts';

describe('orgArgs', () => {
  it('takes its options and `org` out of --only, and leaves the rest for the bench', () => {
    // Act
    const parsed = orgArgs([
      '--org-accounts',
      '3',
      '--org-regions',
      'eu-west-1',
      '--only',
      'org,cold',
      '--runs',
      '2',
    ]);
    // Assess
    expect(parsed.org).toEqual({ ...ORG_DEFAULTS, accounts: 3, regions: ['eu-west-1'] });
    expect(parsed.argv).toEqual(['--only', 'cold', '--runs', '2']);
    expect(parsed).toMatchObject({ run: true, others: true });
  });

  it('--quick makes a small run unless its sizes were given', () => {
    // Act
    const quick = orgArgs(['--quick', '--only', 'org']);
    const sized = orgArgs(['--org-groups', '40', '--quick']);
    // Assess
    expect(quick.org).toMatchObject({ groups: 100, runs: 1 });
    expect(quick).toMatchObject({ argv: ['--quick'], run: true, others: false });
    expect(sized.org).toMatchObject({ groups: 40, runs: 1 });
  });

  it('refuses bad input with a message naming the option', () => {
    // Act / Assess
    expect(() => orgArgs(['--org-propagation-ms', '-1'])).toThrow(
      /--org-propagation-ms must be a whole number ≥ 0/,
    );
    expect(() => orgArgs(['--org-accounts', '100'])).toThrow(/--org-accounts: at most 99/);
    expect(() => orgArgs(['--org-regions', ''])).toThrow(/--org-regions needs/);
  });
});
