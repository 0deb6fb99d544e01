/**
 * `doctor` against the account emulator, which serves neither STS nor CloudTrail nor EventBridge (issue 20, item
 * 6): each check says which call the endpoint did not serve, naming the endpoint, instead of the SDK's raw
 * "XML parse error … $response"; nothing fails, and the key checks still run. functions/cli/program.ts
 * in-process through the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { credentials, REGION, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let world: World;

beforeAll(async () => {
  clearKeyCache();
  world = await startWorld();
  await world.createGuardKey({
    policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account })),
  });
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

describe('doctor against an endpoint that does not serve every service', () => {
  it('names the call and the endpoint, never the SDK parse error; exit 0', async () => {
    const endpoint = world.emulator.endpoint;
    const t = testIo({
      clients: defaultClientFactory({ endpoint, credentials }),
      env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: endpoint },
    });
    expect(await run(['doctor', '--json'], t.io)).toBe(0);
    const checks = JSON.parse(t.stdout()).checks as { check: string; status: string; detail: string }[];
    const detail = (name: string) => checks.find((c) => c.check === name)?.detail ?? '';
    const at = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
    expect(detail('credentials')).toBe(
      `could not check with STS: the service did not answer sts:GetCallerIdentity at ${at} in a form the SDK reads: is that an endpoint that serves sts? (an emulator may not); account ${world.account} read from an ARN instead`,
    );
    expect(detail('cloudtrail')).toBe(
      `could not check: the endpoint at ${at} does not serve cloudtrail:DescribeTrails (UnknownOperationException): is that an endpoint that serves cloudtrail? (an emulator may not)`,
    );
    expect(detail('rule')).toMatch(/^could not check: the endpoint at .* does not serve events:ListRules/);
    expect(checks.find((c) => c.check === 'key')?.status).toBe('ok');
    expect(t.stdout()).not.toMatch(/XML parse error|\$response|Deserialization/);
  }, 60_000);
});
