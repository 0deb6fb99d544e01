/**
 * The CLI's own error kind: a mistake in the command line or configuration, which the program turns into exit
 * code 2 and one line on stderr (AWS failures and findings have their own exit codes).
 */

/** A mistake in the command line or configuration (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}
