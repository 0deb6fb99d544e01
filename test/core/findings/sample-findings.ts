/** One finding of each kind (and a resolved one), as the guard's steps report them: test data for the sinks. */
import type { GuardFinding } from '../../../functions/core/finding.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const group = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const base = { account: ACCOUNT, region: REGION, observedAt: '2026-12-07T18:00:00.000Z' };

/** One finding of every kind, the last one RESOLVED. */
export const SAMPLE_FINDINGS: GuardFinding[] = [
  {
    ...base,
    kind: 'group-not-encryptable',
    state: 'ACTIVE',
    severity: 'HIGH',
    resource: { type: 'log-group', arn: group('/app/orders'), name: '/app/orders' },
    title: 'Log group /app/orders cannot be encrypted',
    description: 'AssociateKmsKey was denied by an explicit Deny in a service control policy.',
    fix: 'Allow logs:AssociateKmsKey for the guard role in the SCP, then run `logs-kms-guard run`.',
  },
  {
    ...base,
    kind: 'key-at-risk',
    state: 'ACTIVE',
    severity: 'CRITICAL',
    resource: { type: 'kms-key', arn: KEY, name: 'alias/logs-kms-guard' },
    title: 'KMS key scheduled for deletion while 3 log groups use it',
    description: 'ScheduleKeyDeletion on the guard key; 3 log groups depend on it.',
    fix: `aws kms cancel-key-deletion --key-id ${KEY}`,
    dependents: ['/app/a', '/app/b', '/app/c'],
    unreadableFrom: '2026-12-14T18:00:00.000Z',
  },
  {
    ...base,
    kind: 'key-policy-repaired',
    state: 'ACTIVE',
    severity: 'MEDIUM',
    resource: { type: 'kms-key', arn: KEY, name: 'alias/logs-kms-guard' },
    title: 'Guard key policy narrowed and repaired',
    description: 'PutKeyPolicy removed the CloudWatch Logs statement; the guard merged it back.',
  },
  {
    ...base,
    kind: 'group-fought-over',
    state: 'ACTIVE',
    severity: 'LOW',
    resource: { type: 'log-group', arn: group('/tf/app'), name: '/tf/app' },
    title: 'Log group /tf/app keeps losing its key',
    description: 'terraform removed the key 3 times this week.',
    fix: 'Declare kms_key_id on the aws_cloudwatch_log_group resource.',
    tool: 'terraform',
  },
  {
    ...base,
    kind: 'guard-unhealthy',
    state: 'RESOLVED',
    severity: 'INFORMATIONAL',
    resource: {
      type: 'guard',
      arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:logs-kms-guard-prod-EnforceDlq`,
      name: 'EnforceDlq',
    },
    title: 'The enforce DLQ is empty again',
    description: 'The messages were redriven.',
  },
];
