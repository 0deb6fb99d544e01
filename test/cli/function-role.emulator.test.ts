/**
 * `key setup` names the function role of each region before the stack exists (issue 19, item 1): through the
 * in-process CLI (functions/cli/program.ts) and the real SDK against the account emulator with IAM on, which
 * refuses a key policy whose Principal names a role that does not exist ("invalid principals").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { defaultFunctionRole } from '../../functions/cli/function-role.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { statementRoles } from '../../functions/core/policy.ts';
import { credentials, GUARD_ALIAS, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

const REGIONS = ['us-east-1', 'eu-west-1'];
let world: World;

beforeAll(async () => {
  clearKeyCache();
  world = await startWorld({ iam: true });
  // The single-account emulator serves no STS: the CLI reads the account from a log group's ARN.
  for (const region of REGIONS) world.emulator.state.putLogGroup(region, '/app/one', {});
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

const cli = () =>
  testIo({
    clients: defaultClientFactory({ endpoint: world.emulator.endpoint, credentials }),
    env: { AWS_REGION: 'us-east-1' },
  });

/** The roles the guard key's policy names in a region. */
const named = (region: string) => {
  const key = world.emulator.state.key(region, GUARD_ALIAS);
  const policy = JSON.parse(key?.policy ?? '{"Statement":[]}') as { Statement: Record<string, unknown>[] };
  return [...new Set(policy.Statement.flatMap((s) => statementRoles(s)))];
};

describe('key setup names the function role of each region', () => {
  it('without --function-role: the template name of the region, though no such role exists yet', async () => {
    const t = cli();
    expect(await run(['key', 'setup', '--regions', REGIONS.join(','), '--json'], t.io), t.stderr()).toBe(0);
    for (const region of REGIONS) expect(named(region)).toEqual([defaultFunctionRole(world.account, region)]);
    expect(t.stderr()).not.toContain('without a function role');
  }, 60_000);

  it('--function-role of the template form: the same role name in each region', async () => {
    const dev = `arn:aws:iam::${world.account}:role/logs-kms-guard-dev-enforce-us-east-1`;
    const t = cli();
    expect(
      await run(['key', 'setup', '--regions', REGIONS.join(','), '--function-role', dev, '--json'], t.io),
      t.stderr(),
    ).toBe(0);
    for (const region of REGIONS)
      expect(named(region)).toEqual(
        [
          defaultFunctionRole(world.account, region),
          `arn:aws:iam::${world.account}:role/logs-kms-guard-dev-enforce-${region}`,
        ].sort(),
      );
  }, 60_000);
});
