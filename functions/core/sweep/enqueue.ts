/**
 * The enqueue mode's action (the scheduled sweep with a queue): a group that stays a candidate once its tags
 * are read is queued for the enforce function; the page's candidates are handed over together when the page
 * is done, and a page that could not be handed over is not finished (its checkpoint stays before it).
 */

import type { Candidate, GroupContext, GroupWork } from './action.ts';
import { auditGroup } from './audit.ts';
import type { GroupReport } from './report.ts';

/** Audits the group and, when it is a candidate, adds it to the page's queue. */
export async function enqueueGroup(work: GroupWork, ctx: GroupContext): Promise<void> {
  const candidate = await auditGroup(work, ctx);
  if (!candidate) return;
  ctx.queue.push(candidate);
  work.report.action = 'queued';
}

/**
 * Hands a finished page's candidates to `enqueue`; the error when it failed, after taking back the page's
 * `queued` actions (nothing of the page was queued).
 */
export async function sendQueue(
  candidates: Candidate[],
  reports: GroupReport[],
  enqueue: ((candidates: Candidate[]) => Promise<void>) | undefined,
): Promise<Error | undefined> {
  if (candidates.length === 0 || !enqueue) return undefined;
  try {
    await enqueue(candidates);
    return undefined;
  } catch (err) {
    for (const r of reports) if (r.action === 'queued') r.action = 'none';
    return err as Error;
  }
}
