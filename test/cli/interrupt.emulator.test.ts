/**
 * A second Ctrl-C to the built dist/cli.mjs (`npm run build` first), a process enforcing against the emulator
 * (local/world.ts): it quits at once with exit 130 and prints the command that resumes (functions/cli.ts).
 * interrupt.test.ts covers the command's content and that running it finishes the job.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/emulator.ts';
import { handlerEnv, REGION, startWorld } from '../../local/world.ts';

describe('dist/cli.mjs interrupted twice (a process, against the emulator)', () => {
  const root = join(import.meta.dirname, '../..');
  let emu: Emulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const world = await startWorld();
    emu = world.emulator;
    stop = () => world.stop();
    for (let i = 0; i < 200; i++) emu.state.putLogGroup(REGION, `/slow/${String(i).padStart(3, '0')}`);
  });
  afterAll(async () => stop?.());

  it('quits at once with exit 130 and prints the command that resumes', async () => {
    // Prepare: one association a second, so the run is still going when Ctrl-C comes.
    const child = spawn(
      join(root, 'node_modules/.bin/node'),
      [
        join(root, 'dist/cli.mjs'),
        'enforce',
        '--yes',
        '--region',
        REGION,
        '--rate',
        '1',
        '--concurrency',
        '1',
      ],
      { env: { ...process.env, ...handlerEnv(emu), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const associated = () => emu.calls.filter((c) => c.operation === 'AssociateKmsKey' && !c.error).length;
    while (associated() < 2) await new Promise((r) => setTimeout(r, 50));

    // Act: Ctrl-C, and again before the run has stopped.
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await exited;

    // Assess
    expect(code).toBe(130);
    expect(stderr).toContain('stopping now (second Ctrl-C)');
    expect(stderr).toMatch(
      /Resume with:\n {2}logs-kms-guard enforce --yes --region us-east-1 --rate 1 --concurrency 1 --resume-token \S+\n/,
    );
  }, 30_000);
});
