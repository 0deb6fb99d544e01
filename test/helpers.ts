import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import type { Clock } from '../functions/core/clock.ts';

const eventsDir = join(dirname(fileURLToPath(import.meta.url)), 'events');

/** A fresh deep copy of a captured event from test/events/, safe to change per test. */
export function loadEvent<T = Record<string, any>>(file: string): T {
  return JSON.parse(readFileSync(join(eventsDir, file), 'utf8')) as T;
}

/** A clock whose sleeps advance time instantly; `slept` records every wait. */
export function fakeClock(start = 1_800_000_000_000): Clock & { slept: number[]; advance(ms: number): void } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A Log that keeps what it was told, for assertions on decisions. */
export function memoryLog() {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push({ level, message, ...(extra ? { extra } : {}) });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:logs-kms-guard-prod-enforce`;

/** Everything the functions write (JSON log lines and EMF documents), kept off the console. */
export function captureOutput() {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(line);
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep as never);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep as never);
  const json = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
  return {
    lines,
    /** Sum of every EMF count by metric name. */
    metrics(): Record<string, number> {
      const totals: Record<string, number> = {};
      for (const doc of json()) {
        for (const m of doc._aws?.CloudWatchMetrics?.[0]?.Metrics ?? []) {
          totals[m.Name] = (totals[m.Name] ?? 0) + Number(doc[m.Name] ?? 0);
        }
      }
      return totals;
    },
    /** The `decision` log lines, one per record handled. */
    decisions(): Record<string, any>[] {
      return json().filter((d) => d.message === 'decision');
    },
    restore() {
      out.mockRestore();
      err.mockRestore();
    },
  };
}
