/**
 * What the emulator's own tests share: an emulator per test (stopped after it) with the world's clients on it,
 * without SDK retries so that each test sees the emulator's first answer, clients signed as another caller, and
 * the rejection of a call.
 */
import { afterEach } from 'vitest';
import type { Clients } from '../../../functions/core/clients.ts';
import type { EmulatorOptions } from '../../../local/emulator/emulator.ts';
import { startEmulator } from '../../../local/emulator/server.ts';
import { REGION, type World, worldOf } from '../../../local/world.ts';

const running: World[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((world) => world.stop()));
});

/**
 * Starts an emulator (stopped after the test) and the world around it, without SDK retries. Not startWorld: its
 * IAM would make the world's credentials an admin, and these tests see them refused like any other caller.
 */
export async function setup(options: EmulatorOptions = {}, region = REGION): Promise<World> {
  const emulator = await startEmulator({ port: 0, ...options });
  const world = worldOf(emulator, { region, sdk: { maxAttempts: 1 } });
  running.push(world);
  return world;
}

/** KMS and Logs clients on `world`'s emulator signed with another access key, without SDK retries. */
export function signedAs(world: World, accessKeyId: string): Clients {
  return world.clients(world.region, { credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1 });
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $fault?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}
