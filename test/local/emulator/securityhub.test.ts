/**
 * The emulator's Security Hub (local/emulator/securityhub.ts) through @aws-sdk/client-securityhub: imports,
 * updates in place (never a second finding for one Id), what BatchImportFindings may not change (Workflow), the
 * documented workflow resets, the per-finding refusals in FailedFindings, the 100-finding limit, a region without
 * Security Hub, and IAM on the product ARN with securityhub:TargetAccount.
 */
import {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { describe, expect, it } from 'vitest';
import { toAsff } from '../../../functions/core/findings/asff.ts';
import { documentOfFinding } from '../../../functions/core/findings/document.ts';
import { ACCOUNT, credentials } from '../../../local/world.ts';
import { sampleFinding } from '../../core/findings/samples.ts';
import { rejection, setup } from './helpers.ts';

const REGION = 'eu-west-1';
const PRODUCT = `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`;

/** An ASFF finding of this account (the samples' account replaced by the emulator's). */
function asff(state: 'ACTIVE' | 'RESOLVED' = 'ACTIVE', name = '/app/one') {
  const f = sampleFinding('group-not-encryptable', state, name);
  return toAsff(
    documentOfFinding({
      ...f,
      account: ACCOUNT,
      region: REGION,
      resource: {
        ...f.resource,
        arn: f.resource.arn.replace('111122223333', ACCOUNT).replace('eu-west-1', REGION),
      },
    }),
  );
}

async function hub(options: Parameters<typeof setup>[0] = {}, accessKeyId = credentials.accessKeyId) {
  const world = await setup(options, REGION);
  const client = new SecurityHubClient({
    region: REGION,
    endpoint: world.emulator.endpoint,
    credentials: { ...credentials, accessKeyId },
    maxAttempts: 1,
  });
  return { world, client, stored: () => world.emulator.state.securityHubFindings(REGION) };
}

describe('Security Hub BatchImportFindings (REST JSON as the SDK speaks it)', () => {
  it('imports, then updates the same Id in place: one finding, whatever the number of imports', async () => {
    const { client, stored } = await hub();
    const first = await client.send(new BatchImportFindingsCommand({ Findings: [asff()] }));
    expect(first).toMatchObject({ FailedCount: 0, SuccessCount: 1, FailedFindings: [] });
    await client.send(new BatchImportFindingsCommand({ Findings: [asff(), asff()] }));
    expect(stored()).toHaveLength(1);
    expect(stored()[0]?.imports).toBe(3);
  });

  it("keeps the Workflow on update (the customer's) and resets RESOLVED to NEW when the finding reopens", async () => {
    const { client, stored } = await hub();
    await client.send(new BatchImportFindingsCommand({ Findings: [asff('RESOLVED')] }));
    expect(stored()[0]?.finding).toMatchObject({
      Workflow: { Status: 'RESOLVED' },
      RecordState: 'ARCHIVED',
      Compliance: { Status: 'PASSED' },
    });
    await client.send(new BatchImportFindingsCommand({ Findings: [asff('ACTIVE')] }));
    // ARCHIVED -> ACTIVE and PASSED -> FAILED: the workflow goes back to NEW (User Guide, workflow status).
    expect(stored()[0]?.finding).toMatchObject({
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED' },
    });
    const got = await client.send(
      new GetFindingsCommand({ Filters: { Id: [{ Value: asff().Id, Comparison: 'EQUALS' }] } }),
    );
    expect(got.Findings).toHaveLength(1);
  });

  it('refuses findings one by one in FailedFindings: another account, another product, a missing field', async () => {
    const { client, stored } = await hub();
    const out = await client.send(
      new BatchImportFindingsCommand({
        Findings: [
          asff(),
          { ...asff('ACTIVE', '/b'), AwsAccountId: '999999999999' },
          {
            ...asff('ACTIVE', '/c'),
            ProductArn: PRODUCT.replace(`product/${ACCOUNT}/default`, 'product/acme/scanner'),
          },
          { ...asff('ACTIVE', '/d'), Title: undefined } as never,
        ],
      }),
    );
    expect(out.SuccessCount).toBe(1);
    expect(out.FailedCount).toBe(3);
    expect(out.FailedFindings?.map((f) => f.ErrorCode)).toEqual([
      'AccessDenied',
      'AccessDenied',
      'InvalidInput',
    ]);
    expect(stored()).toHaveLength(1);
  });

  it('refuses more than 100 findings in one request, and a region without Security Hub', async () => {
    const { client, world } = await hub();
    const many = Array.from({ length: 101 }, (_, i) => asff('ACTIVE', `/g/${i}`));
    expect((await rejection(client.send(new BatchImportFindingsCommand({ Findings: many })))).name).toBe(
      'InvalidInputException',
    );
    world.emulator.state.setSecurityHubEnabled(REGION, false);
    expect((await rejection(client.send(new BatchImportFindingsCommand({ Findings: [asff()] })))).name).toBe(
      'InvalidAccessException',
    );
  });
});

describe('Security Hub authorization (iam)', () => {
  const role = (statement: object) => ({
    arn: `arn:aws:iam::${ACCOUNT}:role/findings`,
    policies: [{ name: 'p', policy: { Version: '2012-10-17', Statement: [statement] } }],
  });
  const grant = {
    Effect: 'Allow',
    Action: 'securityhub:BatchImportFindings',
    Resource: 'arn:aws:securityhub:*:*:product/*/default',
    Condition: { StringEquals: { 'securityhub:TargetAccount': ACCOUNT } },
  };

  it("allows BatchImportFindings on the product ARN for the findings' account (the template's grant)", async () => {
    const { client, stored } = await hub(
      { iam: { principals: { AKIDFINDINGS: role({ ...grant, Resource: PRODUCT }) }, admins: [] } },
      'AKIDFINDINGS',
    );
    await client.send(new BatchImportFindingsCommand({ Findings: [asff()] }));
    expect(stored()).toHaveLength(1);
  });

  it('denies it without the grant, and for findings of another target account', async () => {
    const none = await hub(
      {
        iam: {
          principals: { AKIDX: role({ Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*' }) },
          admins: [],
        },
      },
      'AKIDX',
    );
    expect(
      (await rejection(none.client.send(new BatchImportFindingsCommand({ Findings: [asff()] })))).name,
    ).toBe('AccessDeniedException');
    const scoped = await hub(
      {
        iam: {
          principals: {
            AKIDY: role({
              ...grant,
              Condition: { StringEquals: { 'securityhub:TargetAccount': '999999999999' } },
            }),
          },
          admins: [],
        },
      },
      'AKIDY',
    );
    expect(
      (await rejection(scoped.client.send(new BatchImportFindingsCommand({ Findings: [asff()] })))).name,
    ).toBe('AccessDeniedException');
    expect(scoped.stored()).toEqual([]);
  });
});
