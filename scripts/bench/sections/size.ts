/**
 * The `size` section of `npm run bench`: the size of dist/enforce.mjs against a bare-SDK bundle made of only
 * the two clients the calls need, built with the same esbuild options (scripts/bench/baseline.ts): the bytes
 * the guard's own code and choices add to what a cold start has to load.
 */
import { statSync } from 'node:fs';
import { ENFORCE_BUNDLE } from '../../../local/functions.ts';
import { type Figure, spread } from '../stats.ts';

/** 1. Bundle size: dist/enforce.mjs against the bare-SDK baseline built with the same esbuild options. */
export function sizeFigures(baselineBundle: string): Figure[] {
  const ours = statSync(ENFORCE_BUNDLE).size;
  const floor = statSync(baselineBundle).size;
  return [
    {
      id: 'bundle-size',
      name: 'bundle size: dist/enforce.mjs',
      unit: 'B',
      ours: spread([ours]),
      floor: spread([floor]),
      ratio: spread([ours / floor]),
      goal: '≤ 1.15×',
      met: ours / floor <= 1.15,
      note: 'floor: the two SDK clients making the calls, same esbuild options',
    },
  ];
}
