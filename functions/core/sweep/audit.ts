/**
 * The audit's action on a group it would fix: read the group's tags, decide its scope with them, and count it
 * as a candidate when it stays in scope (an opt-out tag puts it out). Nothing changes. Enqueue and enforce
 * start with this same step: tags are read only for the groups a mode would act on.
 */
import { parseArn } from '../arn.ts';
import { decideScope } from '../scope.ts';
import type { Candidate, GroupContext, GroupWork } from './action.ts';
import { readTags } from './listing.ts';

/** Reads the group's tags and decides its scope with them; the candidate when it is in scope, else undefined. */
export async function auditGroup({ report }: GroupWork, ctx: GroupContext): Promise<Candidate | undefined> {
  const tags = await readTags(ctx.clients, report.arn, { bucket: ctx.buckets.tags, clock: ctx.clock });
  if (tags === undefined) {
    report.action = 'group-gone';
    return undefined;
  }
  const scope = decideScope(ctx.config, report.name, tags);
  if (!scope.inScope) {
    report.inScope = false;
    report.scopeReason = scope.reason;
    ctx.count('outOfScope');
    return undefined;
  }
  ctx.count('candidates');
  return {
    name: report.name,
    region: ctx.region,
    account: parseArn(report.arn)?.account || ctx.account || '',
    arn: report.arn,
    ...(report.kmsKeyId ? { kmsKeyId: report.kmsKeyId } : {}),
    tags,
  };
}
