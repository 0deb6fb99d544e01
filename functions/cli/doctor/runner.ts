/**
 * The doctor's list of checks, in the order they run and print, and the runner that takes one region through
 * it: each check gets what the checks before it learned (the account, the queue, the key and its policy, the
 * enforce function), so the order of the list is part of its meaning.
 */
import { oldestPendingCall } from '../aws.ts';
import { checkCentralizationRules } from './centralization.ts';
import {
  type Check,
  type CheckResult,
  type DoctorCheck,
  finding,
  type RegionFacts,
  type RegionInput,
} from './check.ts';
import { checkCloudTrail } from './cloudtrail.ts';
import { checkCredentials } from './credentials.ts';
import { checkRecentFailures } from './enforce-function.ts';
import { checkKey, checkKeyRotation } from './key.ts';
import { checkKeyDependencies } from './key-dependencies.ts';
import { checkFunctionRole, checkKeyPolicy, checkQueryResults } from './key-policy.ts';
import { checkKeyProtection } from './key-protection.ts';
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
  checkKeyProtection,
  checkCentralizationRules,
  checkKeyDependencies,
];

/** How long one check may wait on AWS (one call's request and connection timeouts) before it is given up. */
export const CHECK_TIMEOUT_MS = 25_000;

/** A check bounded by `ms`: past it, a failure that says AWS did not answer, and no check after it runs. */
async function bounded(run: Promise<CheckResult> | CheckResult, ms: number): Promise<CheckResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      const call = oldestPendingCall();
      resolve({
        findings: [
          finding(
            'aws',
            'fail',
            `no answer from AWS within ${ms / 1000} s${call ? ` (${call.operation})` : ''}: the checks after it were not run`,
            'check AWS_ENDPOINT_URL if set, the network path to AWS (proxy, firewall, DNS) and the region',
          ),
        ],
        stop: true,
      });
    }, ms);
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The findings of one region: every check of the list in order, each bounded in time, until one says nothing
 * after it can run; `onFindings` gets each check's findings as soon as it has them (printed as they come).
 */
export async function doctorRegion(
  input: RegionInput,
  onFindings?: (found: Check[]) => void,
  signal?: AbortSignal,
): Promise<Check[]> {
  const checks: Check[] = [];
  let facts: RegionFacts = {};
  for (const check of DOCTOR_CHECKS) {
    // Ctrl-C: no check after it runs (the one in flight had its reads aborted: its findings are not kept).
    if (signal?.aborted) break;
    const result = await bounded(check({ ...input, ...facts }), CHECK_TIMEOUT_MS);
    if (signal?.aborted) break;
    const found = result.findings.map((f) => ({ region: input.region, ...f }));
    checks.push(...found);
    onFindings?.(found);
    facts = { ...facts, ...result.learned };
    if (result.stop) break;
  }
  return checks;
}
