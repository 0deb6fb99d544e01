/**
 * The CloudTrail check: without a trail logging management write events in the region, no CreateLogGroup event
 * reaches EventBridge, and only the scheduled sweep finds new log groups.
 */
import {
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  type GetEventSelectorsCommandOutput,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { type CheckInput, type CheckResult, couldNot, finding } from './check.ts';

/** `cloudtrail`: some trail that covers the region is logging and records management write events. */
export async function checkCloudTrail({
  clients,
  region,
}: Pick<CheckInput, 'clients' | 'region'>): Promise<CheckResult> {
  try {
    const trails =
      (await clients.cloudtrail().send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ??
      [];
    const here = trails.filter((t) => t.IsMultiRegionTrail || t.HomeRegion === region);
    const good: string[] = [];
    const notes: string[] = [];
    for (const trail of here) {
      const id = trail.TrailARN ?? trail.Name ?? '';
      const status = await clients.cloudtrail().send(new GetTrailStatusCommand({ Name: id }));
      if (!status.IsLogging) {
        notes.push(`${trail.Name} is not logging`);
        continue;
      }
      const selectors = await clients.cloudtrail().send(new GetEventSelectorsCommand({ TrailName: id }));
      if (logsManagementWrites(selectors)) good.push(trail.Name ?? id);
      else notes.push(`${trail.Name} does not log management write events`);
    }
    if (good.length > 0)
      return {
        findings: [finding('cloudtrail', 'ok', `trail ${good.join(', ')} logs management write events here`)],
      };
    return {
      findings: [
        finding(
          'cloudtrail',
          'fail',
          `no trail logs management write events in ${region}${notes.length ? ` (${notes.join('; ')})` : ''}: CreateLogGroup events never reach EventBridge; only the scheduled sweep finds new groups`,
          'create a multi-region trail with management events (read/write: All or WriteOnly) and start logging',
        ),
      ],
    };
  } catch (err) {
    return { findings: [couldNot('cloudtrail', err)] };
  }
}

/** True when a trail's basic or advanced event selectors record management write events; pure. */
export function logsManagementWrites(
  out: Pick<GetEventSelectorsCommandOutput, 'EventSelectors' | 'AdvancedEventSelectors'>,
): boolean {
  if (out.EventSelectors?.some((s) => s.IncludeManagementEvents !== false && s.ReadWriteType !== 'ReadOnly'))
    return true;
  return (
    out.AdvancedEventSelectors?.some((a) => {
      const fields = a.FieldSelectors ?? [];
      const management = fields.some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Management'));
      const readOnly = fields.some((f) => f.Field === 'readOnly' && f.Equals?.includes('true'));
      return management && !readOnly;
    }) ?? false
  );
}
