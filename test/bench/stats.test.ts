import { describe, expect, it } from 'vitest';
import { parseArgs, spread, table } from '../../scripts/bench/stats.ts';

describe('spread', () => {
  it('gives median, min and max; the median of an even count is the mean of the middle two', () => {
    expect(spread([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(() => spread([])).toThrow(/no samples/);
  });
});

describe('table', () => {
  it('shows median [min–max], the floor, the ratio and whether the goal is met', () => {
    // Act
    const out = table([
      {
        name: 'bundle size',
        unit: 'B',
        ours: spread([390_000]),
        floor: spread([340_000]),
        ratio: spread([1.147]),
        goal: '≤ 1.15×',
        met: true,
      },
      { name: 'cold', unit: 'ms', ours: spread([90, 95, 99]), goal: '≤ 1.15×', met: false },
    ]);
    // Assess
    const [head, , size, cold] = out.split('\n');
    expect(head).toContain('ours: median [min–max]');
    expect(size).toContain('390,000 B');
    expect(size).toContain('1.15×');
    expect(size).toContain('| yes |');
    expect(cold).toContain('95.00 ms [90.00–99.00]');
    expect(cold).toContain('| NO |');
  });
});

describe('parseArgs', () => {
  it('has defaults that make the full run, and --quick for a short one', () => {
    expect(parseArgs([])).toMatchObject({ reps: 21, burst: 1000, sweepGroups: 10_000, help: false });
    expect(parseArgs(['--quick'])).toMatchObject({ reps: 3, burst: 200, sweepGroups: 2_000 });
    expect(parseArgs(['--json', 'out.json', '--only', 'size,cold'])).toMatchObject({
      json: 'out.json',
      only: ['size', 'cold'],
    });
  });

  it('refuses bad input with a message naming the option', () => {
    expect(() => parseArgs(['--reps', 'x'])).toThrow(/--reps/);
    expect(() => parseArgs(['--only', 'speed'])).toThrow(/--only/);
    expect(() => parseArgs(['--json'])).toThrow(/--json/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});
