/**
 * What a doctor check is. Each check is a function of one region's inputs and of what the checks before it
 * found out (the account, the queue, the key, its policy, the enforce function); it returns its findings and
 * what it learned. A check that cannot run says so as a warning instead of failing the others.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { GuardConfig } from '../../core/config.ts';
import type { PolicyDocument } from '../../core/policy.ts';
import { type CliClients, describeAwsError, type ErrorHints } from '../aws.ts';
import type { CentralizationRulesSource } from './centralization.ts';

/** How a check came out: `fail` makes doctor exit 1; `info` is neither good nor bad (an optional feature off). */
export type CheckStatus = 'ok' | 'info' | 'warn' | 'fail';

/** One finding as doctor prints it: where, which check, how it came out, what it saw, and how to fix it. */
export interface Check {
  region: string;
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** A finding before the runner names its region. */
export type Finding = Omit<Check, 'region'>;

/** The flags of `doctor` the checks read. */
export interface DoctorOptions {
  rule?: string;
  rulePrefix?: string;
  function?: string;
  /** A file of the organization's centralization rules (centralization.ts). */
  centralizationRules?: string;
}

/** What a region's checks start from. */
export interface RegionInput {
  clients: CliClients;
  config: GuardConfig;
  region: string;
  options: DoctorOptions;
  /** The time the recent-failures window ends at (epoch ms). */
  now: number;
  /** What the run was pointed at (AWS_ENDPOINT_URL, the profile), for errors that name what to check. */
  hints?: ErrorHints;
  /** The organization's CloudWatch Logs centralization rules, when given (`--centralization-rules`). */
  centralization?: CentralizationRulesSource;
}

/** What earlier checks of a region found out, for the checks after them. */
export interface RegionFacts {
  /** The caller's account (credentials). */
  account?: string;
  /** The queue the EventBridge rule sends to (rule). */
  queueArn?: string;
  /** The guard key, when it exists (key). */
  key?: KeyMetadata;
  /** The guard key's policy, when it could be read (key policy). */
  keyPolicy?: PolicyDocument;
  /** The enforce function's name, from --function or the queue's consumer (recent failures). */
  enforceFunction?: string;
}

/** What every check is given: the region's inputs and the facts so far. */
export type CheckInput = RegionInput & RegionFacts;

/** What a check returns: its findings, what it learned, and whether no check after it can run. */
export interface CheckResult {
  findings: Finding[];
  learned?: RegionFacts;
  stop?: boolean;
}

/** One check of the list. */
export type DoctorCheck = (input: CheckInput) => Promise<CheckResult> | CheckResult;

/** A finding; `fix` only when there is one. */
export function finding(check: string, status: CheckStatus, detail: string, fix?: string): Finding {
  return { check, status, detail, ...(fix ? { fix } : {}) };
}

/** The warning of a check that could not run (a service not reachable, a call denied). */
export function couldNot(check: string, err: unknown): Finding {
  return finding(check, 'warn', `could not check: ${describeAwsError(err)}`);
}
