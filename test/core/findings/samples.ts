/**
 * Sample findings of every kind and state, and log-group states of every compliance, shared by the format
 * tests, the findings function's tests and the end-to-end test: what the guard's steps write.
 */
import type { FindingKind, GuardFinding } from '../../../functions/core/finding.ts';
import type { GroupState } from '../../../functions/core/findings/group.ts';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

/** One finding of `kind` in `state`, about the group or key `name`. */
export function sampleFinding(
  kind: FindingKind,
  state: GuardFinding['state'] = 'ACTIVE',
  name = '/app/one',
): GuardFinding {
  const resource =
    kind === 'key-at-risk' || kind === 'key-policy-repaired'
      ? { type: 'kms-key' as const, arn: KEY, name: 'alias/logs-kms-guard' }
      : kind === 'guard-unhealthy'
        ? {
            type: 'guard' as const,
            arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:logs-kms-guard-sweep`,
            name: 'logs-kms-guard-sweep',
          }
        : { type: 'log-group' as const, arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`, name };
  return {
    kind,
    state,
    severity: kind === 'key-at-risk' ? 'HIGH' : 'MEDIUM',
    account: ACCOUNT,
    region: REGION,
    resource,
    title: `${kind} on ${resource.name}`,
    description: `The guard saw ${kind} on ${resource.name}.`,
    ...(state === 'ACTIVE'
      ? { fix: `aws logs associate-kms-key --log-group-name ${name} --kms-key-id ${KEY}` }
      : {}),
    observedAt: '2026-12-07T10:00:00.000Z',
    ...(kind === 'key-at-risk'
      ? { dependents: ['/app/one', '/app/two'], unreadableFrom: '2026-12-30T00:00:00.000Z' }
      : {}),
    ...(kind === 'group-fought-over' ? { tool: 'terraform' } : {}),
  };
}

export const KINDS: FindingKind[] = [
  'group-not-encryptable',
  'key-at-risk',
  'key-policy-repaired',
  'group-fought-over',
  'guard-unhealthy',
];

const group = (logGroup: string, over: Partial<GroupState>): GroupState => ({
  account: ACCOUNT,
  region: REGION,
  logGroup,
  keyState: 'no-key',
  inScope: true,
  kmsKeyId: '',
  keyStatus: '',
  note: '',
  atRisk: '',
  unreadableFrom: '',
  ...over,
});

/** A group in each compliance the audit reports, with the status each must map to. */
export const GROUP_STATES: [GroupState, string][] = [
  [group('/app/guarded', { keyState: 'guard-key', kmsKeyId: KEY, keyStatus: 'Enabled' }), 'PASSED'],
  [
    group('/app/own-cmk', {
      keyState: 'other-key',
      kmsKeyId: KEY.replace('1111', '9999'),
      keyStatus: 'Enabled',
    }),
    'PASSED',
  ],
  [group('/app/plain', { note: 'unencrypted' }), 'FAILED'],
  [group('/opted/out', { inScope: false, note: 'opted out by tag' }), 'WARNING'],
  [group('aws/reserved', { keyState: 'reserved', inScope: false }), 'NOT_AVAILABLE'],
  [
    group('/app/doomed', {
      keyState: 'key-unusable',
      kmsKeyId: KEY,
      keyStatus: 'PendingDeletion',
      atRisk: 'key-pending-deletion',
      unreadableFrom: '2026-12-30T00:00:00.000Z',
    }),
    'FAILED',
  ],
  [group('/app/disabled', { keyState: 'key-unusable', kmsKeyId: KEY, keyStatus: 'Disabled' }), 'FAILED'],
];
