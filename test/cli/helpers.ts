/**
 * Test helper for the CLI tests: the `Io` functions/cli/io.ts defines, in memory, so `run` can be called
 * in-process with its output captured and its prompts answered from a script; and an endpoint that hangs.
 */
import { createServer, type Socket } from 'node:net';
import type { Io } from '../../functions/cli/io.ts';

/** A local TCP endpoint that accepts connections and never answers (a hung AWS endpoint); stop() closes it. */
export async function startHangingEndpoint(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

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
