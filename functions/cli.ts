/**
 * The `logs-kms-guard` command: the real process around the in-process `run` (program.ts). Only what a process
 * has lives here: stdin, stdout and stderr, Ctrl-C, and the exit code.
 */
import { createInterface } from 'node:readline/promises';
import { type InterruptHooks, secondInterruptText } from './cli/io.ts';
import { run } from './cli/program.ts';

// A closed pipe (`| head`) ends the output, not the process with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const controller = new AbortController();
const interrupt: InterruptHooks = {};
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1) {
    let resume: string | undefined;
    try {
      resume = interrupt.resumeCommand?.();
    } catch {}
    // The report written so far is closed as a valid document that says it was cut short.
    try {
      interrupt.closeReport?.();
    } catch {}
    process.stderr.write(secondInterruptText(resume, { readOnly: interrupt.readOnly === true }));
    process.exit(130);
  }
  process.stderr.write(
    '\nCtrl-C: finishing the log groups in flight, then stopping (Ctrl-C again to quit at once)\n',
  );
  controller.abort();
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdinIsTTY: process.stdin.isTTY === true,
  env: process.env,
  signal: controller.signal,
  interrupt,
  prompt: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
});
process.exitCode = code;
