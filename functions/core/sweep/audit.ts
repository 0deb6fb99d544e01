/**
 * The audit's action on a group it would fix: read the group's tags, decide its scope with them, and count it
 * as a candidate when it stays in scope (an opt-out tag puts it out). Nothing changes. Enqueue and enforce
 * start with this same step: tags are read only for the groups a mode would act on. The CLI's audit may skip
 * the tag read (`auditGroupByName`, `audit --skip-opt-out-check`): then the name alone decides.
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
  return candidateOf(report, ctx, tags);
}

/** The audit without the tag read: a group in scope by its name is a candidate, whatever its opt-out tag says. */
export async function auditGroupByName({ report }: GroupWork, ctx: GroupContext): Promise<Candidate> {
  return candidateOf(report, ctx, {});
}

/** Counts the group as a candidate (and marks its report so) and returns it. */
function candidateOf(
  report: GroupWork['report'],
  ctx: GroupContext,
  tags: Record<string, string>,
): Candidate {
  ctx.count('candidates');
  report.candidate = true;
  return {
    name: report.name,
    region: ctx.region,
    account: parseArn(report.arn)?.account || ctx.account || '',
    arn: report.arn,
    ...(report.kmsKeyId ? { kmsKeyId: report.kmsKeyId } : {}),
    tags,
  };
}
