/**
 * The built bundles in separate containers against the emulator: in a fresh region, concurrent guard key checks
 * (the deployment's GuardKeyReady and scheduled checks, dist/changes.mjs: the creators of the key; the enforce
 * function creates none) race to create the guard key; one key wins the alias and the losers retire theirs.
 * Then concurrent first events (dist/enforce.mjs) all use the winner.
 */
import { describe, expect, it } from 'vitest';
import { keyCheckItem } from '../../functions/core/change-event.ts';
import { GUARD_RETIRE_SID } from '../../functions/core/policy.ts';
import { associateRate, GUARD_ALIAS } from '../../local/world.ts';
import {
  callsOf,
  createEvent,
  guardKeys,
  type Handler,
  invokeBatch,
  startWorld,
  succeeded,
} from './helpers.ts';

const CONTAINERS = 4;
const EVENTS = 20;
const TIME_SCALE = 20;

describe('key creation race (dist/changes.mjs then dist/enforce.mjs, separate containers, emulator)', () => {
  it(`${CONTAINERS} concurrent key checks, then ${EVENTS} first events, in a fresh region end with one live key and no orphan`, async () => {
    // Prepare: a fresh account/region, one group per event, containers loaded before anything runs.
    const world = await startWorld({ timeScale: TIME_SCALE, propagationDelayMs: 3_000, throttle: true });
    const names = Array.from({ length: EVENTS }, (_, i) => `/aws/lambda/race-${String(i).padStart(2, '0')}`);
    for (const name of names) world.emulator.state.putLogGroup(world.region, name);
    const containers: Handler[] = [];
    for (let i = 0; i < CONTAINERS; i++) {
      containers.push(await world.container({ ASSOCIATE_RATE: associateRate(TIME_SCALE, CONTAINERS) }));
    }
    const perContainer = EVENTS / CONTAINERS;

    // Act: every container answers a key check at once (its changes function: the creators race), then gets its
    // share of the first events as one SQS batch, all at once.
    const checks = await Promise.all(
      containers.map((handler, c) =>
        invokeBatch(world, handler, [
          keyCheckItem({ region: world.region, account: world.account, id: `check-${c}` }),
        ]),
      ),
    );
    expect(checks.flat()).toEqual([]);
    const failed = await Promise.all(
      containers.map((handler, c) =>
        invokeBatch(
          world,
          handler,
          names.slice(c * perContainer, (c + 1) * perContainer).map((name) => createEvent(world, name)),
        ),
      ),
    );

    // Assess: no record failed.
    expect(failed.flat()).toEqual([]);
    // The race happened (several key checks created a key) and exactly one key won the alias.
    const created = guardKeys(world);
    expect(succeeded(world.emulator, 'CreateKey').length).toBe(created.length);
    expect(created.length).toBeGreaterThan(1);
    const winner = world.emulator.state.key(world.region, GUARD_ALIAS);
    expect(winner?.state).toBe('Enabled');
    expect(winner?.rotation).toBe(true);
    expect(winner?.tags.ManagedBy).toBe('logs-kms-guard');
    // In use: its policy no longer lets the guard retire it.
    expect(winner?.policy).not.toContain(GUARD_RETIRE_SID);
    // No orphan: every other key the guard created is pending deletion, none stays enabled.
    const live = world.emulator.state.keys(world.region).filter((k) => k.state === 'Enabled');
    expect(live.map((k) => k.arn)).toEqual([winner?.arn]);
    for (const loser of created.filter((k) => k.arn !== winner?.arn)) {
      expect(loser.state).toBe('PendingDeletion');
      expect(loser.aliases).toEqual([]);
      // Retired by the authority its own policy gave its creator while it was a candidate.
      expect(loser.policy).toContain(GUARD_RETIRE_SID);
    }
    // Every group is encrypted with the winner's key, and each was associated exactly once.
    for (const name of names)
      expect(world.emulator.state.logGroup(world.region, name)?.kmsKeyId).toBe(winner?.arn);
    expect(succeeded(world.emulator, 'AssociateKmsKey').length).toBe(EVENTS);
    // The alias was claimed once; every other claim was refused by CreateAlias, the lock.
    const aliasCalls = callsOf(world.emulator, 'CreateAlias');
    expect(aliasCalls.filter((c) => !c.error)).toHaveLength(1);
    expect(aliasCalls.filter((c) => c.error === 'AlreadyExistsException')).toHaveLength(created.length - 1);
    expect(succeeded(world.emulator, 'ScheduleKeyDeletion')).toHaveLength(created.length - 1);
    const decisions = world.output.decisions();
    expect(decisions.filter((d) => d.outcome === 'encrypted')).toHaveLength(EVENTS);
  });
});
