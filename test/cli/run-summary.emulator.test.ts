/**
 * The smaller findings of the issue 20 review (item 13), through the CLI in-process: `--prefix aws/` refused as
 * a reserved name, enforce's failure summary labelled "partial totals:" as audit's is, a resumed run that
 * lists nothing prints no new resume command, a resume command reading the external ID from the environment
 * says to set it, and a table fitted to COLUMNS=80 never wider than 80.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { encodeAcross, resumeText } from '../../functions/cli/resume-token.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { ACCOUNT, credentials, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let emu: Emulator;
const REFUSED = 'http://127.0.0.1:1';

const cli = (env: Record<string, string> = {}) =>
  testIo({
    clients: defaultClientFactory({ endpoint: emu.endpoint, credentials }),
    env: { AWS_REGION: REGION, ...env },
  });
const refused = () =>
  testIo({
    clients: defaultClientFactory({ endpoint: REFUSED, credentials }),
    env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: REFUSED },
  });

beforeAll(async () => {
  clearKeyCache();
  ({ emulator: emu } = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 } }));
  const policy = JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT }));
  const team = emu.state.createKeyDirect(REGION, { policy }).arn;
  emu.state.putLogGroup(REGION, `/aws/lambda/${'a-rather-long-function-name-'.repeat(3)}end`);
  emu.state.putLogGroup(REGION, '/app/team', { kmsKeyId: team });
  emu.state.putLogGroup(REGION, '/app/opted-out', { tags: { 'logs-kms-guard:skip': 'true' } });
  emu.state.putLogGroup(REGION, 'aws/spans');
}, 60_000);
afterAll(async () => {
  await emu?.stop();
});

describe('--prefix of a reserved name', () => {
  it.each([
    ['enforce', '--dry-run'],
    ['enforce', '--yes'],
    ['rollback', '--dry-run'],
  ])('%s %s --prefix aws/ is refused with exit 2 before any call', async (...argv) => {
    const mark = emu.calls.length;
    const t = cli();
    expect(await run([...argv, '--prefix', 'aws/'], t.io)).toBe(2);
    expect(t.stderr()).toBe(
      'error: --prefix aws/: reserved for AWS (aws/…): CloudWatch Logs does not let anyone encrypt it\n',
    );
    expect(emu.calls.length).toBe(mark);
  });
});

describe('a run that failed', () => {
  it('enforce labels its totals "partial totals:" as audit does', async () => {
    const t = refused();
    const code = await run(['enforce', '--yes'], t.io);
    expect(code).toBe(3);
    expect(t.stderr()).toMatch(/\npartial totals: 0 log group\(s\) listed/);
  }, 60_000);

  it.each([['enforce', '--yes'], ['audit']])(
    'a resumed %s that lists nothing again prints no new resume command, and says the old one still holds',
    async (...argv) => {
      const token = encodeAcross(argv[0] as string, [{ a: '', r: REGION }]);
      const t = refused();
      const code = await run([...argv, '--resume-token', token], t.io);
      expect(code).toBe(3);
      expect(t.stderr()).not.toMatch(/resume with/i);
      expect(t.stderr()).toContain(
        'nothing was listed, so no new resume command: after fixing that, run the same command again (its --resume-token still holds what is left)',
      );
    },
    60_000,
  );
});

describe('the printed resume command', () => {
  it('reading the external ID from LOGS_KMS_GUARD_EXTERNAL_ID, it is preceded by a line saying to set it', () => {
    const command =
      'logs-kms-guard audit --org --external-id "$LOGS_KMS_GUARD_EXTERNAL_ID" --resume-token 2.x';
    expect(resumeText('resume with', command)).toBe(
      `resume with:\n(the command reads the external ID from LOGS_KMS_GUARD_EXTERNAL_ID: set it first, e.g. read -rs LOGS_KMS_GUARD_EXTERNAL_ID; export LOGS_KMS_GUARD_EXTERNAL_ID)\n  ${command}`,
    );
    expect(resumeText('resume with', 'logs-kms-guard audit --resume-token 2.x')).toBe(
      'resume with:\n  logs-kms-guard audit --resume-token 2.x',
    );
  });
});

describe('the audit table with COLUMNS=80', () => {
  it('has no line wider than 80 characters', async () => {
    const t = cli({ COLUMNS: '80' });
    await run(['audit', '--no-color'], t.io);
    const lines = t.stdout().trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });
});
