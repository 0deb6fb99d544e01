import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../functions/core/retry.ts';

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
