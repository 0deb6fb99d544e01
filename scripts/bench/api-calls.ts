/**
 * The emulator's record of the API calls a run made, counted as the figures report them: the calls since a
 * mark, how many were throttled, how many of each operation. One place, so every section counts alike.
 */
import type { ApiCall, Emulator } from '../../local/emulator/emulator.ts';
import { countBy } from './stats.ts';

/** The calls the emulator received since `from` (its `calls.length` before the run). */
export function callsSince(emulator: Emulator, from: number): ApiCall[] {
  return emulator.calls.slice(from);
}

/** How many of the calls were answered with a ThrottlingException. */
export function throttledOf(calls: readonly ApiCall[]): number {
  return calls.filter((c) => c.error === 'ThrottlingException').length;
}

/** The calls counted by operation, in order of first appearance. */
export function byOperation(calls: readonly ApiCall[]): Record<string, number> {
  return countBy(calls, (c) => c.operation);
}
