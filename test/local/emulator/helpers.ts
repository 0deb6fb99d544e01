/**
 * Helpers for the emulator's own tests: an emulator started per test (stopped after it) with real SDK clients
 * pointed at it, the rejection of a call, and key policy statements.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterEach } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../../local/emulator/server.ts';

export const ACCOUNT = '123456789012';
export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const running: Emulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

/** Starts an emulator (stopped after the test) and real SDK clients pointed at it, without SDK retries. */
export async function setup(options: EmulatorOptions = {}, region = 'us-east-1') {
  const emulator = await startEmulator({ port: 0, ...options });
  running.push(emulator);
  const config = { region, endpoint: emulator.endpoint, credentials, maxAttempts: 1 };
  return { emulator, kms: new KMSClient(config), logs: new CloudWatchLogsClient(config), region };
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $fault?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

export const rootStatement = (account = ACCOUNT, partition = 'aws') => ({
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:${partition}:iam::${account}:root` },
  Action: 'kms:*',
  Resource: '*',
});

export const logsStatement = (region: string, conditionRegion = region, account = ACCOUNT) => ({
  Sid: 'AllowCloudWatchLogs',
  Effect: 'Allow',
  Principal: { Service: `logs.${region}.amazonaws.com` },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: {
    ArnLike: {
      'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${conditionRegion}:${account}:log-group:*`,
    },
  },
});

export const policyOf = (...statements: unknown[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
