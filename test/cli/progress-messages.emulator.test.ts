/**
 * Messages during a run on a terminal (review of issue 20, finding 12): a warning printed while the progress
 * line is drawn first clears that line (\r + erase line), is printed whole on its own line, and the progress is
 * redrawn after it; its details read as prose, not as raw `key=value`. Run in-process against the emulator:
 * `enforce --yes` in a world whose guard key's policy lacks the CloudWatch Logs statement repairs it mid-run,
 * which warns (before issue 19 the warning was the one of a key created without a function role, which the CLI no
 * longer creates: it names the function role of the account and region by default).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClientFactory } from '../../functions/cli/aws.ts';
import { run } from '../../functions/cli/program.ts';
import { clearKeyCache } from '../../functions/core/key.ts';
import { rootStatement } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { credentials, REGION, startWorld } from '../../local/world.ts';
import { testIo } from './helpers.ts';

let emu: Emulator;

beforeAll(async () => {
  clearKeyCache();
  const world = await startWorld({ emulator: { throttle: false, propagationDelayMs: 0 } });
  emu = world.emulator;
  // A guard key whose policy lost the CloudWatch Logs statement: the run repairs it, and says so.
  const ctx = { partition: 'aws' as const, region: REGION, account: world.account };
  await world.createGuardKey({
    policy: JSON.stringify({ Version: '2012-10-17', Statement: [rootStatement(ctx)] }),
  });
  for (let i = 0; i < 5; i++) emu.state.putLogGroup(REGION, `/app/plain-${i}`);
});

afterAll(async () => {
  await emu?.stop();
});

describe('a warning during a run on a terminal', () => {
  it('clears the progress line first, redraws it after, and reads as prose', async () => {
    // Prepare: stderr is a terminal 120 columns wide.
    const err: string[] = [];
    const t = testIo({
      clients: defaultClientFactory({ endpoint: emu.endpoint, credentials }),
      env: { AWS_REGION: REGION },
      stderr: { write: (s: string) => err.push(s), isTTY: true, columns: 120 },
    });

    // Act
    const code = await run(['enforce', '--yes', '--region', REGION, '--no-color'], t.io);

    // Assess: the warning's write comes right after a clear of a drawn progress line, and a redraw follows.
    expect(code).toBe(0);
    const at = err.findIndex((s) => s.includes('key policy repaired'));
    expect(at).toBeGreaterThan(1);
    const warning = err[at] ?? '';
    expect(warning.startsWith('warning: ')).toBe(true);
    expect(warning.endsWith('\n')).toBe(true);
    expect(err.slice(0, at).some((s) => s.startsWith('\r\u001b[2K') && s.length > 4)).toBe(true);
    expect(err[at - 1]).toBe('\r\u001b[2K');
    const redraw = err[at + 1] ?? '';
    expect(redraw.startsWith('\r\u001b[2K')).toBe(true);
    expect(redraw).toContain('listed');
    // Prose, not key=value.
    expect(warning).not.toMatch(/keyArn=/);
    expect(warning).toMatch(/\(key: arn:aws:kms:[^)]+\)\n$/);
  });
});
