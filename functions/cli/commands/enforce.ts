/** `enforce`: the backfill over every account × region (the run itself is bulk.ts). */
import type { CliCommand } from '../context.ts';
import { registerBulk } from './bulk.ts';

/** `enforce`: the backfill, associating the guard key with every unencrypted group in scope. */
export const enforceCommand: CliCommand = {
  name: 'enforce',
  register(program, deps) {
    registerBulk(
      program,
      deps,
      'enforce',
      'Encrypt every unencrypted log group in scope with the guard key (the backfill), paced under the quotas.',
      [
        'logs-kms-guard enforce --region eu-west-1 --dry-run',
        'logs-kms-guard enforce --region eu-west-1 --yes',
        'logs-kms-guard enforce --regions eu-west-1,eu-central-1 --exclude /aws/lambda/legacy- --yes',
      ],
    );
  },
};
