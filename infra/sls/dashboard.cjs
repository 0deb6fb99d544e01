// The CloudWatch dashboard of the stack (issue 22 item 5), merged into serverless.yml's resources. Built here
// rather than written as one long JSON string in YAML: the widgets are a list, the body is their JSON inside
// Fn::Sub (the only `${...}` in it are the stack's own names). Every LogsKmsGuard metric shown is one the
// functions emit (functions/core/guard-function.ts METRIC_NAMES, functions/sweep.ts METRICS, the alert metrics of
// functions/core/key.ts), under the namespace and `service` dimension the alarms use; the AWS/* metrics name the
// stack's own queues and functions. test/deploy/dashboard.test.ts holds both to the code and the template.
// Widget reference: CloudWatch API Reference, "Dashboard Body Structure and Syntax".

/** A CloudFormation `${Name}` placeholder of the Fn::Sub body. */
const sub = (name) => `$${'{'}${name}}`;
const NS = 'LogsKmsGuard';
const SERVICE = ['service', 'logs-kms-guard'];
const HOUR = 3600;
const DAY = 86400;

/** A LogsKmsGuard count as a widget metric row (`options`: stat, label, id, visible…). */
const guard = (name, options = {}) => [NS, name, ...SERVICE, { stat: 'Sum', ...options }];

/** One time-series widget. */
function graph(title, metrics, { x, y, width = 12, height = 6, period = 300, stacked = false, yLabel } = {}) {
  return {
    type: 'metric',
    x,
    y,
    width,
    height,
    properties: {
      title,
      region: sub('AWS::Region'),
      view: 'timeSeries',
      stacked,
      period,
      metrics,
      ...(yLabel ? { yAxis: { left: { label: yLabel, showUnits: false } } } : {}),
    },
  };
}

