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
  /** While set, AssociateKmsKey waits for it: the group in flight cannot finish between the two Ctrl-Cs. */
  let held: Promise<unknown> | undefined;
  /** Associations waiting for `held`. */
  let waiting = 0;

  beforeAll(async () => {
    const world = await startWorld({
      emulator: {
        intercept: (r) => {
          if (!held || r.operation !== 'AssociateKmsKey') return undefined;
          waiting++;
          return { kind: 'delay', until: held };
        },
      },
    });
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

    // Act: Ctrl-C while a group's association is in flight, and again before the run has stopped. AWS holds the
    // association from just before the first until after the second: a group only waiting for its token or a read
    // is given up at once (nothing half-done), and one whose association came back would let the run stop cleanly
    // before the second Ctrl-C.
    let release = () => {};
    held = new Promise<void>((r) => {
      release = r;
    });
    while (waiting === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await exited;
    held = undefined;
    release();

    // Assess
    expect(code).toBe(130);
    expect(stderr).toContain('stopping now (second Ctrl-C)');
    expect(stderr).toMatch(
      /Resume with:\n {2}logs-kms-guard enforce --yes --region us-east-1 --rate 1 --concurrency 1 --resume-token \S+\n/,
    );
  }, 30_000);
});
