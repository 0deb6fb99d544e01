/**
 * A sweep of one region in any of its modes, as the CLI, the benchmark and the tests run it: sweep() gives the
 * page loop (page-loop.ts) the mode's action (audit.ts, enforce.ts, enqueue.ts, rollback.ts) and, when asked,
 * the audit's key checks (key-risk.ts). The scheduled Lambda runs the page loop with its own modes (run.ts).
 */
import type { GroupAction } from './action.ts';
import { auditGroup, auditGroupByName } from './audit.ts';
import { enforceGroup } from './enforce.ts';
import { enqueueGroup } from './enqueue.ts';
import { createKeyRiskChecks } from './key-risk.ts';
import type { SweepMode } from './mode.ts';
import type { SweepOptions, SweepResult } from './options.ts';
import { sweepPages } from './page-loop.ts';
import { rollbackGroup } from './rollback.ts';

/** Each mode's action on a group it acts on. */
const MODE_ACTIONS: Record<SweepMode, GroupAction> = {
  audit: auditGroup,
  enforce: enforceGroup,
  enqueue: enqueueGroup,
  rollback: rollbackGroup,
};

/** Lists, classifies and acts in `options.mode`, page by page, until the end, the signal or the deadline. */
export function sweep(options: SweepOptions): Promise<SweepResult> {
  const { clients, region, account, log } = options;
  const risks = options.checkKeys ? createKeyRiskChecks({ clients, region, account, log }) : undefined;
  const act =
    options.mode === 'audit' && options.skipOptOutCheck ? auditGroupByName : MODE_ACTIONS[options.mode];
  return sweepPages(options, act, risks);
}
