// Types of scripts/esbuild-options.mjs, so that the TypeScript that imports it (scripts/bench.ts) is checked
// against the plain-JavaScript module the build scripts run as is.
import type { BuildOptions } from 'esbuild';

/** The package version (package.json), defined as `__LOGS_KMS_GUARD_VERSION__` in every bundle. */
export const VERSION: string;

/** The `define` entries every build (esbuild, vitest) gives the sources. */
export const DEFINE: Record<string, string>;

/** esbuild options for one self-contained ESM bundle. */
export function bundleOptions(options: {
  entry: string;
  outfile: string;
  shebang?: boolean;
  /** esbuild target; default node22 (the Lambda runtime). */
  target?: string;
  /** default true: a linked .map beside the bundle. */
  sourcemap?: boolean;
  /** default false: set AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED (unless set) before the bundle runs. */
  silenceSdkNodeWarning?: boolean;
}): BuildOptions;
