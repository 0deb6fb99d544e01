/**
 * Test helper for the CLI tests: the `Io` functions/cli/io.ts defines, in memory, so `run` can be called
 * in-process with its output captured and its prompts answered from a script.
 */
import type { Io } from '../../functions/cli/io.ts';

/** An in-process terminal: captured stdout/stderr, scripted answers, no real TTY unless asked. */
export function testIo(overrides: Partial<Io> & { tty?: boolean; answers?: string[] } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const answers = [...(overrides.answers ?? [])];
  const io: Io = {
    stdout: { write: (s: string) => out.push(s), isTTY: false },
    stderr: { write: (s: string) => err.push(s), isTTY: false },
    stdinIsTTY: overrides.tty ?? false,
    env: { AWS_REGION: 'us-east-1' },
    prompt: async () => answers.shift() ?? '',
    ...overrides,
  };
  return {
    io,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
