/**
 * Reliability suite, in a local world (local/world.ts, IAM on): 10 racers in each of 3 fresh regions (50 in
 * 10 with RELIABILITY_FULL=1), a barrier holding each region's CreateKey calls so that all of them race for
 * the alias. The racers are the key's creators: guard key checks (the deployment's GuardKeyReady, the
 * schedule's), each answered at once by its own changes container (dist/changes.mjs; the enforce function
 * creates no key); then the regions' first events, held until then, arrive together.
 *
 * Promise: when many key checks run at once in fresh regions, each region ends with exactly one live guard key
 * (the alias target), every other key the guard created is pending deletion (no orphan left enabled), the key
 * behind the alias is never scheduled for deletion, and every group uses its region's key.
 */
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { keyCheckItem } from '../../functions/core/change-event.ts';
import { defaultKeyPolicy } from '../../functions/core/policy.ts';
import type { Emulator } from '../../local/emulator/emulator.ts';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { roleArn } from '../../local/roles.ts';
import { associateRate, GUARD_ALIAS, startWorld } from '../../local/world.ts';
import { captureOutput, sleep } from '../helpers.ts';
import { figures, inParallel, seconds, size } from './rig.ts';

const REGIONS = [
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-southeast-1',
  'ap-northeast-1',
  'sa-east-1',
  'ca-central-1',
  'ap-south-1',
  'eu-north-1',
].slice(0, size(3, 10));
const RACERS = size(10, 50);
const TIME_SCALE = 20;

