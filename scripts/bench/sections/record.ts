/**
 * What the key-dependency record (issue 21 item 1, functions/core/key-record.ts) costs in API calls, measured
 * on the `calls` section's emulator through the enforce bundle (the changes bundle for the KeyAtRisk event): an
 * ALLOW_KEY_OVERRIDE event (one TagResource
 * more, only when a group's key changes away from a key), a group created with its own key (one TagResource,
 * the owner key noted), a rollback of one group (none more: the record rides in the opt-out TagResource), and a
 * KeyAtRisk event (DescribeLogGroups pages plus one ListTagsForResource per group not on the key: a rare event,
 * bounded in time). The warm path of a new group and the sweep make no record call (calls-warm, the sweep
 * section).
 */
import { pathToFileURL } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { disassociateKey } from '../../../functions/core/disassociate.ts';
import { PREV_KEY_TAG_PREFIX } from '../../../functions/core/key-record.ts';
import { defaultKeyPolicy } from '../../../functions/core/policy.ts';
import type { Emulator } from '../../../local/emulator/emulator.ts';
import { createLogGroupEvent } from '../../../local/emulator/events.ts';
import { CHANGES_BUNDLE, ENFORCE_BUNDLE } from '../../../local/functions.ts';
import { ACCOUNT, REGION } from '../../../local/world.ts';
import { byOperation, callsSince } from '../api-calls.ts';
import { createEvent, FUNCTION_ARN } from '../rig.ts';
import { type Figure, formatCounts, spread } from '../stats.ts';

/** Groups in the KeyAtRisk measurement: half on the lost key, half on another (a tenth of those with a record). */
const RISK_GROUPS = 200;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** A bundle (default the enforce bundle), loaded afresh under `env` (its configuration is read once, at load). */
async function loadHandler(
  env: Record<string, string>,
  tag: string,
  bundle = ENFORCE_BUNDLE,
): Promise<Handler> {
  Object.assign(process.env, env, { POWERTOOLS_LOG_LEVEL: 'WARN' });
  return ((await import(`${pathToFileURL(bundle).href}?${tag}`)) as { handler: Handler }).handler;
}

/** The calls one handled event makes, by operation. */
async function callsOf(emulator: Emulator, run: () => Promise<unknown>) {
  const from = emulator.calls.length;
  await run();
  const calls = callsSince(emulator, from);
  return { n: calls.length, ops: byOperation(calls) };
}

/** A reference figure (no floor) of one measured count against a goal. */
function figure(
  id: string,
  name: string,
  m: { n: number; ops: Record<string, number> },
  goal: string,
  met: boolean | undefined,
  note: string,
): Figure {
  return {
    id,
    name,
    unit: '',
    ours: spread([m.n]),
    goal,
    met,
    note: `${formatCounts(m.ops)}; ${note}`,
    details: { operations: m.ops },
  };
}

/** The record's figures, on the `calls` section's emulator and guard key. */
export async function recordFigures(
  emulator: Emulator,
  keyArn: string,
  env: Record<string, string>,
): Promise<Figure[]> {
  const saved = { ...process.env };
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const context = { invokedFunctionArn: FUNCTION_ARN, getRemainingTimeInMillis: () => 120_000 };
  const policy = JSON.stringify(defaultKeyPolicy({ partition: 'aws', region: REGION, account: ACCOUNT }));
  const team = emulator.state.createKeyDirect(REGION, { policy });
  const lost = emulator.state.createKeyDirect(REGION, { policy });
  try {
    const handler = await loadHandler({ ...env, ALLOW_KEY_OVERRIDE: 'true' }, 'bench-record');
    // A first event warms the key cache; the second is measured.
    for (const name of ['/record/warm-up', '/record/override'])
      emulator.state.putLogGroup(REGION, name, { kmsKeyId: team.arn });
    await handler(createEvent('/record/warm-up'), context);
    const override = await callsOf(emulator, () => handler(createEvent('/record/override'), context));
    const plain = await loadHandler({ ...env, ALLOW_KEY_OVERRIDE: 'false' }, 'bench-record-plain');
    await plain(createEvent('/record/warm-up'), context);
    emulator.state.putLogGroup(REGION, '/record/own-key', { kmsKeyId: team.arn });
    const ownKey = await callsOf(emulator, () =>
      plain(
        createLogGroupEvent(
          { region: REGION, account: ACCOUNT },
          { logGroupName: '/record/own-key', kmsKeyId: team.arn },
          {
            userIdentity: { type: 'AssumedRole', accountId: ACCOUNT },
            userAgent: 'terraform',
            sourceIp: '198.51.100.7',
          },
        ),
        context,
      ),
    );
    const sdk = {
      region: REGION,
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    };
    const clients = { kms: new KMSClient(sdk), logs: new CloudWatchLogsClient(sdk) };
    emulator.state.putLogGroup(REGION, '/record/rollback', { kmsKeyId: keyArn });
    const arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/record/rollback`;
    const rollback = await callsOf(emulator, () =>
      disassociateKey(clients, '/record/rollback', {
        optOut: { arn, tagKey: 'logs-kms-guard:skip' },
        record: { arn, previousKey: keyArn, log: silent },
      }),
    );
    for (let i = 0; i < RISK_GROUPS; i++) {
      const record =
        i % 20 === 1 ? { tags: { [`${PREV_KEY_TAG_PREFIX}${lost.keyId}`]: new Date().toISOString() } } : {};
      emulator.state.putLogGroup(REGION, `/risk/${String(i).padStart(4, '0')}`, {
        kmsKeyId: i % 2 ? team.arn : lost.arn,
        ...record,
      });
    }
    const events: Record<string, any>[] = [];
    const stop = emulator.onEvent((e) => events.push(e as Record<string, any>));
    await clients.kms.send(new DisableKeyCommand({ KeyId: lost.keyId }));
    while (!events.some((e) => e.detail?.eventName === 'DisableKey'))
      await new Promise((r) => setTimeout(r, 5));
    stop();
    const disabled = events.find((e) => e.detail?.eventName === 'DisableKey');
    const groups = emulator.state.logGroups(REGION).length;
    // Key changes are the changes function's (its own queue, the same role).
    const changes = await loadHandler(
      { ...env, ALLOW_KEY_OVERRIDE: 'false' },
      'bench-record-changes',
      CHANGES_BUNDLE,
    );
    const atRisk = await callsOf(emulator, () => changes(disabled, context));
    return [
      figure(
        'calls-record-override',
        'API calls, ALLOW_KEY_OVERRIDE event, with the record',
        override,
        '≤ 4 (1 more than without)',
        override.n <= 4,
        'the record: one TagResource, only when a key is replaced',
      ),
      figure(
        'calls-record-own-key',
        'API calls, a group created with its own key',
        ownKey,
        '≤ 1',
        ownKey.n <= 1,
        'the owner key noted (was 0)',
      ),
      figure(
        'calls-record-rollback',
        'API calls per group rolled back, with the record',
        rollback,
        '≤ 2 (as without)',
        rollback.n <= 2,
        'the record rides in the opt-out TagResource',
      ),
      figure(
        'calls-key-at-risk',
        `API calls, KeyAtRisk event, ${groups} groups in the region`,
        atRisk,
        'none (rare; bounded in time)',
        undefined,
        `about ${(atRisk.n / groups).toFixed(2)} per group: DescribeLogGroups per 50 + ListTagsForResource per group not on the key`,
      ),
    ];
  } finally {
    process.env = saved;
    process.stdout.write = write;
  }
}
