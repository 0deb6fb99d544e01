/** `rollback`: the escape hatch over every account × region (the run itself is bulk.ts). */
import type { CliCommand } from '../context.ts';
import { registerBulk } from './bulk.ts';

/** `rollback`: the escape hatch, disassociating the guard key from every group that uses it. */
export const rollbackCommand: CliCommand = {
  name: 'rollback',
  register(program, deps) {
    registerBulk(
      program,
      deps,
      'rollback',
      'Disassociate the guard key from every log group that uses it (the escape hatch); the key itself is kept.',
      [
        'logs-kms-guard rollback --region eu-west-1 --dry-run',
        'logs-kms-guard rollback --region eu-west-1 --yes',
      ],
    );
  },
};
