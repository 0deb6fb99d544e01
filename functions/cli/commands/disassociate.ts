/**
 * `disassociate`: takes the guard key off one log group, keeping the key (old data stays readable with it) and
 * tagging the group so the guard does not encrypt it again.
 */
import type { Command } from 'commander';
import { logGroupArn, partitionOf } from '../../core/arn.ts';
import { disassociateKey } from '../../core/disassociate.ts';
import { describeLogGroup } from '../../core/enforce.ts';
import { findGuardKey, sameKey } from '../../core/key.ts';
import { isLogGroupName } from '../../core/scope.ts';
import { resolveAccount } from '../aws.ts';
import { type CliCommand, type Ctx, common, EXIT, examples, singleRegion } from '../context.ts';
import { UsageError } from '../errors.ts';
import { keyLabel } from '../key-label.ts';

async function disassociate(ctx: Ctx, opts: { logGroup: string; force?: boolean }): Promise<number> {
  const { printer, config, io } = ctx;
  const region = singleRegion(ctx);
  if (!isLogGroupName(opts.logGroup))
    throw new UsageError(`--log-group "${opts.logGroup}" is not a log group name`);
  const clients = ctx.clients(region);
  const group = await describeLogGroup(clients, opts.logGroup);
  if (!group) {
    printer.error(`log group ${opts.logGroup} does not exist in ${region}`);
    return EXIT.findings;
  }
  const out = (status: string) => {
    if (ctx.flags.json)
      io.stdout.write(
        `${JSON.stringify({ region, logGroup: opts.logGroup, status, kmsKeyId: group.kmsKeyId ?? null })}\n`,
      );
  };
  if (!group.kmsKeyId) {
    printer.info(`${opts.logGroup} has no KMS key`);
    out('no-key');
    return EXIT.ok;
  }
  const guard = await findGuardKey(clients, config);
  const isGuard = Boolean(guard?.Arn && sameKey(group.kmsKeyId, guard.Arn));
  // The guard key by its alias (a --key-arn the user gave by its ARN); another key by its ARN; JSON keeps the ARN.
  const key = isGuard && !config.keyArn ? keyLabel(group.kmsKeyId, config.keyAlias) : group.kmsKeyId;
  if (!isGuard && !opts.force) {
    printer.error(
      `${opts.logGroup} uses ${group.kmsKeyId}, not the guard key; pass --force to disassociate it anyway`,
    );
    return EXIT.findings;
  }
  if (config.dryRun) {
    printer.info(`dry run: would disassociate ${key} from ${opts.logGroup}`);
    out('would-disassociate');
    return EXIT.ok;
  }
  const arn =
    group.logGroupArn ??
    logGroupArn(partitionOf(region), region, await resolveAccount(clients, config), opts.logGroup);
  const done = await disassociateKey(clients, opts.logGroup, {
    ...(io.clock ? { clock: io.clock } : {}),
    optOut: { arn, tagKey: config.skipTagKey },
    // The data so far stays under this key until retention removes it: recorded on the group (key-record.ts).
    record: {
      arn,
      previousKey: group.kmsKeyId,
      retentionInDays: group.retentionInDays,
      log: printer.log,
    },
  });
  printer.info(
    `${done === 'gone' ? 'gone meanwhile' : 'disassociated'}: ${opts.logGroup} (the key ${key} is kept; old data stays readable with it)`,
  );
  out(done);
  return EXIT.ok;
}

/** `disassociate`: removes the guard key from one log group, keeping the key. */
export const disassociateCommand: CliCommand = {
  name: 'disassociate',
  register(program, { act }) {
    examples(
      common(
        program
          .command('disassociate')
          .description('Remove the guard key from one log group (the key is kept).'),
        {
          dryRun: true,
        },
      )
        .requiredOption('--log-group <name>', 'the log group')
        .option('--force', 'also when the group uses a key other than the guard key'),
      ['logs-kms-guard disassociate --region eu-west-1 --log-group /aws/lambda/orders'],
    ).action(async function (this: Command) {
      await act(disassociate)(this);
    });
  },
};
