/**
 * Shell quoting for the command lines the CLI prints for people to paste (the resume command): an argument
 * with spaces or quotes must come back as the same single argument.
 */

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
