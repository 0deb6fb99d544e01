/**
 * `key setup`: creates the guard key in each region, or repairs its policy and turns its rotation on (what the
 * first event or sweep would do, ahead of time and with a report). With `--break-glass-role` it also protects
 * the key (functions/core/key-protection.ts), the guard's own key or a configured one (`--key-arn`).
 */
import {
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
} from '@aws-sdk/client-kms';
import type { Command } from 'commander';
import { parseBreakGlassRoles } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { ensureKey, findGuardKey } from '../../core/key.ts';
import { protectionStatus } from '../../core/key-protection.ts';
import { parsePolicy } from '../../core/policy.ts';
import { resolveAccount } from '../aws.ts';
import { type CliCommand, type Ctx, common, EXIT, examples, keySteps } from '../context.ts';
import { UsageError } from '../errors.ts';

interface KeySetupOptions {
  /** --break-glass-role: protect the key; only these roles may then delete or disable it. */
  breakGlassRole?: string[];
}

/** The run's context with --break-glass-role in its configuration (it wins over BREAK_GLASS_ROLE_ARNS). */
function withBreakGlass(ctx: Ctx, opts: KeySetupOptions): Ctx {
  if (!opts.breakGlassRole) return ctx;
  try {
    const roles = parseBreakGlassRoles(opts.breakGlassRole, '--break-glass-role');
    if (roles.length === 0) throw new UsageError('--break-glass-role needs at least one IAM role ARN');
    return { ...ctx, config: { ...ctx.config, breakGlassRoleArns: roles } };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

async function keySetup(base: Ctx, opts: KeySetupOptions): Promise<number> {
  const ctx = withBreakGlass(base, opts);
  const { printer, config } = ctx;
  const protect = config.breakGlassRoleArns.length > 0;
  const results: Record<string, unknown>[] = [];
  for (const region of ctx.regions) {
    const clients = ctx.clients(region);
    const account = await resolveAccount(clients, config);
    const before = await findGuardKey(clients, config);
    // A configured key gets the protection only when asked here (the function never writes it there).
    const options = { ...keySteps(ctx, clients, region, account), ...(protect ? { protect: true } : {}) };
    const key = await ensureKey(options);
    let action = !before
      ? key.planned
        ? 'would create'
        : 'created'
      : key.changedAt
        ? `policy repaired (${key.policyChanges?.join('; ') || 'changed'})`
        : 'verified';
    if (config.dryRun && before) action = 'checked (dry run)';
    let rotation: boolean | undefined;
    if (!key.planned) {
      rotation = (await clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn })))
        .KeyRotationEnabled;
      if (!rotation && key.own && !config.dryRun) {
        await clients.kms.send(new EnableKeyRotationCommand({ KeyId: key.arn }));
        rotation = true;
        action += ', rotation enabled';
      }
    }
    let isProtected: boolean | undefined;
    if (protect && !key.planned) {
      const policy = await clients.kms.send(
        new GetKeyPolicyCommand({ KeyId: key.arn, PolicyName: 'default' }),
      );
      isProtected = protectionStatus(parsePolicy(policy.Policy ?? '')).protected;
    }
    results.push({
      region,
      keyArn: key.planned ? null : key.arn,
      alias: config.keyArn ? null : config.keyAlias,
      action,
      rotation,
      ...(isProtected !== undefined
        ? { protected: isProtected, breakGlassRoles: config.breakGlassRoleArns }
        : {}),
    });
    const protection =
      isProtected === undefined
        ? ''
        : isProtected
          ? printer.style.green(
              ` (protected: only ${config.breakGlassRoleArns.join(', ')} may delete or disable it)`,
            )
          : printer.style.yellow(' (not protected)');
    printer.info(
      `${region}: ${printer.style.green(action)} ${key.planned ? config.keyAlias : key.arn}${rotation === false ? printer.style.yellow(' (rotation off)') : ''}${protection}`,
    );
    if (!ctx.flags.json && ctx.flags.quiet && !key.planned) ctx.io.stdout.write(`${key.arn}\n`);
  }
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify({ keys: results }, null, 2)}\n`);
  return EXIT.ok;
}

/** `key setup` (under the `key` group): creates or repairs the guard key in each region. */
export const keySetupCommand: CliCommand = {
  name: 'key setup',
  register(program, { act }) {
    const key = program.command('key').description('Manage the guard key.');
    examples(
      common(
        key
          .command('setup')
          .description(
            'Create the guard key (symmetric, rotation on, policy for CloudWatch Logs) or repair it.',
          ),
        {
          dryRun: true,
        },
      ).option(
        '--break-glass-role <arns>',
        'protect the key: only these IAM roles (comma-separated, repeatable) may delete or disable it, only they and --function-role may change its policy; run it with a break-glass role (env BREAK_GLASS_ROLE_ARNS; docs/DEPLOY.md#key-protection-and-break-glass)',
        (value: string, previous: string[] | undefined) => [
          ...(previous ?? []),
          ...value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean),
        ],
      ),
      [
        'logs-kms-guard key setup --region eu-west-1',
        'logs-kms-guard key setup --all-regions --dry-run',
        'logs-kms-guard key setup --region eu-west-1 --key-arn arn:aws:kms:eu-west-1:111122223333:key/… --break-glass-role arn:aws:iam::111122223333:role/LogKeysBreakGlass',
      ],
    ).action(async function (this: Command) {
      await act(keySetup)(this);
    });
  },
};
