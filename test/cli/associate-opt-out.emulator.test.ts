/**
 * `associate` reads the group's tags right before associating (issue 19, item 3): a group tagged with the
 * opt-out tag is left alone and the CLI says how to take the tag off; an untagged one is encrypted.
 * functions/cli/program.ts in-process through the real SDK against the account emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { credentials, REGION, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let world: World;

beforeAll(async () => {
  clearKeyCache();
  world = await startWorld();
  world.emulator.state.putLogGroup(REGION, '/team/opted-out', { tags: { 'logs-kms-guard:skip': 'true' } });
  world.emulator.state.putLogGroup(REGION, '/team/plain');
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

/** The CLI against the emulator. */
function cli() {
  return testIo({
    clients: defaultClientFactory({ endpoint: world.emulator.endpoint, credentials }),
    env: { AWS_REGION: REGION },
  });
}

const keyOf = (name: string) => world.emulator.state.logGroups(REGION).find((g) => g.name === name)?.kmsKeyId;

describe('associate and the opt-out tag', () => {
  it('leaves a group carrying the opt-out tag alone, exit 1, naming the tag and how to remove it', async () => {
    const t = cli();
    expect(await run(['associate', '--log-group', '/team/opted-out', '--json'], t.io)).toBe(1);
    expect(JSON.parse(t.stdout())).toMatchObject({
      status: 'out-of-scope',
      reason: 'tagged logs-kms-guard:skip=true',
    });
    expect(t.stderr()).toContain('untag-resource');
    expect(t.stderr()).toContain('--tag-keys logs-kms-guard:skip');
    expect(keyOf('/team/opted-out')).toBeUndefined();
    const associations = world.emulator.calls.filter((c) => c.operation === 'AssociateKmsKey');
    expect(associations).toHaveLength(0);
  }, 60_000);

  it('encrypts a group without it', async () => {
    const t = cli();
    expect(await run(['associate', '--log-group', '/team/plain', '--json'], t.io)).toBe(0);
    expect(JSON.parse(t.stdout())).toMatchObject({ status: 'associated' });
    expect(keyOf('/team/plain')).toMatch(/^arn:aws:kms:/);
  }, 120_000);
});
