/**
 * The emulator's log classes and deletion protection (local/emulator/logs.ts) through the real SDK: the
 * class is fixed at creation and reported, an unknown class is refused, a DELIVERY group takes no KMS key
 * (at creation or later; the emulator's stated assumption), and deletion protection by name or ARN guards
 * DeleteLogGroup until it is turned off.
 */
import {
  AssociateKmsKeyCommand,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutLogGroupDeletionProtectionCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKeyPolicy } from '../../../functions/core/policy.ts';
import { MESSAGES } from '../../../local/emulator/logs.ts';
import { REGION, startWorld, type World } from '../../../local/world.ts';

let world: World;
let keyArn: string;
beforeAll(async () => {
  world = await startWorld({ emulator: { propagationDelayMs: 0, throttle: false } });
  const policy = JSON.stringify(
    defaultKeyPolicy({ partition: 'aws', region: REGION, account: world.account }),
  );
  keyArn = (await world.createGuardKey({ policy })).arn;
});
afterAll(async () => {
  await world?.stop();
});

describe('log classes', () => {
  it('refuses a class the SDK does not know', async () => {
    await expect(
      world.logs.send(new CreateLogGroupCommand({ logGroupName: '/x', logGroupClass: 'COLD' as never })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('a DELIVERY group takes no key, at creation or later; an INFREQUENT_ACCESS group does', async () => {
    await expect(
      world.logs.send(
        new CreateLogGroupCommand({ logGroupName: '/d1', logGroupClass: 'DELIVERY', kmsKeyId: keyArn }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: MESSAGES.classRefusesKms('DELIVERY'),
    });
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: '/d2', logGroupClass: 'DELIVERY' }));
    await expect(
      world.logs.send(new AssociateKmsKeyCommand({ logGroupName: '/d2', kmsKeyId: keyArn })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await world.logs.send(
      new CreateLogGroupCommand({
        logGroupName: '/ia',
        logGroupClass: 'INFREQUENT_ACCESS',
        kmsKeyId: keyArn,
      }),
    );
    expect(world.emulator.state.logGroup(REGION, '/ia')).toMatchObject({
      logGroupClass: 'INFREQUENT_ACCESS',
      kmsKeyId: keyArn,
    });
  });
});

describe('deletion protection', () => {
  it('blocks DeleteLogGroup until turned off; by name or by ARN; shown by DescribeLogGroups when on', async () => {
    await world.logs.send(new CreateLogGroupCommand({ logGroupName: '/p', deletionProtectionEnabled: true }));
    const described = await world.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/p' }));
    expect(described.logGroups?.[0]?.deletionProtectionEnabled).toBe(true);
    await expect(world.logs.send(new DeleteLogGroupCommand({ logGroupName: '/p' }))).rejects.toMatchObject({
      name: 'InvalidOperationException',
    });
    const arn = world.emulator.state.logGroup(REGION, '/p')?.arn as string;
    await world.logs.send(
      new PutLogGroupDeletionProtectionCommand({ logGroupIdentifier: arn, deletionProtectionEnabled: false }),
    );
    await world.logs.send(new DeleteLogGroupCommand({ logGroupName: '/p' }));
    expect(world.emulator.state.logGroup(REGION, '/p')).toBeUndefined();
  });
});
