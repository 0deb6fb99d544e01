/**
 * The check of a configured key ARN (--key-arn, or KMS_KEY_ARN in the environment) made once, up front, per
 * account-region of a single-account run, before any log group is touched: a key of another account, a key
 * that does not exist, and (for the commands that associate) a key CloudWatch Logs cannot use are one
 * UsageError (exit 2) in the terms the user typed, not one failure per group at run time with a resume token.
 */
import { ConfigError, UnsafeKeyError } from '../core/errors.ts';
import { checkKeyUsable, describeKey } from '../core/key.ts';
import { resolveAccount } from './aws.ts';
import type { Ctx } from './context.ts';
import { UsageError } from './errors.ts';

/** How the message names the key: the flag typed, else the environment variable it came from. */
export function keyArnSource(ctx: Pick<Ctx, 'flags'>): string {
  return ctx.flags.keyArn ? '--key-arn' : 'KMS_KEY_ARN (set in the environment)';
}

/** The message for a configured key that does not exist in `account` `region`. */
export function noSuchKeyProblem(source: string, arn: string, account: string, region: string): string {
  return `${source} ${arn}: no such key in ${account} ${region} (KMS NotFoundException)`;
}

/**
 * Checks the configured key ARN in each region of a single-account run (nothing without one): in the caller's
 * account, existing, and with `usable` (enforce, associate) enabled, symmetric and of the region. Failures other
 * than "not found" (no permission to describe it, an unreachable endpoint) are left to the run, which reports them.
 */
export async function checkKeyArnUpFront(ctx: Ctx, options: { usable: boolean }): Promise<void> {
  const arn = ctx.config.keyArn;
  if (!arn) return;
  const source = keyArnSource(ctx);
  for (const region of ctx.regions) {
    const clients = ctx.clients(region);
    let account: string;
    try {
      account = await resolveAccount(clients, ctx.config);
    } catch (err) {
      // A key of another account (ConfigError, in the user's terms through program.ts) is refused here.
      if (err instanceof ConfigError) throw err;
      return;
    }
    let metadata: Awaited<ReturnType<typeof describeKey>>;
    try {
      metadata = await describeKey({ clients, ...(ctx.io.clock ? { clock: ctx.io.clock } : {}) }, arn);
    } catch {
      return;
    }
    if (!metadata) throw new UsageError(noSuchKeyProblem(source, arn, account, region));
    if (!options.usable) continue;
    try {
      checkKeyUsable(metadata, region);
    } catch (err) {
      if (err instanceof UnsafeKeyError) throw new UsageError(`${source}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}
