/**
 * The rollback mode's action (the CLI's `rollback`) on a group encrypted with the guard's key: tag it out of
 * scope and remove the key (disassociate.ts), or, in a dry run, only say so. Tags and scope play no part: a
 * rollback takes the guard's key back wherever it is.
 */
import { disassociateKey } from '../disassociate.ts';
import type { GroupContext, GroupWork } from './action.ts';

/** Takes the guard's key back from the group (`would-disassociate` in a dry run). */
export async function rollbackGroup({ report }: GroupWork, ctx: GroupContext): Promise<void> {
  if (ctx.config.dryRun) {
    report.action = 'would-disassociate';
    return;
  }
  const done = await disassociateKey(ctx.clients, report.name, {
    bucket: ctx.buckets.disassociate,
    clock: ctx.clock,
    deadline: ctx.deadline(),
    optOut: { arn: report.arn, tagKey: ctx.config.skipTagKey },
    // The data so far stays under the guard key: recorded in the same TagResource (key-record.ts).
    ...(report.kmsKeyId
      ? {
          record: { arn: report.arn, previousKey: report.kmsKeyId, log: ctx.log },
        }
      : {}),
  });
  report.action = done === 'gone' ? 'group-gone' : 'disassociated';
}
