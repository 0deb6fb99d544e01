/** The list of the CLI's commands: one file per command in this folder, registered by program.ts in this order. */
import type { CliCommand } from '../context.ts';
import { associateCommand } from './associate.ts';
import { auditCommand } from './audit.ts';
import { disassociateCommand } from './disassociate.ts';
import { doctorCommand } from './doctor.ts';
import { enforceCommand } from './enforce.ts';
import { keySetupCommand } from './key-setup.ts';
import { rollbackCommand } from './rollback.ts';

/** Every command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [
  auditCommand,
  enforceCommand,
  rollbackCommand,
  doctorCommand,
  keySetupCommand,
  associateCommand,
  disassociateCommand,
];
