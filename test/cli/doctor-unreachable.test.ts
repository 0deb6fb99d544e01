/**
 * `doctor` against an endpoint that refuses connections, run in-process as a user runs it (issue 20 review
 * finding 10): the credentials line names AWS_ENDPOINT_URL when it is set, as `audit` does, and does not advise
 * `--profile` for a network failure; and its --help lists the checks as they depend on what is found.
 */
import { describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { testIo } from './helpers.ts';

const endpoint = 'http://127.0.0.1:9';

describe('doctor against an unreachable endpoint', () => {
  it('names AWS_ENDPOINT_URL and does not say "pass --profile"', async () => {
    // Prepare
    const t = testIo({
      clients: defaultClientFactory({ endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      env: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint },
    });
    // Act
    const code = await run(['doctor', '--region', 'eu-west-1', '--no-color'], t.io);
    // Assess
    expect(code).toBe(1);
    const all = t.stdout() + t.stderr();
    expect(all).toMatch(/credentials.*cannot reach AWS: ECONNREFUSED 127\.0\.0\.1:9/);
    expect(all).toContain(`AWS_ENDPOINT_URL=${endpoint}`);
    expect(all).not.toMatch(/pass --profile/);
  }, 60_000);

  it('without AWS_ENDPOINT_URL names the network path, not --profile', async () => {
    const t = testIo({
      clients: defaultClientFactory({ endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      env: { AWS_REGION: 'eu-west-1' },
    });
    const code = await run(['doctor', '--region', 'eu-west-1', '--json'], t.io);
    expect(code).toBe(1);
    const { checks } = JSON.parse(t.stdout());
    expect(checks).toEqual([
      expect.objectContaining({
        check: 'credentials',
        status: 'fail',
        detail: expect.stringMatching(/network path/),
      }),
    ]);
    expect(checks[0].fix).toBeUndefined();
  }, 60_000);
});

describe('doctor --help', () => {
  it('says the queue and DLQ are checked only once the rule and its queue are found', async () => {
    const t = testIo();
    expect(await run(['doctor', '--help'], t.io)).toBe(0);
    expect(t.stdout()).not.toContain('trail, rule, queue, DLQ, key');
    expect(t.stdout()).toMatch(/as far as those are found: the rule's queue and its DLQ/);
  });
});
