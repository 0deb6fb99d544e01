/**
 * Log groups as they are in 2026, through the CLI in-process (functions/cli/program.ts `run`) against the
 * emulator: one group of each log class (STANDARD, INFREQUENT_ACCESS, ESSENTIALS, DELIVERY), created through
 * CreateLogGroup, and deletion protection (PutLogGroupDeletionProtection). `enforce` encrypts the classes that
 * take a key and reports the DELIVERY group as not encryptable (the emulator refuses a key for it, an
 * assumption stated in local/emulator/logs.ts): no failure, no retry. `audit` shows each group's class and
 * which encrypted groups are deletion-protected.
 */
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutLogGroupDeletionProtectionCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import type { AuditRow } from '../../functions/cli/report.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { credentials, GUARD_ALIAS, REGION, startWorld, type World } from '../../local/world.ts';
import { testIo } from './helpers.ts';

const CLASSES = ['STANDARD', 'INFREQUENT_ACCESS', 'ESSENTIALS', 'DELIVERY'] as const;
let world: World;

function cli() {
  return testIo({
    clients: defaultClientFactory({ endpoint: world.emulator.endpoint, credentials }),
    env: { AWS_REGION: REGION },
  });
}

describe('log groups of each class (emulator)', () => {
  beforeAll(async () => {
    clearKeyCache();
    world = await startWorld({ emulator: { propagationDelayMs: 50, throttle: false } });
    for (const logGroupClass of CLASSES) {
      await world.logs.send(
        new CreateLogGroupCommand({ logGroupName: `/cls/${logGroupClass}`, logGroupClass }),
      );
    }
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('DescribeLogGroups reports each class as created (the emulator once said STANDARD for all)', async () => {
    const out = await world.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/cls/' }));
    expect(Object.fromEntries(out.logGroups?.map((g) => [g.logGroupName, g.logGroupClass]) ?? [])).toEqual({
      '/cls/DELIVERY': 'DELIVERY',
      '/cls/ESSENTIALS': 'ESSENTIALS',
      '/cls/INFREQUENT_ACCESS': 'INFREQUENT_ACCESS',
      '/cls/STANDARD': 'STANDARD',
    });
  });

  it('enforce encrypts the classes that take a key; a DELIVERY group is not encryptable, not a failure', async () => {
    // Act
    const t = cli();
    const code = await run(['enforce', '--yes', '--json'], t.io);

    // Assess
    const report = JSON.parse(t.stdout());
    expect(report.totals.failed).toBe(0);
    expect(code).toBe(0);
    const key = world.emulator.state.key(REGION, GUARD_ALIAS)?.arn;
    for (const cls of ['STANDARD', 'INFREQUENT_ACCESS', 'ESSENTIALS']) {
      expect(world.emulator.state.logGroup(REGION, `/cls/${cls}`)?.kmsKeyId).toBe(key);
    }
    expect(world.emulator.state.logGroup(REGION, '/cls/DELIVERY')?.kmsKeyId).toBeUndefined();
    // refused once, at once: not retried as a failure. Only the class refusal counts: on a loaded machine a first
    // association can also meet the new key's policy not yet propagated (AccessDenied, retried by design).
    const refusals = world.emulator.calls.filter(
      (c) => c.operation === 'AssociateKmsKey' && c.error === 'InvalidParameterException',
    );
    expect(refusals).toHaveLength(1);
  }, 60_000);

  it('audit shows each class and the encrypted groups under deletion protection', async () => {
    // Prepare: deletion protection on the encrypted STANDARD group; it now refuses DeleteLogGroup
    await world.logs.send(
      new PutLogGroupDeletionProtectionCommand({
        logGroupIdentifier: '/cls/STANDARD',
        deletionProtectionEnabled: true,
      }),
    );
    await expect(
      world.logs.send(new DeleteLogGroupCommand({ logGroupName: '/cls/STANDARD' })),
    ).rejects.toMatchObject({ name: 'InvalidOperationException' });

    // Act
    const json = cli();
    await run(['audit', '--json'], json.io);
    const table = cli();
    await run(['audit'], table.io);

    // Assess
    const rows = JSON.parse(json.stdout()).groups as AuditRow[];
    const byName = Object.fromEntries(rows.map((r) => [r.logGroup, r]));
    expect(byName['/cls/STANDARD']).toMatchObject({ logClass: 'standard', deletionProtection: true });
    expect(byName['/cls/INFREQUENT_ACCESS']).toMatchObject({
      logClass: 'infrequent-access',
      deletionProtection: false,
    });
    expect(byName['/cls/ESSENTIALS']?.logClass).toBe('essentials');
    expect(byName['/cls/DELIVERY']?.logClass).toBe('delivery');
    expect(byName['/cls/STANDARD']?.note).toMatch(/deletion protection on/);
    expect(table.stdout()).toMatch(/log class\s+delivery/);
    expect(table.stdout()).toMatch(/log class\s+infrequent-access/);
  }, 60_000);
});
