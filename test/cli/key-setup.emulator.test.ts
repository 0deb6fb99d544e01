/**
 * `key setup` says what it changed in the guard key's policy (issue 20, item 6): with `--function-role` on a key
 * whose policy does not name the role yet, the role's statements, not "the CloudWatch Logs statement was added or
 * corrected". functions/cli/program.ts in-process through the real SDK against the account emulator.
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
  // A guard key of an older version: its policy admits CloudWatch Logs but names no enforce role.
  await world.createGuardKey({
    policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account })),
    tags: { ManagedBy: 'logs-kms-guard' },
  });
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

describe('key setup --function-role', () => {
  it('names the statements it wrote (the role statements), then verifies', async () => {
    const role = `arn:aws:iam::${world.account}:role/logs-kms-guard-EnforceRole`;
    const cli = () =>
      testIo({
        clients: defaultClientFactory({ endpoint: world.emulator.endpoint, credentials }),
        env: { AWS_REGION: REGION },
      });
    const t = cli();
    expect(await run(['key', 'setup', '--function-role', role, '--json'], t.io)).toBe(0);
    const action = JSON.parse(t.stdout()).keys[0].action as string;
    expect(action).toMatch(/^policy repaired \(/);
    expect(action).toContain("the enforce role's statement to manage the key added");
    expect(action).toContain("the enforce role's statement to use the key through CloudWatch Logs added");
    expect(action).not.toContain('CloudWatch Logs statement');
    expect(t.stderr()).not.toContain('the CloudWatch Logs statement was added or corrected');
    expect(t.stderr()).toMatch(/key policy repaired: the enforce role's statement/);
    const again = cli();
    expect(await run(['key', 'setup', '--function-role', role, '--json'], again.io)).toBe(0);
    expect(JSON.parse(again.stdout()).keys[0].action).toMatch(/^verified/);
  }, 60_000);
});
