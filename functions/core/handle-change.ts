/**
 * The changes function's step for one later change (drift.ts): handled once per CloudTrail event in this
 * container (a duplicate delivered meanwhile shares the running one; a late one raises no second alarm) and
 * once across containers (the claim, once.ts). Passed to handle.ts as `onChange`.
 */
import type { ChangeRequest } from './change-event.ts';
import type { Clock } from './clock.ts';
import { handleChange } from './drift.ts';
import { coreDeps, type HandleDeps, type HandledEvent } from './handle.ts';
import { rememberHandled, shareRunning } from './once.ts';

/** A change after creation (drift.ts); one handling per CloudTrail event in this container (duplicates share it). */
export async function handleChangeEvent(
  change: ChangeRequest,
  deps: HandleDeps,
  clock: Clock,
): Promise<HandledEvent> {
  const base = { logGroupName: change.name ?? '', eventId: change.eventId };
  const key = `change:${change.eventId}`;
  if (deps.handledChanges?.has(key)) {
    return {
      ...base,
      outcome: 'change-ignored',
      reason: 'a duplicate delivery of an event already handled',
      retry: false,
    };
  }
  const running = deps.inflight?.get(key);
  // The guard's own writes (its policy merges) come back as events: drift.ts ignores them, at zero calls.
  const own = change.callerRole !== undefined && change.callerRole === deps.config.guardRoleArn;
  // Key checks are idempotent and come every 15 minutes: no claim (a log stream each) for them.
  const claim = change.change === 'key-check' || running || own ? undefined : deps.claim;
  if (claim && !(await claim(change.eventId))) {
    rememberHandled(deps.handledChanges, key);
    return {
      ...base,
      outcome: 'change-ignored',
      reason: 'a duplicate delivery another container is handling',
      retry: false,
    };
  }
  const result = await shareRunning(
    deps.inflight,
    key,
    () => handleChange(change, coreDeps(deps, change.region, clock)),
    () => rememberHandled(deps.handledChanges, key),
  );
  return { ...result, ...base, logGroupName: result.logGroupName || base.logGroupName, retry: false };
}
