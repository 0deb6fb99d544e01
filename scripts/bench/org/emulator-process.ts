/**
 * The org section's emulator, in a process of its own (`node local/emulator/main.ts --org FILE --time-scale T
 * --stats`) so that it and the CLI do not share a core: its endpoint, the per-account call counts it writes on
 * SIGUSR2 (the throttled share), and the CPU time it used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NODE, root } from '../rig.ts';
import type { OrgArgs } from './args.ts';

/** What one `stats:` line of the emulator says (local/emulator/main.ts --stats). */
export interface Tally {
  n: number;
  throttled: number;
  errors: Record<string, number>;
  first: number;
  last: number;
}
/** The emulator's calls since the previous stats: per account, region and operation, and to the organization. */
export interface Stats {
  at: number;
  accounts: Record<string, Record<string, Record<string, Tally>>>;
  org: Record<string, Tally>;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The organization emulator in its own process. */
interface OrgProcess {
  endpoint: string;
  pid: number | undefined;
  /** The calls since the previous stats (SIGUSR2, answered with one line on its stdout). */
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

/** Starts local/emulator/main.ts --org FILE --stats in its own process, and waits for its endpoint. */
export async function startOrgProcess(file: string, o: OrgArgs): Promise<OrgProcess> {
  const child: ChildProcess = spawn(
    NODE,
    [join(root, 'local/emulator/main.ts'), '--org', file, '--time-scale', String(o.timeScale), '--stats'],
    { cwd: root, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const waiting: ((s: Stats) => void)[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
    child.once('exit', (code) => reject(new Error(`org emulator exited ${code}: ${err}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('endpoint: ')) resolveEndpoint(line.slice('endpoint: '.length));
      else if (line.startsWith('stats: ')) waiting.shift()?.(JSON.parse(line.slice(7)) as Stats);
    });
  });
  return {
    endpoint,
    pid: child.pid,
    stats: () =>
      new Promise<Stats>((r) => {
        waiting.push(r);
        child.kill('SIGUSR2');
      }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
