/**
 * The benchmark's command line, scripts/bench/args.ts parseArgs, as a pure function (no benchmark runs):
 * defaults, options, and the messages for bad ones.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ARGS, parseArgs } from '../../../scripts/bench/args.ts';

describe('parseArgs', () => {
  it('has defaults that make the full run', () => {
    // Act / Assess
    expect(parseArgs([])).toEqual(DEFAULT_ARGS);
    expect(DEFAULT_ARGS).toMatchObject({
      reps: 41,
      runs: 5,
      propagationRuns: 11,
      deployRuns: 11,
      burst: 1000,
      sweepGroups: 10_000,
      reference: true,
    });
  });

  it('takes sizes, repetitions, sections and the JSON file; --quick is a short run', () => {
    // Act
    const quick = parseArgs(['--quick']);
    const custom = parseArgs([
      '--reps',
      '7',
      '--runs',
      '2',
      '--prop-runs',
      '4',
      '--deploy-runs',
      '5',
      '--neighbour-runs',
      '3',
      '--burst',
      '300',
      '--sweep-groups',
      '500',
      '--no-reference',
      '--json',
      'out.json',
      '--only',
      'size,propagation,deployed',
    ]);
    // Assess
    expect(quick).toMatchObject({
      reps: 5,
      runs: 1,
      propagationRuns: 3,
      deployRuns: 3,
      neighbourRuns: 1,
      burst: 200,
      sweepGroups: 2_000,
    });
    expect(custom).toEqual({
      reps: 7,
      runs: 2,
      propagationRuns: 4,
      deployRuns: 5,
      neighbourRuns: 3,
      burst: 300,
      sweepGroups: 500,
      reference: false,
      json: 'out.json',
      only: ['size', 'propagation', 'deployed'],
      help: false,
    });
    expect(parseArgs(['-h']).help).toBe(true);
  });

  it('refuses bad input with a message naming the option', () => {
    // Act / Assess
    expect(() => parseArgs(['--reps', 'x'])).toThrow(/--reps/);
    expect(() => parseArgs(['--runs', '0'])).toThrow(/--runs must be a whole number ≥ 1, got "0"/);
    expect(() => parseArgs(['--burst'])).toThrow(/--burst .* got nothing/);
    expect(() => parseArgs(['--deploy-runs', '0'])).toThrow(/--deploy-runs must be a whole number ≥ 1/);
    expect(() => parseArgs(['--only', 'speed'])).toThrow(/--only takes .*not speed/);
    expect(() => parseArgs(['--json'])).toThrow(/--json/);
    expect(() => parseArgs(['--json', '--quick'])).toThrow(/--json needs a file name/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});
