/**
 * `npm run emulator` (local/emulator/main.ts) as a child process: the endpoint line it prints, serving the
 * SDK, exit on SIGTERM, --help and a bad flag.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { credentials } from '../../../local/world.ts';

const node = 'node_modules/.bin/node';
const main = 'local/emulator/main.ts';

describe('npm run emulator (main.ts)', () => {
  it('prints one endpoint line, serves the SDK, and exits 0 on SIGTERM', async () => {
    // Prepare
    const child = spawn(node, [main, '--port', '0', '--time-scale', '10', '--verbose'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    child.stderr.on('data', (chunk) => stderr.push(String(chunk)));
    const lines = createInterface({ input: child.stdout });
    try {
      // Act
      const [line] = (await once(lines, 'line')) as [string];
      const endpoint = /^endpoint: (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
      const logs = new CloudWatchLogsClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
      await logs.send(new CreateLogGroupCommand({ logGroupName: '/from/cli' }));
      const { logGroups } = await logs.send(new DescribeLogGroupsCommand({}));
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      // Assess
      expect(endpoint).toBeDefined();
      expect(logGroups?.map((g) => g.logGroupName)).toEqual(['/from/cli']);
      expect(code).toBe(0);
      expect(stderr.join('')).toContain('logs.CreateLogGroup 200');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('--help prints usage and exits 0; a bad flag exits 2', () => {
    // Prepare / Act
    const help = spawnSync(node, [main, '--help'], { encoding: 'utf8' });
    const bad = spawnSync(node, [main, '--frobnicate'], { encoding: 'utf8' });
    // Assess
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--time-scale');
    expect(bad.status).toBe(2);
  });
});
