/**
 * The program: every command registered with commander, the flags turned into a `Ctx`, and every error turned
 * into its exit code and one line on stderr. `run` is the whole CLI, in-process.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, GuardError } from '../core/errors.ts';
import { stoppedBySignal } from '../core/sweep/page-loop.ts';
import { describeAwsError, isAwsFailure } from './aws.ts';
import { commands } from './commands/index.ts';
import {
  type CommandDeps,
  type CommonFlags,
  type Ctx,
  context,
  EXIT,
  envFromFlags,
  examples,
} from './context.ts';
import { UsageError } from './errors.ts';
import type { Io } from './io.ts';
import { inUserTerms } from './validate.ts';
import { VERSION } from './version.ts';

/** Builds the commander program; `setCode` receives each command's exit code. */
export function buildProgram(io: Io, argv: string[], setCode: (code: number) => void): Command {
  const program = new Command('logs-kms-guard')
    .description('Keeps every CloudWatch Logs log group encrypted with a customer-managed KMS key.')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  examples(program, [
    'logs-kms-guard audit --region eu-west-1',
    'logs-kms-guard audit --org --regions eu-west-1,us-east-1 --format html --out report.html',
    'logs-kms-guard enforce --org --regions eu-west-1,us-east-1 --yes',
    'logs-kms-guard enforce --all-regions --dry-run',
    'logs-kms-guard doctor --region eu-west-1',
  ]);
  const deps: CommandDeps = {
    act:
      <T>(fn: (ctx: Ctx, opts: T) => Promise<number>) =>
      async (cmd: Command) => {
        const opts = cmd.opts() as CommonFlags & T;
        try {
          setCode(await fn(await context(io, argv, opts), opts));
        } catch (e) {
          // A configuration mistake names the flag the user typed, or the variable they set (validate.ts).
          if (e instanceof ConfigError)
            throw new UsageError(inUserTerms(e.message, new Set(Object.keys(envFromFlags(opts)))), {
              cause: e,
            });
          throw e;
        }
      },
  };
  for (const command of commands) command.register(program, deps);
  return program;
}

/** Runs the CLI in-process; resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, argv, (c) => {
    code = c;
  });
  const err = (text: string) => io.stderr.write(`error: ${text}\n`);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(e.message);
      return EXIT.usage;
    }
    if (e instanceof GuardError && !isAwsFailure(e)) {
      err(e.message);
      return EXIT.findings;
    }
    // Ctrl-C before anything was listed (the caller's identity, the organization): stopped, nothing to resume.
    if (stoppedBySignal(e, io)) {
      io.stderr.write('interrupted before anything was listed: nothing to resume\n');
      return EXIT.interrupted;
    }
    const endpoint = io.env.AWS_ENDPOINT_URL;
    const profile = io.env.AWS_PROFILE;
    err(describeAwsError(e, { ...(endpoint ? { endpoint } : {}), ...(profile ? { profile } : {}) }));
    return isAwsFailure(e) ? EXIT.aws : EXIT.findings;
  }
}