describe(`race: ${RACERS} concurrent key checks in each of ${REGIONS.length} fresh regions, then their first events`, () => {
  let emulator: Emulator | undefined;
  const pipelines: LocalPipeline[] = [];
  afterAll(async () => {
    await Promise.all(pipelines.map((p) => p.stop()));
    await emulator?.stop();
  });

  it('one live key per region, no orphan enabled, the alias key never scheduled for deletion', async () => {
    // Prepare: a barrier holds each region's CreateKey calls until all racers have sent theirs (or 3 s
    // passed), so they all race for the alias; every destructive KMS call is checked against the alias
    // at the moment it is made.
    const started = Date.now();
    const barriers = new Map<string, { arrived: number; open: Promise<void>; release: () => void }>();
    const barrier = (region: string) => {
      let b = barriers.get(region);
      if (!b) {
        let release = () => {};
        const open = new Promise<void>((resolve) => {
          release = resolve;
        });
        b = { arrived: 0, open, release };
        barriers.set(region, b);
        setTimeout(release, 3_000);
      }
      if (++b.arrived >= RACERS) b.release();
      return b.open;
    };
    const output = captureOutput();
    const destructive: {
      region: string;
      operation: string;
      keyId: string;
      aliasTarget?: string;
      policy?: string;
    }[] = [];
    const world = await startWorld({
      iam: true,
      emulator: {
        timeScale: TIME_SCALE,
        propagationDelayMs: 3_000,
        throttle: true,
        seed: 3,
        intercept: (r) => {
          if (r.service === 'kms' && r.operation === 'CreateKey')
            return { kind: 'delay', until: barrier(r.region) };
          if (
            r.service === 'kms' &&
            /^(ScheduleKeyDeletion|DisableKey|PutKeyPolicy|DeleteAlias|UpdateAlias)$/.test(r.operation)
          ) {
            const target = emulator?.state.key(r.region, GUARD_ALIAS)?.keyId;
            destructive.push({
              region: r.region,
              operation: r.operation,
              keyId: String(r.input.KeyId ?? r.input.AliasName),
              ...(target ? { aliasTarget: target } : {}),
              ...(typeof r.input.Policy === 'string' ? { policy: r.input.Policy } : {}),
            });
          }
          return undefined;
        },
      },
    });
    const emu = world.emulator;
    emulator = emu;
    const held = new Map<string, unknown[]>(REGIONS.map((r) => [r, []]));
    // What the template's rules send to the queue: the groups' CreateLogGroup events, held. (The key's own
    // changes, its creators' PutKeyPolicy and ScheduleKeyDeletion, are not this test's subject: dropped.)
    world.onDelivered((e) => {
      const event = e as { region: string; detail?: { eventName?: string } };
      if (event.detail?.eventName === 'CreateLogGroup') held.get(event.region)?.push(e);
    });
    for (const region of REGIONS) {
      pipelines.push(
        world.pipeline({
          region,
          concurrency: RACERS,
          batchSize: 1,
          pollIntervalMs: 50,
          visibilityTimeoutMs: 1_500,
          env: {
            ASSOCIATE_RATE: associateRate(TIME_SCALE, RACERS),
            POWERTOOLS_LOG_LEVEL: 'INFO',
            KMS_KEY_ARN: '',
            EXCLUDE_LOG_GROUPS: '',
          },
        }),
      );
    }
    // The groups exist and their events are held, so that each region's first events arrive together.
    await inParallel(REGIONS, REGIONS.length, async (region) => {
      const { logs } = world.clients(region, { maxAttempts: 10 });
      await inParallel(
        Array.from({ length: RACERS }, (_, i) => `/aws/lambda/race-${i}`),
        10,
        async (name) => void (await logs.send(new CreateLogGroupCommand({ logGroupName: name }))),
      );
    });
    while ([...held.values()].some((events) => events.length < RACERS)) await sleep(20);

    // Act: every region's key checks at once, one per container (each container's changes function: the
    // creators race for the alias); then every region's first events at once.
    REGIONS.forEach((region, i) => {
      for (let c = 0; c < RACERS; c++)
        pipelines[i]?.send(keyCheckItem({ region, account: emu.account, id: `check-${region}-${c}` }));
    });
    await Promise.all(pipelines.map((p) => p.start()));
    const checked = await Promise.all(pipelines.map((p) => p.drain(size(120_000, 600_000))));
    REGIONS.forEach((region, i) => {
      for (const e of held.get(region) ?? []) pipelines[i]?.send(e);
    });
    const drained = await Promise.all(pipelines.map((p) => p.drain(size(120_000, 600_000))));
    output.restore();

    // Assess: per region, from the emulator's state
    const perRegion = REGIONS.map((region, i) => {
      const alias = emu.state.key(region, GUARD_ALIAS);
      // The guard's keys: its policy Id (only the alias winner gets the ManagedBy tag, after creation).
      const guardKeys = emu.state.keys(region).filter((k) => JSON.parse(k.policy).Id === 'logs-kms-guard');
      const groups = emu.state.logGroups(region);
      return {
        region,
        alias: alias?.arn,
        created: guardKeys.length,
        live: guardKeys.filter((k) => k.state === 'Enabled').map((k) => k.arn),
        orphansEnabled: guardKeys.filter((k) => k.arn !== alias?.arn && k.state !== 'PendingDeletion').length,
        unencrypted: groups.filter((g) => g.kmsKeyId !== alias?.arn).map((g) => g.name),
        dlq: pipelines[i]?.dlq.length ?? -1,
      };
    });
    const created = perRegion.reduce((n, r) => n + r.created, 0);
    const retired = destructive.filter((d) => d.operation === 'ScheduleKeyDeletion').length;
    // PutKeyPolicy on the alias key is the winner dropping its own retire statement (and losers merging the
    // same); that it left Logs and root in place is what "every group encrypted" and the policy checks show.
    const aliasHit = destructive.filter(
      (d) =>
        d.operation !== 'PutKeyPolicy' &&
        (d.keyId === d.aliasTarget || d.keyId.endsWith(`/${d.aliasTarget}`)),
    );
    const createKeyCalls = emu.calls.filter((c) => c.operation === 'CreateKey' && !c.error).length;
    figures(
      `race: ${REGIONS.length} regions x ${RACERS} concurrent key checks, ${created} keys created, ` +
        `${retired} retired (pending deletion), live keys per region: ${perRegion.map((r) => r.live.length).join('/')}, ` +
        `${perRegion.reduce((n, r) => n + r.orphansEnabled, 0)} orphans enabled, ` +
        `${perRegion.reduce((n, r) => n + r.unencrypted.length, 0)} groups not on their region's key, ` +
        `alias key scheduled for deletion ${aliasHit.length} times, DLQ ${perRegion.reduce((n, r) => n + r.dlq, 0)}, ` +
        `time scale ${TIME_SCALE}, ${seconds(Date.now() - started)}`,
    );

    expect(checked.every(Boolean)).toBe(true);
    expect(drained.every(Boolean)).toBe(true);
    for (const r of perRegion) {
      expect(r.alias, r.region).toBeDefined();
      expect(r.live, r.region).toEqual([r.alias]);
      expect(r.orphansEnabled, r.region).toBe(0);
      expect(r.unencrypted, r.region).toEqual([]);
      expect(r.dlq, r.region).toBe(0);
    }
    // The race really happened: more keys were created than regions, and the losers retired theirs.
    expect(createKeyCalls).toBe(created);
    expect(created).toBeGreaterThan(REGIONS.length);
    expect(retired).toBe(created - REGIONS.length);
    expect(aliasHit).toEqual([]);
    // Nothing but retiring candidates and, on the alias key only, the guard's own policy without its retire
    // statement (root and Logs statements as created): no DisableKey, no alias change, no other policy write.
    const writes = destructive.filter((d) => d.operation === 'PutKeyPolicy');
    for (const w of writes) {
      // The regions' containers share one principal (local/roles.ts deployRole), named as the role of the first
      // region it was deployed in (the EnforceRole's RoleName names its region).
      const guardRoles = [roleArn({ account: emu.account, region: REGIONS[0] as string }, 'EnforceRole')];
      const expected = defaultKeyPolicy({
        partition: 'aws',
        region: w.region,
        account: emu.account,
        guardRoles,
      });
      expect(w.keyId.endsWith(w.aliasTarget ?? 'no alias yet')).toBe(true);
      expect(JSON.parse(w.policy ?? '{}')).toEqual(expected);
    }
    expect(writes.length).toBeGreaterThanOrEqual(REGIONS.length);
    expect(
      destructive.filter((d) => d.operation !== 'ScheduleKeyDeletion' && d.operation !== 'PutKeyPolicy'),
    ).toEqual([]);
  }, 900_000);
});
