/**
 * `audit`'s and `doctor`'s view of previous keys (functions/cli/key-history.ts) run in-process against the
 * emulator: groups whose data from before their key changed needs a key now disabled or pending deletion, found
 * from the guard's record on the group and, best effort, from CloudTrail's event history (LookupEvents) for a
 * group the guard never saw change key. Retention that has removed the data, and a deleted group, need nothing.
 */
import {
  AssociateKmsKeyCommand,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DisassociateKmsKeyCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { PREV_KEY_TAG_PREFIX } from '../../functions/core/key-record.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { credentials, REGION, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** A world with two keys Logs may use: A (the one that will be lost) and B (the groups' key now). */
async function scene() {
  clearKeyCache();
  world = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 } });
  const policy = JSON.stringify(
    defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account }),
  );
  const a = world.emulator.state.createKeyDirect(REGION, { policy });
  const b = world.emulator.state.createKeyDirect(REGION, { policy });
  const cli = () =>
    testIo({
      clients: defaultClientFactory({ endpoint: (world as World).emulator.endpoint, credentials }),
      env: { AWS_REGION: REGION },
    });
  return { world, a, b, cli };
}

const twoDaysAgo = () => `${new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 19)}Z`;

describe('audit: groups depending on a previous key that is disabled or pending deletion', () => {
  it('lists the recorded group and the one CloudTrail shows; not expired, not deleted; exits 1', async () => {
    // Prepare
    const { world: w, a, b, cli } = await scene();
    const record = { [`${PREV_KEY_TAG_PREFIX}${a.keyId}`]: twoDaysAgo() };
    w.emulator.state.putLogGroup(REGION, '/moved/override', { kmsKeyId: b.arn, tags: record });
    w.emulator.state.putLogGroup(REGION, '/moved/expired', {
      kmsKeyId: b.arn,
      tags: record,
      retentionInDays: 1,
    });
    w.emulator.state.putLogGroup(REGION, '/moved/deleted', { kmsKeyId: b.arn, tags: record });
    await w.logs.send(new DeleteLogGroupCommand({ logGroupName: '/moved/deleted' }));
    // Never seen by the guard: created on A, then moved to B by someone (CloudTrail has both calls).
    await w.logs.send(new CreateLogGroupCommand({ logGroupName: '/moved/terraform', kmsKeyId: a.arn }));
    await w.logs.send(new AssociateKmsKeyCommand({ logGroupName: '/moved/terraform', kmsKeyId: b.arn }));
    // Created on A and disassociated, then deleted and made again: nothing of the old data is left.
    await w.logs.send(new CreateLogGroupCommand({ logGroupName: '/remade', kmsKeyId: a.arn }));
    await w.logs.send(new DisassociateKmsKeyCommand({ logGroupName: '/remade' }));
    await w.logs.send(new DeleteLogGroupCommand({ logGroupName: '/remade' }));
    await w.logs.send(new CreateLogGroupCommand({ logGroupName: '/remade' }));
    await w.kms.send(new ScheduleKeyDeletionCommand({ KeyId: a.keyId, PendingWindowInDays: 7 }));
    const t = cli();

    // Act
    const code = await run(['audit', '--json', '--key-records'], t.io);

    // Assess
    expect(code).toBe(1);
    const err = t.stderr();
    expect(err).toContain('2 log group(s) depend on a previous key that is disabled or pending deletion');
    expect(err).toMatch(
      /\/moved\/override: .*needs arn:aws:kms:.*PendingDeletion \(unreadable from .*\[guard record\]/,
    );
    expect(err).toMatch(/\/moved\/terraform: .*PendingDeletion.*\[CloudTrail, best effort\]/);
    expect(err).not.toContain('/moved/expired');
    expect(err).not.toContain('/moved/deleted');
    expect(err).not.toContain('/remade');

    // Without --key-records: CloudTrail only (no tag read for the view); the recorded-only group is not seen.
    const plain = cli();
    expect(await run(['audit', '--json'], plain.io)).toBe(1);
    expect(plain.stderr()).toMatch(/\/moved\/terraform: .*\[CloudTrail, best effort\]/);
    expect(plain.stderr()).not.toContain('/moved/override');
  });

  it('a disabled previous key; a group on it whose retention still keeps the data', async () => {
    // Prepare
    const { world: w, a, b, cli } = await scene();
    w.emulator.state.putLogGroup(REGION, '/moved/kept', {
      kmsKeyId: b.arn,
      tags: { [`${PREV_KEY_TAG_PREFIX}${a.keyId}`]: twoDaysAgo() },
    });
    await w.logs.send(new PutRetentionPolicyCommand({ logGroupName: '/moved/kept', retentionInDays: 7 }));
    await w.kms.send(new DisableKeyCommand({ KeyId: a.keyId }));
    const t = cli();

    // Act
    const code = await run(['audit', '--json', '--key-records'], t.io);

    // Assess
    expect(code).toBe(1);
    expect(t.stderr()).toMatch(/\/moved\/kept: .*which is Disabled \[guard record\]/);
  });

  it("without --key-records the region is listed once: CloudTrail's groups are described one by one", async () => {
    // Prepare: 300 groups (6 pages of 50) and one group CloudTrail shows moving off a key now pending deletion
    const { world: w, a, b, cli } = await scene();
    for (let i = 0; i < 300; i++) w.emulator.state.putLogGroup(REGION, `/many/${i}`, { kmsKeyId: b.arn });
    await w.logs.send(new CreateLogGroupCommand({ logGroupName: '/moved/terraform', kmsKeyId: a.arn }));
    await w.logs.send(new AssociateKmsKeyCommand({ logGroupName: '/moved/terraform', kmsKeyId: b.arn }));
    await w.kms.send(new ScheduleKeyDeletionCommand({ KeyId: a.keyId, PendingWindowInDays: 7 }));
    const t = cli();
    const from = w.emulator.calls.length;

    // Act
    const code = await run(['audit', '--json'], t.io);

    // Assess: the audit's own listing (7 pages) and one exact look-up, not a second listing of the region
    expect(code).toBe(1);
    expect(t.stderr()).toMatch(/\/moved\/terraform: .*\[CloudTrail, best effort\]/);
    const describes = w.emulator.calls.slice(from).filter((c) => c.operation === 'DescribeLogGroups');
    expect(describes.length).toBeLessThanOrEqual(7 + 1 + 2);
  });

  it('nothing depends on an unusable previous key: exit 0, no view', async () => {
    // Prepare
    const { world: w, b, cli } = await scene();
    w.emulator.state.putLogGroup(REGION, '/fine', { kmsKeyId: b.arn });
    const t = cli();

    // Act
    const code = await run(['audit', '--json', '--key-records'], t.io);

    // Assess
    expect(code).toBe(0);
    expect(t.stderr()).not.toContain('previous key');
  });
});

describe('doctor: key-dependencies', () => {
  it('fails naming the group and the fix when a previous key is disabled', async () => {
    // Prepare
    const { world: w, a, b, cli } = await scene();
    w.emulator.state.putLogGroup(REGION, '/moved/doctor', {
      kmsKeyId: b.arn,
      tags: { [`${PREV_KEY_TAG_PREFIX}${a.keyId}`]: twoDaysAgo() },
    });
    await w.kms.send(new DisableKeyCommand({ KeyId: a.keyId }));
    const t = cli();

    // Act
    const code = await run(['doctor', '--json'], t.io);

    // Assess
    expect(code).toBe(1);
    const checks = JSON.parse(t.stdout()).checks as {
      check: string;
      status: string;
      detail: string;
      fix?: string;
    }[];
    const check = checks.find((c) => c.check === 'key-dependencies');
    expect(check).toMatchObject({ status: 'fail', fix: `aws kms enable-key --key-id ${a.arn}` });
    expect(check?.detail).toMatch(
      /1 log group\(s\) hold data under a previous key .*\/moved\/doctor: .*Disabled/,
    );
  });
});