/** The widgets, top to bottom (`sweepFunction`: the sweep's name, deployed or not: its widgets then show nothing). */
function widgets(sweepFunction) {
  const enforceFn = sub('EnforceLambdaFunction');
  const changesFn = sub('ChangesLambdaFunction');
  const sweepFn = sweepFunction;
  return [
    {
      type: 'text',
      x: 0,
      y: 0,
      width: 24,
      height: 2,
      properties: {
        markdown:
          "## logs-kms-guard\nCoverage, work and failures of the guard in this account and region. Alarms: the stack's alarm topic. Findings: Security Hub and the `logs-kms-guard` EventBridge events (docs/EVENTS.md).",
      },
    },
    graph(
      'Coverage: in-scope groups already encrypted when the sweep looked (%)',
      [
        guard('SweepListed', { id: 'listed', visible: false }),
        guard('SweepUnencryptedInScope', { id: 'missed', visible: false }),
        [
          {
            expression: '100 * (1 - FILL(missed, 0) / listed)',
            label: 'Encrypted before the sweep (%)',
            id: 'coverage',
          },
        ],
      ],
      { x: 0, y: 2, period: DAY, yLabel: '%' },
    ),
    graph(
      'Log groups encrypted per hour',
      [
        guard('Encrypted', { label: 'New groups (events)' }),
        guard('ReEncrypted', { label: 'Re-encrypted after losing the key' }),
        guard('SweepQueued', { label: 'Found by the sweep (queued)' }),
        guard('SweepEncrypted', { label: 'Encrypted by the sweep itself' }),
      ],
      { x: 12, y: 2, period: HOUR, stacked: true },
    ),
    graph(
      'Failures',
      [
        guard('Failed', { label: 'Enforce: failed (retried)' }),
        guard('NotEncryptable', { label: 'Enforce: not encryptable' }),
        guard('UnsafeKeyRefused', { label: 'Unsafe key refused' }),
        guard('SweepFailed', { label: 'Sweep: failed' }),
        guard('CustomResourceRefused', { label: 'Custom resource refused' }),
        [
          'AWS/Lambda',
          'Errors',
          'FunctionName',
          enforceFn,
          { stat: 'Sum', label: 'Enforce function errors' },
        ],
        [
          'AWS/Lambda',
          'Errors',
          'FunctionName',
          changesFn,
          { stat: 'Sum', label: 'Changes function errors' },
        ],
        ['AWS/Lambda', 'Errors', 'FunctionName', sweepFn, { stat: 'Sum', label: 'Sweep function errors' }],
      ],
      { x: 0, y: 8 },
    ),
    graph(
      'Queues: dead letters and backlog',
      [
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          sub('EnforceDlq.QueueName'),
          { stat: 'Maximum', label: 'Enforce DLQ' },
        ],
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          sub('RuleTargetDlq.QueueName'),
          { stat: 'Maximum', label: 'Rule target DLQ' },
        ],
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          sub('EnforceQueue.QueueName'),
          { stat: 'Maximum', label: 'Work queue backlog' },
        ],
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          sub('ChangesQueue.QueueName'),
          { stat: 'Maximum', label: 'Changes queue backlog' },
        ],
        [
          'AWS/SQS',
          'ApproximateAgeOfOldestMessage',
          'QueueName',
          sub('EnforceQueue.QueueName'),
          { stat: 'Maximum', label: 'Oldest work item (s)', yAxis: 'right' },
        ],
      ],
      { x: 12, y: 8 },
    ),
    graph(
      'Throttles',
      [
        [
          'AWS/Lambda',
          'Throttles',
          'FunctionName',
          enforceFn,
          { stat: 'Sum', label: 'Enforce function throttled' },
        ],
        [
          'AWS/Lambda',
          'Throttles',
          'FunctionName',
          sweepFn,
          { stat: 'Sum', label: 'Sweep function throttled' },
        ],
        // AWS/Usage: the account's AssociateKmsKey calls, against the fixed 5 TPS quota (300 a minute).
        [
          'AWS/Usage',
          'CallCount',
          'Type',
          'API',
          'Resource',
          'AssociateKmsKey',
          'Service',
          'Logs',
          'Class',
          'None',
          { stat: 'Sum', period: 60, label: 'AssociateKmsKey calls a minute (quota 300)', yAxis: 'right' },
        ],
      ],
      { x: 0, y: 14 },
    ),
    graph(
      'Keys at risk, key changes and what needs attention',
      [
        guard('KeyAtRisk', { stat: 'Maximum', label: 'Groups on a key at risk' }),
        guard('KeyPolicyRepaired', { label: 'Key policy repaired' }),
        guard('KeyAliasChanged', { label: 'Guard alias changed' }),
        guard('KeyHousekeepingFailed', { label: 'Key housekeeping failed' }),
        guard('KeyRestored', { label: 'Guard key restored' }),
        guard('IacConflict', { label: 'IaC conflict (a tool removes the key at every apply)' }),
        // What NeedsAttentionAlarm reads: the sum of its seven causes (the lines of this widget and of Failures
        // and "encrypted per hour" name which one it was).
        guard('NeedsAttention', { label: 'Needs attention (the alarm)' }),
      ],
      { x: 12, y: 14, period: HOUR },
    ),
    graph(
      "The sweep's runs (completed, yielded) and what it listed",
      [
        guard('SweepCompleted', { label: 'Runs completed' }),
        guard('SweepYielded', { label: 'Runs yielded' }),
        guard('SweepListed', { label: 'Groups listed', yAxis: 'right' }),
        guard('SweepOutOfScope', { label: 'Out of scope', yAxis: 'right' }),
      ],
      { x: 0, y: 20, width: 24, period: HOUR },
    ),
  ];
}

/** The dashboard's body as Fn::Sub (the stack's names resolved at deployment). */
function dashboardBody(sweepFunction) {
  return { 'Fn::Sub': JSON.stringify({ start: '-P7D', widgets: widgets(sweepFunction) }) };
}

module.exports = async ({ resolveVariable }) => {
  // osls names functions <service>-<stage>-<function> (the sweep's own policy uses the same name).
  const sweepFunction = `${await resolveVariable('self:service')}-${await resolveVariable('sls:stage')}-sweep`;
  return {
    resources: {
      Resources: {
        // One dashboard per stack (account and region): $3 a month beyond an account's three free ones.
        GuardDashboard: {
          Type: 'AWS::CloudWatch::Dashboard',
          // Dashboard=false (an organization: one dashboard in the monitoring account instead).
          Condition: 'HasDashboard',
          Properties: {
            DashboardName: { 'Fn::Sub': `${sub('AWS::StackName')}-${sub('AWS::Region')}` },
            DashboardBody: dashboardBody(sweepFunction),
          },
        },
      },
      Outputs: {
        DashboardName: { Condition: 'HasDashboard', Value: { Ref: 'GuardDashboard' } },
      },
    },
  };
};
