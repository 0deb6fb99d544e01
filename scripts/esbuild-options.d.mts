import type { BuildOptions } from 'esbuild';

/** esbuild options for one self-contained ESM bundle. */
export function bundleOptions(options: { entry: string; outfile: string; shebang?: boolean }): BuildOptions;
