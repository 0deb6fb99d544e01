/**
 * LocalPipeline (local/pipeline.ts), the local queue and Lambda-like poller, with a slow handler: a message
 * re-received after its visibility timeout is still handled, never lost.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalPipeline } from '../../local/pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'lkg-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalPipeline', () => {
  it('loses no message when an invocation outlives the visibility timeout and another poller re-receives it', async () => {
    // Prepare: a handler slower than the visibility timeout, so messages are delivered twice at once
    const bundle = join(dir, 'slow.mjs');
    writeFileSync(
      bundle,
      'export const handler = async () => { await new Promise((r) => setTimeout(r, 150)); return { batchItemFailures: [] }; };\n',
    );
    const handled = new Map<string, number>();
    const pipeline = new LocalPipeline({
      region: 'us-east-1',
      account: '123456789012',
      bundles: { enforce: bundle, changes: bundle },
      batchSize: 1,
      concurrency: 3,
      visibilityTimeoutMs: 40,
      pollIntervalMs: 5,
      onResult: ({ body, ok }) => {
        if (ok) handled.set(body, (handled.get(body) ?? 0) + 1);
      },
    });
    const bodies = ['a', 'b', 'c', 'd', 'e', 'f'].map((b) => JSON.stringify({ id: b }));
    for (const body of bodies) pipeline.send(body);

    // Act
    await pipeline.start();
    const drained = await pipeline.drain(10_000);
    await pipeline.stop();

    // Assess: every message was handled at least once (at-least-once, as SQS); none dropped unhandled
    expect(drained).toBe(true);
    expect(bodies.filter((b) => !handled.has(b))).toEqual([]);
    expect(pipeline.dlq).toEqual([]);
  });
});
