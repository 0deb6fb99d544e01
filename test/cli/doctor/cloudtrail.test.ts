/**
 * The doctor's CloudTrail check (functions/cli/doctor/cloudtrail.ts) against aws-sdk-client-mock: ok, fail or
 * warn by the trails that cover the region, and how basic and advanced event selectors are read as logging
 * management write events.
 */
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../../functions/cli/aws.ts';
import { checkCloudTrail, logsManagementWrites } from '../../../functions/cli/doctor/cloudtrail.ts';
import { REGION } from '../../../local/world.ts';

const cloudtrail = mockClient(CloudTrailClient);
const trails = {
  trailList: [
    {
      Name: 'org-trail',
      TrailARN: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail',
      IsMultiRegionTrail: true,
    },
    { Name: 'elsewhere', HomeRegion: 'eu-west-1' },
  ],
};

describe('checkCloudTrail', () => {
  beforeEach(() => {
    cloudtrail.reset();
  });

  it('is ok when a trail covering the region logs management write events', async () => {
    // Prepare
    cloudtrail.on(DescribeTrailsCommand).resolves(trails);
    cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
    cloudtrail.on(GetEventSelectorsCommand).resolves({ EventSelectors: [{ ReadWriteType: 'All' }] });

    // Act
    const result = await checkCloudTrail({ clients: defaultClientFactory()(REGION), region: REGION });

    // Assess
    expect(result.findings).toEqual([
      { check: 'cloudtrail', status: 'ok', detail: 'trail org-trail logs management write events here' },
    ]);
    // The trail homed in another region is not asked about.
    expect(cloudtrail.commandCalls(GetTrailStatusCommand)).toHaveLength(1);
  });

  it('fails naming why each trail does not count', async () => {
    // Prepare
    cloudtrail.on(DescribeTrailsCommand).resolves(trails);
    cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: false });

    // Act
    const result = await checkCloudTrail({ clients: defaultClientFactory()(REGION), region: REGION });

    // Assess
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ check: 'cloudtrail', status: 'fail' });
    expect(result.findings[0]?.detail).toContain(
      `no trail logs management write events in ${REGION} (org-trail is not logging)`,
    );
    expect(result.findings[0]?.fix).toContain('create a multi-region trail');
  });

  it('warns that it could not check when CloudTrail refuses', async () => {
    // Prepare
    cloudtrail
      .on(DescribeTrailsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));

    // Act
    const result = await checkCloudTrail({ clients: defaultClientFactory()(REGION), region: REGION });

    // Assess
    expect(result.findings).toEqual([
      {
        check: 'cloudtrail',
        status: 'warn',
        detail: expect.stringMatching(/^could not check: access denied/),
      },
    ]);
  });
});

describe('logsManagementWrites', () => {
  it('reads basic selectors: management events not read-only', () => {
    // Prepare
    const all = { EventSelectors: [{ ReadWriteType: 'All' as const }] };
    const readOnly = { EventSelectors: [{ ReadWriteType: 'ReadOnly' as const }] };
    const noManagement = { EventSelectors: [{ IncludeManagementEvents: false }] };

    // Act
    const answers = [all, readOnly, noManagement].map(logsManagementWrites);

    // Assess
    expect(answers).toEqual([true, false, false]);
  });

  it('reads advanced selectors: the Management category without readOnly=true', () => {
    // Prepare
    const management = { Field: 'eventCategory', Equals: ['Management'] };
    const writes = { AdvancedEventSelectors: [{ FieldSelectors: [management] }] };
    const reads = {
      AdvancedEventSelectors: [{ FieldSelectors: [management, { Field: 'readOnly', Equals: ['true'] }] }],
    };

    // Act
    const answers = [writes, reads, {}].map(logsManagementWrites);

    // Assess
    expect(answers).toEqual([true, false, false]);
  });
});
