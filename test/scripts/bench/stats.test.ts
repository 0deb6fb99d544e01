/**
 * The benchmark's pure helpers, scripts/bench/stats.ts (statistics, floors, table), on fixed samples, plus
 * reading the enforce function's timeout from the project's serverless.yml. No timings here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  burstRigFloorMs,
  cell,
  countBy,
  countCell,
  enforceTimeoutSeconds,
  type Figure,
  formatCounts,
  pairedRatios,
  splitAt,
  spread,
  sweepFloorMs,
  table,
} from '../../../scripts/bench/stats.ts';

describe('spread', () => {
  it('gives median, min and max of unsorted samples', () => {
    // Act
    const odd = spread([5, 1, 3]);
    const even = spread([4, 1, 3, 2]);
    // Assess: the median of an even count is the mean of the middle two
    expect(odd).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(even).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('refuses no samples instead of reporting NaN', () => {
    // Act / Assess
    expect(() => spread([])).toThrow(/no samples/);
  });
});

describe('pairedRatios', () => {
  it('divides each run by the floor measured next to it', () => {
    // Act
    const ratios = pairedRatios([110, 90, 120], [100, 100, 80]);
    // Assess
    expect(ratios).toEqual([1.1, 0.9, 1.5]);
    expect(spread(ratios).median).toBe(1.1);
  });

  it('refuses unpaired samples', () => {
    // Act / Assess
    expect(() => pairedRatios([1, 2], [1])).toThrow(/unpaired/);
  });
});

describe('countBy and formatCounts', () => {
  it('counts API calls by operation and lists the largest first', () => {
    // Prepare
    const calls = [
      { operation: 'DescribeLogGroups' },
      { operation: 'AssociateKmsKey' },
      { operation: 'AssociateKmsKey' },
      { operation: 'DescribeKey' },
      { operation: 'AssociateKmsKey' },
    ];
    // Act
    const counts = countBy(calls, (c) => c.operation);
    // Assess
    expect(counts).toEqual({ DescribeLogGroups: 1, AssociateKmsKey: 3, DescribeKey: 1 });
    expect(formatCounts(counts)).toBe('AssociateKmsKey 3, DescribeLogGroups 1, DescribeKey 1');
  });
});

describe('splitAt', () => {
  it("parts a run's calls at the first boundary call, which is in neither part", () => {
    // Prepare: the deployment's calls, the bench's CreateLogGroup, then the first event's
    const calls = ['CreateKey', 'AssociateKmsKey', 'CreateLogGroup', 'DescribeLogGroups', 'CreateLogGroup'];
    // Act
    const { before, boundary, after } = splitAt(calls, (c) => c === 'CreateLogGroup');
    // Assess: a later call of the same operation stays in `after`
    expect(before).toEqual(['CreateKey', 'AssociateKmsKey']);
    expect(boundary).toBe('CreateLogGroup');
    expect(after).toEqual(['DescribeLogGroups', 'CreateLogGroup']);
  });

  it('refuses calls without a boundary instead of counting everything as one part', () => {
    // Act / Assess
    expect(() => splitAt(['CreateKey'], (c) => c === 'CreateLogGroup')).toThrow(/boundary/);
  });
});

describe('countCell', () => {
  it('shows counts as whole numbers, one when every sample is the same', () => {
    // Act / Assess
    expect(countCell(spread([29, 28, 30]))).toBe('29 [28–30]');
    expect(countCell(spread([4, 4, 4]))).toBe('4');
    expect(countCell(spread([3, 4]))).toBe('3.5 [3–4]');
  });
});

describe('floors', () => {
  it('burst: the bucket starts with one second of calls, so the rig floor is (N − rate) / rate', () => {
    // Act / Assess: 1,000 events at 5 TPS × 20 = 100 per second: 900 after the first second's 100
    expect(burstRigFloorMs(1000, 100)).toBe(9_000);
    expect(burstRigFloorMs(1000, 5)).toBe(199_000);
    expect(burstRigFloorMs(50, 100)).toBe(0);
  });

  it('sweep: the slower of listing every page and associating every unencrypted group', () => {
    // Act / Assess: the case, 200 pages at 10 TPS = 20 s vs 2,000 at 5 TPS = 400 s
    expect(sweepFloorMs(10_000, 2_000, { describe: 10, associate: 5 })).toBe(400_000);
    // Few unencrypted groups: the listing is the floor (201 pages, the last one partial)
    expect(sweepFloorMs(10_001, 10, { describe: 10, associate: 5 })).toBe(20_100);
  });
});

describe('enforceTimeoutSeconds', () => {
  it("reads the enforce function's timeout, not another function's", () => {
    // Prepare
    const yml = [
      'functions:',
      '  - sweep:',
      '      handler: sweep.handler',
      '      timeout: 900',
      '  - enforce:',
      '      handler: enforce.handler',
      '      memorySize: 256',
      '      timeout: 120',
      '  - other:',
      '      timeout: 30',
    ].join('\n');
    // Act / Assess
    expect(enforceTimeoutSeconds(yml)).toBe(120);
    expect(
      enforceTimeoutSeconds('functions:\n  - enforce:\n      handler: x\n  - b:\n      timeout: 5'),
    ).toBe(undefined);
    expect(enforceTimeoutSeconds('functions: {}')).toBeUndefined();
  });

  it("finds the deployed function's timeout in the project's serverless.yml", () => {
    // Prepare
    const yml = readFileSync(join(import.meta.dirname, '../../../serverless.yml'), 'utf8');
    // Act
    const timeout = enforceTimeoutSeconds(yml);
    // Assess: the propagation figure's deadline is derived from it
    expect(timeout).toBeGreaterThanOrEqual(60);
  });
});

describe('table', () => {
  const figures: Figure[] = [
    {
      id: 'bundle-size',
      name: 'bundle size',
      unit: 'B',
      ours: spread([390_000]),
      floor: spread([340_000]),
      ratio: spread([1.147]),
      goal: '≤ 1.15×',
      met: true,
    },
    { id: 'cold', name: 'cold', unit: 'ms', ours: spread([90, 95, 99]), goal: '≤ 1.15×', met: false },
    {
      id: 'ref',
      name: 'reference loop',
      unit: 'ms',
      ours: spread([5]),
      goal: 'none',
      met: undefined,
      note: 'a|b',
    },
  ];

  it('shows median [min–max], the floor, the ratio and whether the goal is met', () => {
    // Act
    const [head, rule, size, cold, ref] = table(figures).split('\n');
    // Assess
    expect(head).toBe('| figure | ours: median [min–max] | floor | ratio | goal | met? | notes |');
    expect(rule).toBe('| --- | --- | --- | --- | --- | --- | --- |');
    expect(size).toBe('| bundle size | 390,000 B | 340,000 B | 1.15× | ≤ 1.15× | yes |  |');
    expect(cold).toBe('| cold | 95.00 ms [90.00–99.00] | — | — | ≤ 1.15× | NO |  |');
    // A reference line has no verdict; a pipe inside a cell does not break the row
    expect(ref).toBe('| reference loop | 5.00 ms | — | — | none | — | a\\|b |');
  });

  it('shows one number when every sample is the same', () => {
    // Act / Assess
    expect(cell(spread([2, 2, 2]), '')).toBe('2.00');
    expect(cell(spread([120, 130]), 'ms')).toBe('125 ms [120–130]');
    expect(cell(undefined, 'ms')).toBe('—');
  });
});
