/**
 * The session policy of each command that runs across accounts: what `sts:AssumeRole` passes as `Policy`, so a
 * session in another account can do what the command does and nothing else, whatever the role itself allows
 * (OrganizationAccountAccessRole has AdministratorAccess). A session's permissions are the intersection of the
 * role's policies and this one (IAM User Guide, "Session policies"). Pure data, one definition per command, with
 * three placeholders filled per run: `{{Partition}}`, `{{KeyAlias}}` (the guard alias) and `{{SkipTagKey}}`.
 *
 * audit and doctor only read. enforce may also associate keys and create or repair the guard key (the calls the
 * CLI's own enforce makes, docs/CLI.md "Permissions"), never delete or disable one: a key it created and lost the
 * alias race with is left to its owner (the function role retires its own). rollback may only disassociate and tag
 * the group with the opt-out tag. Nothing here lets a session delete a log group, change its retention, or
 * schedule a key's deletion.
 */

import { DOCTOR_READ, ENFORCE_WRITE, READ, ROLLBACK_WRITE } from '../../infra/cli-policies.mjs';

/** The plain-text limit of AssumeRole's `Policy` (STS API reference, AssumeRole: "up to 2,048 characters"). */
export const MAX_SESSION_POLICY_CHARS = 2048;

/** The commands that assume roles in other accounts (`--org`, `--ou`, `--accounts`). */
export type AcrossCommand = 'audit' | 'doctor' | 'enforce' | 'rollback';

export interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One definition per command: the statements of its session policy. */
export const SESSION_POLICIES: Readonly<Record<AcrossCommand, readonly Statement[]>> = {
  audit: [READ],
  doctor: [READ, DOCTOR_READ],
  enforce: [READ, ...ENFORCE_WRITE],
  rollback: [READ, ...ROLLBACK_WRITE],
};

/** What fills the placeholders: the run's partition, guard alias and opt-out tag key. */
export interface SessionPolicyInput {
  partition: string;
  keyAlias: string;
  skipTagKey: string;
}

/** True for the commands that have a session policy (those that run across accounts). */
export function hasSessionPolicy(command: string): command is AcrossCommand {
  return Object.hasOwn(SESSION_POLICIES, command);
}

/** The session policy document of `command` with the placeholders filled, as AssumeRole's `Policy` (compact JSON). */
export function sessionPolicy(command: AcrossCommand, input: SessionPolicyInput): string {
  // Filled into JSON text: each value JSON-escaped (a tag key may hold any character).
  const json = (value: string) => JSON.stringify(value).slice(1, -1);
  const fill = (text: string) =>
    text
      .replaceAll('{{Partition}}', json(input.partition))
      .replaceAll('{{KeyAlias}}', json(input.keyAlias))
      .replaceAll('{{SkipTagKey}}', json(input.skipTagKey));
  const statements = SESSION_POLICIES[command];
  return fill(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
}
