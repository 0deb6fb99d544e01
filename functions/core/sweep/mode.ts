/**
 * The four modes of a sweep, each an action on the groups it acts on (one file each beside this one): `audit`
 * reads and reports, changing nothing (the CLI, and a scheduled run in dry-run); `enforce` encrypts in-scope
 * groups itself (the CLI, and a scheduled run without a queue); `enqueue` hands them to the enforce function's
 * queue (a scheduled run with one); `rollback` takes the guard's key off its groups (the CLI only). A file of its
 * own because the classification (report.ts), the options (options.ts) and the runs all need it, below them.
 */

/** What the sweep does with the groups it acts on (see the mode files beside this one). */
export type SweepMode = 'audit' | 'enforce' | 'enqueue' | 'rollback';
