/**
 * The alarmed counts of the enforce and changes functions (functions/core/guard-function.ts alarmedCounts):
 * each of the seven rare causes someone must look at is counted by its own metric (the dashboard shows which)
 * and, by the same value, once in NeedsAttention, the one metric NeedsAttentionAlarm reads; KeyAtRisk keeps its
 * own alarm (data loss; its value is the number of groups) and is not added to NeedsAttention.
 */
import { describe, expect, it } from 'vitest';
import { type AttentionMetric, alarmedCounts } from '../../functions/core/guard-function.ts';

// Every AttentionMetric and nothing else (a cause added to or dropped from the type fails `tsc` here): the
// seven alarms NeedsAttentionAlarm replaced.
const CAUSES: Record<AttentionMetric, true> = {
  UnsafeKeyRefused: true,
  CustomResourceRefused: true,
  KeyPolicyRepaired: true,
  KeyAliasChanged: true,
  ReEncrypted: true,
  IacConflict: true,
  KeyHousekeepingFailed: true,
};

/** The counts as CountMetrics would sum them: name to total. */
function summed(counts: [string, number][]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [name, n] of counts) totals[name] = (totals[name] ?? 0) + n;
  return totals;
}

describe('alarmedCounts', () => {
  it.each(Object.keys(CAUSES) as AttentionMetric[])('%s: itself and NeedsAttention, once each', (cause) => {
    // Act
    const counts = alarmedCounts(cause);

    // Assess: one NeedsAttention per count, so the alarm's Sum is the number of causes in the period
    expect(counts).toEqual([
      [cause, 1],
      ['NeedsAttention', 1],
    ]);
  });

  it('adds NeedsAttention by the same value as the cause', () => {
    // Act
    const totals = summed([...alarmedCounts('KeyPolicyRepaired', 3), ...alarmedCounts('ReEncrypted')]);

    // Assess
    expect(totals).toEqual({ KeyPolicyRepaired: 3, ReEncrypted: 1, NeedsAttention: 4 });
  });

  it('KeyAtRisk: only itself, with its value (the number of groups), for its own alarm', () => {
    // Act
    const counts = alarmedCounts('KeyAtRisk', 12);

    // Assess
    expect(counts).toEqual([['KeyAtRisk', 12]]);
  });
});
