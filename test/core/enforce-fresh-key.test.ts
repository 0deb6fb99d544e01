/**
 * enforceLogGroup (functions/core/enforce.ts) meeting a guard key another function created moments ago: since
 * the enforce function creates no key, a new key is the changes function's (its key check, the deploy-time
 * key), and the first events arrive while CloudWatch Logs cannot see it yet. DescribeKey's CreationDate marks
 * it new: the refusals are propagation, and its policy is not read back while they last (a key KMS created a
 * day ago is re-checked instead: someone may have narrowed it). aws-sdk-client-mock on a fake clock.
 */
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/core/config.ts';
import { enforceLogGroup } from '../../functions/core/enforce.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import { ACCOUNT, REGION } from '../../local/world.ts';
import { fakeClock, KEY_ARN, KEY_ID, memoryLog } from '../helpers.ts';

const kms = mockClient(KMSClient);
const logs = mockClient(CloudWatchLogsClient);
const clients = {
  kms: new KMSClient({ region: REGION }),
  logs: new CloudWatchLogsClient({ region: REGION }),
};
const target = { name: '/aws/lambda/orders', region: REGION, account: ACCOUNT };
/** What Logs answers while the caller's access through a new key policy has not propagated (LZA #768). */
const callerDenied = Object.assign(
  new Error(
    'User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: kms:Encrypt on resource',
  ),
  { name: 'AccessDeniedException' },
);

/** One group through the core on a fake clock, the guard key created `ageMs` before. */
function enforceWithKeyOfAge(ageMs: number) {
  const clock = fakeClock();
  kms.on(DescribeKeyCommand).resolves({
    KeyMetadata: {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      CreationDate: new Date(clock.now() - ageMs),
    },
  });
  return enforceLogGroup(target, {
    clients,
    config: loadConfig({}),
    log: memoryLog(),
    deadline: clock.now() + 117_000,
    clock,
  });
}

describe('enforceLogGroup: a guard key another function created moments ago', () => {
  beforeEach(() => {
    kms.reset();
    logs.reset();
    clearKeyCache();
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: target.name }] });
    logs.on(ListTagsForResourceCommand).resolves({ tags: {} });
    kms.on(GetKeyPolicyCommand).resolves({
      Policy: JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT })),
    });
    // Logs refuses the caller's access through the key 8 times (more than the 6 after which a policy is re-checked)
    let refusals = 8;
    logs.on(AssociateKmsKeyCommand).callsFake(async () => {
      if (refusals-- > 0) throw callerDenied;
      return {};
    });
  });

  it('takes the refusals for propagation and does not read its policy back', async () => {
    // Act: the key check created it 10 s ago
    const result = await enforceWithKeyOfAge(10_000);

    // Assess
    expect(result.outcome).toBe('encrypted');
    expect(logs.commandCalls(AssociateKmsKeyCommand)).toHaveLength(9);
    expect(kms.commandCalls(GetKeyPolicyCommand)).toHaveLength(1);
  });

  it('a key created a day ago: the same refusal is the caller lacking access, refused at once', async () => {
    // Act
    const result = enforceWithKeyOfAge(24 * 3_600_000);

    // Assess: not retried as propagation
    await expect(result).rejects.toThrow(/not authorized to perform: kms:Encrypt/);
    expect(logs.commandCalls(AssociateKmsKeyCommand).length).toBeLessThan(3);
  });
});
