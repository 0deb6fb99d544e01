/**
 * The audit's key checks: for each key a listed group is encrypted with, is the group's data at risk? A key
 * scheduled for deletion (unreadable for good at its DeletionDate), a disabled key, or a key policy that no
 * longer admits CloudWatch Logs. One DescribeKey and one GetKeyPolicy per distinct key per sweep run, shared
 * by every group on that key (concurrent lookups share the pending call); nothing here changes a key.
 */
import { DescribeKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { parseArn, partitionOf } from '../arn.ts';
import type { Clients } from '../clients.ts';
import type { Log } from '../log.ts';
import { admitsLogs, type PolicyDocument, parsePolicy } from '../policy.ts';

/**
 * Why an audited group's data is at risk: its key is scheduled for deletion (the data becomes unreadable for
 * good at the key's DeletionDate), disabled, or its key policy no longer admits CloudWatch Logs.
 */
export type KeyRisk = 'key-pending-deletion' | 'key-disabled' | 'key-policy-excludes-logs';

/** What the key policy says about CloudWatch Logs (`unknown`: the policy could not be read, e.g. AccessDenied). */
export type KeyPolicyVerdict = 'admits-logs' | 'excludes-logs' | 'unknown';

/** What DescribeKey said about one key (audit). */
export interface KeyFacts {
  /** KeyState, with the KeySpec appended when the key is not symmetric (`Enabled RSA_2048`). */
  status: string;
  state: string;
  /** ISO 8601, for a key pending deletion. */
  deletionDate?: string;
}

/** Where an audited group's key leaves its data. */
export interface KeyRiskFinding {
  facts: KeyFacts;
  keyPolicy?: KeyPolicyVerdict;
  atRisk?: KeyRisk;
}

/** The checks of one sweep run, with their per-key caches. */
export interface KeyRiskChecks {
  /** Where the key `kmsKeyId` of the group `groupArn` leaves the group's data (see KeyRisk). */
  riskOf(kmsKeyId: string, groupArn: string): Promise<KeyRiskFinding>;
}

/** Makes the key checks of one run: each key is described once and its policy read once, whatever the groups. */
export function createKeyRiskChecks(context: {
  clients: Clients;
  region: string;
  /** The run's account, for a group ARN that names none. */
  account?: string | undefined;
  log: Log;
}): KeyRiskChecks {
  const { clients, region, log } = context;
  const statusOf = oncePerKey(
    (arn): Promise<KeyFacts> =>
      clients.kms
        .send(new DescribeKeyCommand({ KeyId: arn }))
        .then((out): KeyFacts => {
          const meta = out?.KeyMetadata;
          const state = meta?.KeyState ?? 'unknown';
          const spec = meta?.KeySpec ?? 'SYMMETRIC_DEFAULT';
          return {
            status: spec === 'SYMMETRIC_DEFAULT' ? state : `${state} ${spec}`,
            state,
            ...(meta?.DeletionDate ? { deletionDate: new Date(meta.DeletionDate).toISOString() } : {}),
          };
        })
        .catch((err: Error) => {
          const status = err.name === 'NotFoundException' ? 'NotFound' : 'unknown';
          return { status, state: status };
        }),
  );
  // A policy the caller may not read (or that fails) is `unknown`.
  const policyOf = oncePerKey(
    (arn): Promise<PolicyDocument | undefined> =>
      clients.kms
        .send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: 'default' }))
        .then((out) => (out?.Policy ? parsePolicy(out.Policy) : undefined))
        .catch((err: Error) => {
          log.debug('audit: the key policy could not be read; not checked', {
            kmsKeyId: arn,
            error: `${err.name}: ${err.message}`,
          });
          return undefined;
        }),
  );
  const riskOf = async (kmsKeyId: string, groupArn: string): Promise<KeyRiskFinding> => {
    const facts = await statusOf(kmsKeyId);
    const out: KeyRiskFinding = { facts };
    if (facts.state === 'PendingDeletion' || facts.state === 'PendingReplicaDeletion') {
      out.atRisk = 'key-pending-deletion';
    } else if (facts.state === 'Disabled') out.atRisk = 'key-disabled';
    else if (facts.status === 'Enabled') {
      const policy = await policyOf(kmsKeyId);
      const account = parseArn(groupArn)?.account || context.account || parseArn(kmsKeyId)?.account || '';
      out.keyPolicy = !policy
        ? 'unknown'
        : admitsLogs(policy, { partition: partitionOf(region), region, account })
          ? 'admits-logs'
          : 'excludes-logs';
      if (out.keyPolicy === 'excludes-logs') out.atRisk = 'key-policy-excludes-logs';
    }
    return out;
  };
  return { riskOf };
}

/** `load` called once per key: later and concurrent callers share the first call's promise. */
function oncePerKey<T>(load: (arn: string) => Promise<T>): (arn: string) => Promise<T> {
  const pending = new Map<string, Promise<T>>();
  return (arn) => {
    let p = pending.get(arn);
    if (!p) {
      p = load(arn);
      pending.set(arn, p);
    }
    return p;
  };
}
