/**
 * The guard's Lambda functions as local runs know them: their names in the default stack, the bundles
 * `npm run build` writes for them, and the context an invocation hands them. Below local/world.ts and
 * local/pipeline.ts (the world imports the pipeline), so that both use it; and free of the emulator, so that a
 * benchmark child process imports it without loading one.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/** The functions as the default stack (logs-kms-guard-prod) names them. */
export const ENFORCE_FUNCTION = 'logs-kms-guard-prod-enforce';
export const CHANGES_FUNCTION = 'logs-kms-guard-prod-changes';
export const SWEEP_FUNCTION = 'logs-kms-guard-prod-sweep';

const root = join(import.meta.dirname, '..');
/** The deployable bundles `npm run build` writes: the exact files that are deployed. */
export const ENFORCE_BUNDLE = join(root, 'dist', 'enforce.mjs');
export const CHANGES_BUNDLE = join(root, 'dist', 'changes.mjs');
export const SWEEP_BUNDLE = join(root, 'dist', 'sweep.mjs');
export const FINDINGS_BUNDLE = join(root, 'dist', 'findings.mjs');

/**
 * A Lambda context for `functionName` in `where`'s account and region whose remaining time starts at
 * `timeoutMs` (the bundles read it once, when an invocation starts).
 */
export function lambdaContext(
  where: { region: string; account: string },
  functionName: string,
  timeoutMs: number,
) {
  const started = Date.now();
  return {
    invokedFunctionArn: `arn:aws:lambda:${where.region}:${where.account}:function:${functionName}`,
    functionName,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  };
}
