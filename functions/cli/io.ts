/**
 * Everything the CLI touches outside itself (streams, environment, prompt, Ctrl-C, clients, clock), so that it
 * runs in-process in tests; and the printer that writes messages to stderr, in colour only on a terminal.
 */
import type { Clock } from '../core/clock.ts';
import type { Log } from '../core/log.ts';
import type { ClientFactory } from './aws.ts';

/** A stream the CLI writes to: process.stdout/stderr, or a buffer in tests. */
export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Everything the CLI touches outside itself, so it runs in-process in tests. */
export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdinIsTTY: boolean;
  env: Record<string, string | undefined>;
  /** Asks a yes/no question on the terminal; absent when there is none. */
  prompt?: (question: string) => Promise<string>;
  /** Aborted on Ctrl-C: long commands stop between groups. */
  signal?: AbortSignal;
  /** What a second Ctrl-C, which quits at once, prints: filled in by a long command while it runs. */
  interrupt?: InterruptHooks;
  /** Builds the SDK clients of a region (default: real clients, default credential chain). */
  clients?: ClientFactory;
  clock?: Clock;
  writeFile?: (path: string, data: string) => Promise<void>;
}

/** Filled in by a run across pairs (across.ts) while it runs, read by the process on a second Ctrl-C (cli.ts). */
export interface InterruptHooks {
  /** The command that resumes the work still to do at this moment (from the last finished page of each pair). */
  resumeCommand?: () => string | undefined;
  /** Ends the report being written at once, as a valid document that says it was cut short (sink.ts abandon). */
  closeReport?: () => void;
  /** The run only reads (audit): nothing can be half-changed. */
  readOnly?: boolean;
}

/** What a second Ctrl-C prints before quitting at once: that it stops now, and how to resume if there is a way. */
export function secondInterruptText(
  resume: string | undefined,
  options: { readOnly?: boolean } = {},
): string {
  if (!resume) return '\nstopping now (second Ctrl-C)\n';
  if (options.readOnly)
    return (
      '\nstopping now (second Ctrl-C): an audit changes nothing; a resumed run lists the account-regions left ' +
      `again. Resume with:\n  ${resume}\n`
    );
  return (
    '\nstopping now (second Ctrl-C): the log groups in flight may or may not have been changed; a resumed run ' +
    `lists them again and finishes them. Resume with:\n  ${resume}\n`
  );
}

/** A line redrawn in place on a terminal (the progress): cleared before a message is printed, redrawn after. */
export interface LiveLine {
  clear(): void;
  redraw(): void;
}

/** The live line of each stream, if one is drawn there (progress.ts registers it while it runs). */
export const liveLines = new WeakMap<OutStream, LiveLine>();

/** Writes a whole line to `stream` above its live line: the live line is cleared first and redrawn after. */
export function writeAbove(stream: OutStream, text: string): void {
  const live = liveLines.get(stream);
  live?.clear();
  stream.write(text);
  live?.redraw();
}

const PROSE_LABELS: Record<string, string> = {
  alias: 'key alias',
  keyArn: 'key',
  logGroupName: 'log group',
  resourceArn: 'resource',
};

/** A warning's details as prose: "(key alias: alias/x, region: eu-west-1)" rather than raw key=value pairs. */
export function proseOf(extra: Record<string, unknown> | undefined): string {
  if (!extra) return '';
  const parts = Object.entries(extra)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const label = PROSE_LABELS[k] ?? k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      return `${label}: ${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** The colours messages use; every one the identity without colour. */
export interface Style {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plain: Style = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };
const ansi = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const coloured: Style = {
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  dim: ansi(2, 22),
  bold: ansi(1, 22),
};

/** Colour only on a terminal, never with NO_COLOR set or `--no-color`. */
export function styleFor(stream: OutStream, env: Io['env'], allowed = true): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return allowed && stream.isTTY === true && !noColor && env.TERM !== 'dumb' ? coloured : plain;
}

/** Where commands write: messages for people on stderr, results on stdout, the core's log. */
export interface Printer {
  style: Style;
  /** A message for people (stderr), silenced by --quiet. */
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Machine-readable or primary output (stdout). */
  out(text: string): void;
  /** The core's log surface, routed to stderr. */
  log: Log;
}

/** The printer of a run: --quiet silences messages, --verbose shows the core's decisions. */
export function makePrinter(io: Io, options: { quiet: boolean; verbose: boolean; color: boolean }): Printer {
  const style = styleFor(io.stderr, io.env, options.color);
  // Above the progress line on a terminal, never glued to it.
  const line = (text: string) => writeAbove(io.stderr, `${text}\n`);
  const extraText = (extra?: Record<string, unknown>) => {
    if (!extra) return '';
    const parts = Object.entries(extra)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return parts.length > 0 ? ` ${style.dim(parts.join(' '))}` : '';
  };
  return {
    style,
    info: (text) => {
      if (!options.quiet) line(text);
    },
    warn: (text) => line(`${style.yellow('warning:')} ${text}`),
    error: (text) => line(`${style.red('error:')} ${text}`),
    out: (text) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    log: {
      debug: (m, e) => {
        if (options.verbose) line(style.dim(`${m}${extraText(e)}`));
      },
      info: (m, e) => {
        if (options.verbose) line(`${m}${extraText(e)}`);
      },
      warn: (m, e) => line(`${style.yellow('warning:')} ${m}${style.dim(proseOf(e))}`),
      error: (m, e) => {
        if (options.verbose || !m.startsWith('sweep: group failed'))
          line(`${style.red('error:')} ${m}${style.dim(proseOf(e))}`);
      },
    },
  };
}
