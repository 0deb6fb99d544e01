/**
 * The enforce mode's action (the CLI's `enforce`, and the scheduled sweep without a queue): a group that stays
 * a candidate once its tags are read is encrypted here and now by the core's enforceLogGroup, paced under the
 * AssociateKmsKey bucket and bounded by the group's own deadline.
 */
import { enforceLogGroup } from '../enforce.ts';
import type { GroupContext, GroupWork } from './action.ts';
import { auditGroup } from './audit.ts';

/** Audits the group and, when it is a candidate, brings it under the guard's key. */
export async function enforceGroup(work: GroupWork, ctx: GroupContext): Promise<void> {
  const candidate = await auditGroup(work, ctx);
  if (!candidate) return;
  const { report, group } = work;
  const result = await enforceLogGroup(
    {
      name: report.name,
      region: ctx.region,
      account: candidate.account,
      tags: candidate.tags,
      // Read by the audit step just now: no second ListTagsForResource.
      tagsCurrent: true,
      currentKmsKeyId: group.kmsKeyId || null,
    },
    {
      clients: ctx.clients,
      config: ctx.config,
      log: ctx.log,
      deadline: ctx.deadline(),
      clock: ctx.clock,
      associateBucket: ctx.buckets.associate,
      keyCreator: ctx.keyCreator,
    },
  );
  report.action = result.outcome;
  report.detail = result.reason;
}
