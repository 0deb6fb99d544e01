/**
 * local/scene.ts runScene (`npm start` is runScene plus a table), run once: the whole job (the deployment's
 * key check in the built dist/changes.mjs, then emulator → events → queue → the built dist/enforce.mjs) end to
 * end at a small, time-scaled size, judged by the emulator's ground truth.
 */
import { describe, expect, it } from 'vitest';
import { runScene } from '../../local/scene.ts';

describe('runScene (npm start)', () => {
  it('ends with every in-scope group encrypted, the others left as they were, one live key and an empty DLQ', async () => {
    // Act
    const result = await runScene({
      groups: 25,
      timeScale: 20,
      propagationDelayMs: 3_000,
      timeoutMs: 25_000,
    });

    // Assess
    const by = (expectation: string) => result.groups.filter((g) => g.expect === expectation);
    expect(result.ok).toBe(true);
    expect(result.dlq).toBe(0);
    expect(result.liveGuardKeys).toBe(1);
    expect(by('encrypted').length).toBeGreaterThan(10);
    expect(by('encrypted').every((g) => g.actual === 'encrypted-guard-key')).toBe(true);
    expect(by('excluded').every((g) => g.actual === 'unencrypted')).toBe(true);
    expect(by('own-key').every((g) => g.actual === 'own-key')).toBe(true);
    expect(by('deleted').every((g) => g.actual === 'gone')).toBe(true);
  });
});
