// The benchmark's floor: a Lambda made of only the two SDK clients, making the two calls an association
// needs at the least (is the group unencrypted; associate). Bundled with the product's esbuild settings
// (scripts/esbuild-options.mjs). With `kmsChecks` it also makes the guard's two KMS reads of its cold path
// (DescribeKey, GetKeyPolicy): the bench's reference for "the same calls, nothing else".
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';

const logs = new CloudWatchLogsClient({});
const kms = new KMSClient({});

/** The floor's Lambda handler: the association's two calls (and, with `kmsChecks`, the guard's two KMS reads). */
export async function handler(event: { logGroupName: string; keyArn: string; kmsChecks?: boolean }) {
  await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: event.logGroupName, limit: 1 }));
  if (event.kmsChecks) {
    await kms.send(new DescribeKeyCommand({ KeyId: event.keyArn }));
    await kms.send(new GetKeyPolicyCommand({ KeyId: event.keyArn, PolicyName: 'default' }));
  }
  await logs.send(new AssociateKmsKeyCommand({ logGroupName: event.logGroupName, kmsKeyId: event.keyArn }));
  return { ok: true };
}
