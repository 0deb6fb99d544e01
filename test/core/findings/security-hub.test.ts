/**
 * The Security Hub sink (core/findings/security-hub.ts) with a scripted client: findings Security Hub refuses
 * (FailedFindings) are retried alone, and handed back as failures only when they keep being refused; batches of
 * at most 100; one import per finding id (the latest observation). And the delivery (deliver.ts): a failure
 * fails the invocation, lines that are not findings are reported, not thrown.
 */
import { describe, expect, it } from 'vitest';
import { findingId } from '../../../functions/core/finding.ts';
import { deliver } from '../../../functions/core/findings/deliver.ts';
import { securityHubSink } from '../../../functions/core/findings/security-hub.ts';
import { silentLog } from '../../../functions/core/log.ts';
import { subscriptionEvent } from '../../../local/subscription.ts';
import { sampleFinding } from './samples.ts';

type Sent = { Findings: { Id: string }[] };

/** A client whose n-th call refuses the ids `refuse(n)` returns. */
function scripted(refuse: (call: number, ids: string[]) => string[]) {
  const calls: string[][] = [];
  const client = {
    send: async (command: { input: Sent }) => {
      const ids = command.input.Findings.map((f) => f.Id);
      calls.push(ids);
      const refused = refuse(calls.length, ids);
      return {
        FailedCount: refused.length,
        SuccessCount: ids.length - refused.length,
        FailedFindings: refused.map((Id) => ({ Id, ErrorCode: 'InvalidInput', ErrorMessage: 'no' })),
      };
    },
  };
  return { client: client as never, calls };
}

const findings = Array.from({ length: 3 }, (_, i) =>
  sampleFinding('group-not-encryptable', 'ACTIVE', `/g/${i}`),
);
const ids = findings.map(findingId);

describe('securityHubSink', () => {
  it('retries only the refused findings and succeeds when Security Hub takes them', async () => {
    const { client, calls } = scripted((n) => (n === 1 ? [ids[1] as string] : []));
    const failures = await securityHubSink({ client, log: silentLog, sleep: async () => {} }).send(findings);
    expect(failures).toEqual([]);
    expect(calls).toEqual([ids, [ids[1]]]);
  });

  it('hands back what keeps being refused after two retries: never dropped', async () => {
    const { client, calls } = scripted(() => [ids[2] as string]);
    const failures = await securityHubSink({ client, log: silentLog, sleep: async () => {} }).send(findings);
    expect(failures).toEqual([{ findingId: ids[2], reason: 'InvalidInput: no' }]);
    expect(calls).toHaveLength(3);
  });

  it('imports each id once, the latest observation, in batches of at most 100', async () => {
    const many = Array.from({ length: 230 }, (_, i) =>
      sampleFinding('group-not-encryptable', 'ACTIVE', `/m/${i}`),
    );
    const resolvedLater = {
      ...sampleFinding('group-not-encryptable', 'RESOLVED', '/m/0'),
      observedAt: '2026-12-08T00:00:00.000Z',
    };
    const { client, calls } = scripted(() => []);
    await securityHubSink({ client, log: silentLog }).send([...many, resolvedLater]);
    expect(calls.map((c) => c.length)).toEqual([100, 100, 30]);
  });
});

describe('deliver', () => {
  it('fails the invocation when a sink could not deliver, after reporting the lines that are not findings', async () => {
    const lines = [
      '{"message":"something else"}',
      JSON.stringify({ message: 'logs-kms-guard finding', finding: findings[0] }),
    ];
    const event = subscriptionEvent(lines, { logGroup: '/aws/lambda/x', owner: '111122223333' });
    const failing = { name: 'broken', send: async () => [{ findingId: 'x', reason: 'down' }] };
    await expect(deliver(event, [failing], silentLog)).rejects.toThrow(
      /1 finding\(s\) not delivered \(broken\)/,
    );
    const ok = { name: 'ok', send: async () => [] };
    expect(await deliver(event, [ok], silentLog)).toEqual({ findings: 1, rejectedLines: 1, failed: 0 });
  });
});
