import type { Command } from 'commander';
import { type CliCommand, common, examples } from '../context.ts';
import { type DoctorOptions, runDoctor } from '../doctor.ts';

/** `doctor`: the readiness checks of a region's deployment (the checks live in ../doctor.ts). */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  register(program, { act }) {
    examples(
      common(
        program
          .command('doctor')
          .description('Check that a region is ready: trail, rule, queue, DLQ, key, recent failures.'),
      )
        .option('--rule <name>', 'the EventBridge rule (default: found by the CreateLogGroup pattern)')
        .option('--rule-prefix <prefix>', 'name prefix to look for the rule under', 'logs-kms-guard')
        .option(
          '--function <name>',
          'the enforce function, for recent failures (default: found from the queue)',
        ),
      ['logs-kms-guard doctor --region eu-west-1', 'logs-kms-guard doctor --all-regions --json'],
    ).action(async function (this: Command) {
      await act<DoctorOptions>((ctx, opts) => runDoctor(ctx, opts))(this);
    });
  },
};
