/**
 * The batch-API retry loop the findings sinks share (functions/core/findings/retry-refused.ts): only the refused
 * entries that may succeed later are sent again, alone, with an exponential backoff; the rest are handed back.
 */
import { describe, expect, it } from 'vitest';
import { type Refusal, sendRetryingRefused } from '../../../functions/core/findings/retry-refused.ts';

/** A fake batch API: refuses the entries `refuse(entry, call)` names, recording each call's entries. */
function fakeApi(refuse: (entry: string, call: number) => Refusal<string> | undefined) {
  const calls: string[][] = [];
  const send = async (pending: string[]) => {
    calls.push(pending);
    return pending.flatMap((e) => {
      const r = refuse(e, calls.length);
      return r ? [r] : [];
    });
  };
  return { calls, send };
}

describe('sendRetryingRefused', () => {
  it('sends the retryable refused entries again, alone, after waits that double', async () => {
    // Prepare: "b" is throttled twice, then accepted
    const api = fakeApi((e, call) =>
      e === 'b' && call < 3 ? { entry: e, reason: 'ThrottlingException', retryable: true } : undefined,
    );
    const waits: number[] = [];

    // Act
    const left = await sendRetryingRefused(['a', 'b', 'c'], api.send, {
      attempts: 3,
      baseMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    // Assess
    expect(left).toEqual([]);
    expect(api.calls).toEqual([['a', 'b', 'c'], ['b'], ['b']]);
    expect(waits).toEqual([100, 200]);
  });

  it('hands back a refusal no retry can change at once, and a retryable one after the last attempt', async () => {
    // Prepare: "x" is refused for good, "y" always throttled
    const api = fakeApi((e) =>
      e === 'x'
        ? { entry: e, reason: 'InvalidArgument', retryable: false }
        : e === 'y'
          ? { entry: e, reason: 'ThrottlingException', retryable: true }
          : undefined,
    );
    const seen: number[] = [];

    // Act
    const left = await sendRetryingRefused(['x', 'y', 'z'], api.send, {
      attempts: 2,
      baseMs: 1,
      sleep: async () => {},
      onRefused: (attempt) => seen.push(attempt),
    });

    // Assess: x once, y twice (the attempts), nothing dropped silently
    expect(api.calls).toEqual([['x', 'y', 'z'], ['y']]);
    expect(left.map((r) => `${r.entry}:${r.reason}`).sort()).toEqual([
      'x:InvalidArgument',
      'y:ThrottlingException',
    ]);
    expect(seen).toEqual([1, 2]);
  });
});
