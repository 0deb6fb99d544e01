/**
 * `key setup`: creates the guard key in each region, or repairs its policy and turns its rotation on (what the
 * first event or sweep would do, ahead of time and with a report).
 */
import { EnableKeyRotationCommand, GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import type { Command } from 'commander';
import { ensureKey, findGuardKey } from '../../core/key.ts';
import { resolveAccount } from '../aws.ts';
import { type CliCommand, type Ctx, common, EXIT, examples, keySteps } from '../context.ts';

async function keySetup(ctx: Ctx): Promise<number> {
  const { printer, config } = ctx;
  const results: Record<string, unknown>[] = [];
  for (const region of ctx.regions) {
    const clients = ctx.clients(region);
    const account = await resolveAccount(clients, config);
    const before = await findGuardKey(clients, config);
    const options = keySteps(ctx, clients, region, account);
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
    results.push({
      region,
      keyArn: key.planned ? null : key.arn,
      alias: config.keyArn ? null : config.keyAlias,
      action,
      rotation,
    });
    printer.info(
      `${region}: ${printer.style.green(action)} ${key.planned ? config.keyAlias : key.arn}${rotation === false ? printer.style.yellow(' (rotation off)') : ''}`,
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
      ),
      ['logs-kms-guard key setup --region eu-west-1', 'logs-kms-guard key setup --all-regions --dry-run'],
    ).action(async function (this: Command) {
      await act(keySetup)(this);
    });
  },
};
