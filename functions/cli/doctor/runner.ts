/**
 * The doctor's list of checks, in the order they run and print, and the runner that takes one region through
 * it: each check gets what the checks before it learned (the account, the queue, the key and its policy, the
 * enforce function), so the order of the list is part of its meaning.
 */
import type { Check, DoctorCheck, RegionFacts, RegionInput } from './check.ts';
import { checkCloudTrail } from './cloudtrail.ts';
import { checkCredentials } from './credentials.ts';
import { checkRecentFailures } from './enforce-function.ts';
import { checkKey, checkKeyRotation } from './key.ts';
import { checkFunctionRole, checkKeyPolicy, checkQueryResults } from './key-policy.ts';
import { checkQueue } from './queue.ts';
import { checkRule } from './rule.ts';

/** Every check, in order: the path of an event (trail, rule, queue), the key, then what needs them. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  checkCredentials,
  checkCloudTrail,
  checkRule,
  checkQueue,
  checkKey,
  checkKeyRotation,
  checkKeyPolicy,
  checkRecentFailures,
  checkQueryResults,
  checkFunctionRole,
];

/** The findings of one region: every check of the list in order, until one says nothing after it can run. */
export async function doctorRegion(input: RegionInput): Promise<Check[]> {
  const checks: Check[] = [];
  let facts: RegionFacts = {};
  for (const check of DOCTOR_CHECKS) {
    const result = await check({ ...input, ...facts });
    checks.push(...result.findings.map((f) => ({ region: input.region, ...f })));
    facts = { ...facts, ...result.learned };
    if (result.stop) break;
  }
  return checks;
}
