/**
 * `associate`: encrypts one log group with the guard key now, creating or repairing the key if need be and
 * waiting out KMS propagation (the same association the enforce function makes, by hand). Like the function,
 * it reads the group's tags right before associating and leaves a group carrying the opt-out tag alone.
 */
import type { Command } from 'commander';
import { logGroupArn, parseArn, partitionOf } from '../../core/arn.ts';
import { associateKey } from '../../core/associate.ts';
import { describeLogGroup } from '../../core/enforce.ts';
import { DeadlineExceededError } from '../../core/errors.ts';
import { ensureKey, ensureKeyPolicy, findGuardKey, sameKey } from '../../core/key.ts';
import { decideScope, isLogGroupName } from '../../core/scope.ts';
import { readTags } from '../../core/sweep/listing.ts';
import { resolveAccount } from '../aws.ts';
import {
  type CliCommand,
  type Ctx,
  common,
  EXIT,
  examples,
  keySteps,
  numberFlag,
  singleRegion,
} from '../context.ts';
import { UsageError } from '../errors.ts';
import { checkKeyArnUpFront } from '../key-check.ts';
import { keyLabel } from '../key-label.ts';
import { reservedGroupProblem } from '../validate.ts';

async function associate(
  ctx: Ctx,
  opts: { logGroup: string; timeout?: string; force?: boolean },
): Promise<number> {
  const { printer, config, io } = ctx;
  const region = singleRegion(ctx);
  if (!isLogGroupName(opts.logGroup))
    throw new UsageError(`--log-group "${opts.logGroup}" is not a log group name`);
  const reserved = reservedGroupProblem(opts.logGroup);
  if (reserved) throw new UsageError(reserved);
  const timeoutMs = numberFlag(opts.timeout, '--timeout', { above: 0, max: 3600 }, 300) * 1000;
  await checkKeyArnUpFront(ctx, { usable: true });
  const clients = ctx.clients(region);
  const group = await describeLogGroup(clients, opts.logGroup);
  if (!group) {
    printer.error(`log group ${opts.logGroup} does not exist in ${region}`);
    return EXIT.findings;
  }
  const guard = await findGuardKey(clients, config);
  const report = (status: string, extra: Record<string, unknown> = {}) => {
    if (ctx.flags.json)
      io.stdout.write(`${JSON.stringify({ region, logGroup: opts.logGroup, status, ...extra })}\n`);
  };
  // The guard key by its alias (a --key-arn the user gave by its ARN): JSON keeps the ARN.
  const label = (arn: string) => (config.keyArn ? arn : keyLabel(arn, config.keyAlias));
  if (group.kmsKeyId && guard?.Arn && sameKey(group.kmsKeyId, guard.Arn)) {
    printer.info(`${opts.logGroup} already uses the guard key ${label(guard.Arn)}`);
    report('already-associated', { keyArn: guard.Arn });
    return EXIT.ok;
  }
  if (group.kmsKeyId && !opts.force) {
    printer.error(
      `${opts.logGroup} already uses another key (${group.kmsKeyId}); pass --force to replace it`,
    );
    return EXIT.findings;
  }
  const account =
    parseArn(group.logGroupArn ?? group.arn ?? '')?.account || (await resolveAccount(clients, config));
  const options = keySteps(ctx, clients, region, account);
  const key = await ensureKey(options);
  const now = io.clock?.now() ?? Date.now();
  // The opt-out tag as it is now, right before the association (the enforce function reads it the same way).
  const arn = group.logGroupArn ?? logGroupArn(partitionOf(region), region, account, opts.logGroup);
  const tags = await readTags(clients, arn, {
    ...(io.clock ? { clock: io.clock } : {}),
    deadline: now + timeoutMs,
  });
  if (tags === undefined) {
    printer.error(`${opts.logGroup} was deleted meanwhile`);
    report('gone');
    return EXIT.findings;
  }
  const optedOut = decideScope(
    { include: [], exclude: [], skipTagKey: config.skipTagKey },
    opts.logGroup,
    tags,
  );
  if (!optedOut.inScope) {
    printer.error(
      `${opts.logGroup} is ${optedOut.reason}: the guard leaves it alone; remove the tag to encrypt it (aws logs untag-resource --resource-arn ${arn} --tag-keys ${config.skipTagKey})`,
    );
    report('out-of-scope', { reason: optedOut.reason });
    return EXIT.findings;
  }
  if (config.dryRun) {
    printer.info(
      `dry run: would associate ${opts.logGroup} with ${key.planned ? `${config.keyAlias} (created first)` : label(key.arn)}`,
    );
    report('would-associate', { keyArn: key.planned ? null : key.arn });
    return EXIT.ok;
  }
  try {
    const result = await associateKey({
      logs: clients.logs,
      name: opts.logGroup,
      keyArn: key.arn,
      deadline: now + timeoutMs,
      log: printer.log,
      ...(io.clock ? { clock: io.clock } : {}),
      onPropagationStall: async () => {
        printer.info('CloudWatch Logs does not accept the key yet; re-checking its policy');
        await ensureKeyPolicy({ ...options, key });
      },
    });
    if (result.outcome === 'gone') {
      printer.error(`${opts.logGroup} was deleted meanwhile`);
      report('gone');
      return EXIT.findings;
    }
    printer.info(
      `${printer.style.green('associated')} ${opts.logGroup} with ${label(key.arn)} (${result.attempts} attempt(s)); new data is encrypted within about five minutes`,
    );
    report('associated', { keyArn: key.arn, attempts: result.attempts });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof DeadlineExceededError) {
      printer.error(
        `CloudWatch Logs still refuses ${label(key.arn)} after ${timeoutMs / 1000} s (a new key or policy can take minutes to propagate); run again or raise --timeout`,
      );
      return EXIT.findings;
    }
    throw err;
  }
}

/** `associate`: encrypts one log group, waiting out KMS propagation. */
export const associateCommand: CliCommand = {
  name: 'associate',
  register(program, { act }) {
    examples(
      common(
        program
          .command('associate')
          .description('Encrypt one log group with the guard key, waiting out KMS propagation.'),
        {
          dryRun: true,
        },
      )
        .requiredOption('--log-group <name>', 'the log group')
        .option('--timeout <seconds>', 'how long to retry while the key propagates', '300')
        .option('--force', 'replace another key the group already uses'),
      ['logs-kms-guard associate --region eu-west-1 --log-group /aws/lambda/orders'],
    ).action(async function (this: Command) {
      await act(associate)(this);
    });
  },
};
