// The benchmark's floor: a Lambda made of only the two SDK clients, making the two calls an association
// needs at the least (is the group unencrypted; associate). Bundled with the product's esbuild settings.
import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';

const logs = new CloudWatchLogsClient({});
const kms = new KMSClient({});

export async function handler(event: { logGroupName: string; keyArn: string; describeKey?: boolean }) {
  // DescribeKey is only referenced, so the KMS client is in the bundle as it is in the product's.
  if (event.describeKey) await kms.send(new DescribeKeyCommand({ KeyId: event.keyArn }));
  await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: event.logGroupName, limit: 1 }));
  await logs.send(new AssociateKmsKeyCommand({ logGroupName: event.logGroupName, kmsKeyId: event.keyArn }));
  return { ok: true };
}
