/**
 * The JSON `regions` and `skippedRegions` of an audit across accounts (issue 20, item 6): each region once, and
 * `skippedPairs` naming the account-regions skipped (a region not enabled in one account is not skipped in the
 * others). functions/cli/program.ts in-process through the real SDK against the organization emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { type OrgEmulator, startOrgEmulator } from '../../local/emulator/org.ts';
import { testIo } from './helpers.ts';

const MGMT = '111111111111';
const PROD = '222222222222';
const US_ONLY = '333333333333';
let org: OrgEmulator;

beforeAll(async () => {
  clearKeyCache();
  org = await startOrgEmulator({
    management: MGMT,
    accounts: [
      { id: PROD, name: 'prod' },
      { id: US_ONLY, name: 'us-only', enabledRegions: ['us-east-1'] },
    ],
  });
});
afterAll(async () => {
  await org?.stop();
});

describe('audit --org --json: regions and skipped regions', () => {
  it('regions each once; skippedRegions each once; skippedPairs names account and region', async () => {
    const t = testIo({
      clients: defaultClientFactory({
        endpoint: org.endpoint,
        credentials: { accessKeyId: 'management', secretAccessKey: 'test' },
      }),
      env: { AWS_REGION: 'us-east-1' },
    });
    expect(await run(['audit', '--org', '--regions', 'us-east-1,eu-south-1', '--json', '-q'], t.io)).toBe(0);
    const report = JSON.parse(t.stdout());
    expect(report.regions).toEqual(['us-east-1', 'eu-south-1']);
    expect(report.skippedRegions).toEqual(['eu-south-1']);
    expect(report.skippedPairs).toEqual([
      { account: US_ONLY, region: 'eu-south-1', reason: `eu-south-1 is not enabled for account ${US_ONLY}` },
    ]);
  }, 60_000);
});
