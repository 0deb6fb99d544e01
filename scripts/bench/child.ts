// What the bench's child processes (scripts/bench/*-child.ts) share: their settings from the environment and
// the kernel's memory high-water mark.
import { readFileSync } from 'node:fs';

/** A required setting of the child, from its environment. */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** The kernel's high-water mark of this process's resident set (VmHWM), in bytes; undefined off Linux. */
export function vmHwm(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
