// The IAM policy a principal needs to deploy, update and remove one logs-kms-guard stack with `npm run deploy`
// (`osls deploy`, `osls remove`, `osls info`), in ONE place: docs/DEPLOY.md points here, and
// test/deploy/deployer-policy.test.ts holds it to what it must cover. It is derived from two sources:
//
//  - what osls itself calls (OSLS_CALLS: the SDK commands of node_modules/osls/lib/plugins/aws/{deploy,remove,
//    info,lib} and provider.js, found by a scan in the test; the ones it never makes for this service are in
//    OSLS_CALLS_NOT_MADE, each with the reason);
//  - what CloudFormation calls with the deployer's credentials (no service role) for each resource type of the
//    packaged templates (RESOURCE_TYPE_ACTIONS: the `handlers.create/update/delete/read.permissions` of each type's
//    registry schema, limited to the properties this template sets).
//
//   node infra/deployer-policy.mjs --account 111122223333 --region us-east-1 [--stage prod] [--partition aws]
//
// prints the policy document for that account, region and stage. Every statement names resources of this stack
// (names CloudFormation generates start with the stack name `logs-kms-guard-<stage>`), except where AWS offers
// no narrower form: those statements are in WILDCARDS with the reason, and the test refuses any other `*`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The IAM action(s) each SDK command osls sends is authorised as (S3's are not named after the call). */
export const OSLS_CALLS = {
  'cloudformation:CreateStack': ['cloudformation:CreateStack'],
  'cloudformation:UpdateStack': ['cloudformation:UpdateStack'],
  'cloudformation:DeleteStack': ['cloudformation:DeleteStack'],
  'cloudformation:CreateChangeSet': ['cloudformation:CreateChangeSet'],
  'cloudformation:DescribeChangeSet': ['cloudformation:DescribeChangeSet'],
  'cloudformation:ExecuteChangeSet': ['cloudformation:ExecuteChangeSet'],
  'cloudformation:DeleteChangeSet': ['cloudformation:DeleteChangeSet'],
  'cloudformation:DescribeStacks': ['cloudformation:DescribeStacks'],
  'cloudformation:DescribeStackEvents': ['cloudformation:DescribeStackEvents'],
  'cloudformation:DescribeStackResource': ['cloudformation:DescribeStackResource'],
  'cloudformation:DescribeStackResources': ['cloudformation:DescribeStackResources'],
  'cloudformation:ListStackResources': ['cloudformation:ListStackResources'],
  'cloudformation:GetTemplate': ['cloudformation:GetTemplate'],
  'cloudformation:ValidateTemplate': ['cloudformation:ValidateTemplate'],
  'cloudformation:ListExports': ['cloudformation:ListExports'],
  's3:HeadBucket': ['s3:ListBucket'],
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:ListObjectVersions': ['s3:ListBucketVersions'],
  's3:HeadObject': ['s3:GetObject'],
  's3:PutObject': ['s3:PutObject'],
  's3:DeleteObjects': ['s3:DeleteObject', 's3:DeleteObjectVersion'],
  'lambda:GetFunction': ['lambda:GetFunction'],
};

/** SDK commands in the scanned osls sources that a deployment of this service never sends, and why. */
export const OSLS_CALLS_NOT_MADE = {
  'sts:GetCallerIdentity': 'needs no permission (STS answers it for every principal)',
  'cloudformation:SetStackPolicy': 'only with provider.stackPolicy, which serverless.yml does not set',
  'cloudformation:UpdateTerminationProtection': 'only with provider.deletionProtection, not set',
  'cloudwatch-logs:DescribeSubscriptionFilters': 'only for functions with cloudwatchLog events; none here',
  'cloudwatch-logs:DeleteSubscriptionFilter': 'only for functions with cloudwatchLog events; none here',
  'ecr:GetAuthorizationToken': 'only for container-image functions; these are zips',
  'ecr:DescribeRepositories': 'only for container-image functions',
  'ecr:CreateRepository': 'only for container-image functions',
  'ecr:PutLifecyclePolicy': 'only for container-image functions',
  'ecr:DescribeImages': 'only for container-image functions',
  'ecr:DeleteRepository': 'only for container-image functions',
  'apigatewayv2:GetApi': 'only for httpApi events; none here',
  'api-gateway:GetApiKey': 'only for API Gateway API keys; none here',
};

/**
 * What CloudFormation calls with the deployer's credentials per resource type of the packaged templates
 * (registry schema handler permissions for create, update, delete and read, for the properties used here).
 */
export const RESOURCE_TYPE_ACTIONS = {
  'AWS::S3::Bucket': [
    's3:CreateBucket',
    's3:PutEncryptionConfiguration',
    's3:GetEncryptionConfiguration',
    's3:PutBucketTagging',
    's3:GetBucketTagging',
    's3:GetBucketLocation',
    's3:DeleteBucket',
  ],
  'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy', 's3:GetBucketPolicy', 's3:DeleteBucketPolicy'],
  // Checked against the schema in aws-cloudformation/aws-cloudformation-resource-providers-logs (which names the
  // older TagLogGroup/ListTagsLogGroup/UntagLogGroup; the registry's current handlers use the *Resource forms), less
  // AssociateKmsKey/DisassociateKmsKey (only for a KmsKeyId, which the template never sets).
  'AWS::Logs::LogGroup': [
    'logs:DescribeLogGroups',
    'logs:CreateLogGroup',
    'logs:PutRetentionPolicy',
    'logs:DeleteRetentionPolicy',
    'logs:TagLogGroup',
    'logs:UntagLogGroup',
    'logs:ListTagsLogGroup',
    'logs:TagResource',
    'logs:UntagResource',
    'logs:ListTagsForResource',
    'logs:DeleteLogGroup',
  ],
  'AWS::IAM::Role': [
    'iam:CreateRole',
    'iam:GetRole',
    'iam:UpdateRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePolicy',
    'iam:GetRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:ListRolePolicies',
    'iam:ListAttachedRolePolicies',
    'iam:TagRole',
    'iam:UntagRole',
    'iam:DeleteRole',
  ],
  'AWS::Lambda::Function': [
    'lambda:CreateFunction',
    'lambda:GetFunction',
    'lambda:GetFunctionConfiguration',
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'lambda:TagResource',
    'lambda:UntagResource',
    'lambda:ListTags',
    'lambda:GetFunctionCodeSigningConfig',
    'lambda:GetRuntimeManagementConfig',
    'lambda:PutRuntimeManagementConfig',
    'lambda:DeleteFunction',
    'iam:PassRole',
    's3:GetObject',
    's3:GetObjectVersion',
  ],
  'AWS::Lambda::Version': [
    'lambda:PublishVersion',
    'lambda:GetFunctionConfiguration',
    'lambda:ListVersionsByFunction',
    'lambda:GetRuntimeManagementConfig',
    'lambda:DeleteFunction',
  ],
  'AWS::Lambda::EventSourceMapping': [
    'lambda:CreateEventSourceMapping',
    'lambda:GetEventSourceMapping',
    'lambda:UpdateEventSourceMapping',
    'lambda:DeleteEventSourceMapping',
    'lambda:ListEventSourceMappings',
  ],
  'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy'],
  // The findings function (SecurityHubFindings=true): its retries setting, and the subscription filters on the
  // guard's own log groups (schema of aws-cloudformation-resource-providers-logs, less iam:PassRole: only for a
  // RoleArn, which a Lambda destination does not take).
  'AWS::Lambda::EventInvokeConfig': [
    'lambda:PutFunctionEventInvokeConfig',
    'lambda:GetFunctionEventInvokeConfig',
    'lambda:UpdateFunctionEventInvokeConfig',
    'lambda:DeleteFunctionEventInvokeConfig',
    'lambda:ListFunctionEventInvokeConfigs',
  ],
  'AWS::Logs::SubscriptionFilter': [
    'logs:PutSubscriptionFilter',
    'logs:DescribeSubscriptionFilters',
    'logs:DeleteSubscriptionFilter',
  ],
  // Events::Rule and the SNS types: checked against their schemas (aws-cloudformation-resource-providers-events,
  // -sns), less iam:PassRole and the subscription's IAM calls (only for a target or subscription RoleArn: none
  // here) and sns:PutDataProtectionPolicy (only with DataProtectionPolicy: not set). Lambda, SQS, IAM, S3 and
  // CloudWatch publish no provider repository: their lists follow the registry schemas (`aws cloudformation
  // describe-type --type RESOURCE --type-name …`, `Schema.handlers`) for the properties this template sets.
  'AWS::Events::Rule': [
    'events:PutRule',
    'events:DescribeRule',
    'events:PutTargets',
    'events:RemoveTargets',
    'events:ListTargetsByRule',
    'events:DeleteRule',
  ],
  'AWS::SQS::Queue': [
    'sqs:CreateQueue',
    'sqs:GetQueueUrl',
    'sqs:GetQueueAttributes',
    'sqs:SetQueueAttributes',
    'sqs:ListQueueTags',
    'sqs:TagQueue',
    'sqs:UntagQueue',
    'sqs:DeleteQueue',
  ],
  'AWS::SQS::QueuePolicy': ['sqs:SetQueueAttributes', 'sqs:GetQueueAttributes'],
  'AWS::SNS::Topic': [
    'sns:CreateTopic',
    'sns:GetTopicAttributes',
    'sns:SetTopicAttributes',
    'sns:TagResource',
    'sns:UntagResource',
    'sns:ListTagsForResource',
    'sns:ListSubscriptionsByTopic',
    'sns:GetDataProtectionPolicy',
    'sns:Subscribe',
    'sns:Unsubscribe',
    'sns:DeleteTopic',
  ],
  'AWS::SNS::TopicPolicy': ['sns:SetTopicAttributes'],
  'AWS::SNS::Subscription': [
    'sns:Subscribe',
    'sns:Unsubscribe',
    'sns:GetSubscriptionAttributes',
    'sns:SetSubscriptionAttributes',
    'sns:ListSubscriptionsByTopic',
  ],
  'AWS::CloudWatch::Alarm': [
    'cloudwatch:PutMetricAlarm',
    'cloudwatch:DescribeAlarms',
    'cloudwatch:TagResource',
    'cloudwatch:UntagResource',
    'cloudwatch:ListTagsForResource',
    'cloudwatch:DeleteAlarms',
  ],
  // The stack's dashboard (Dashboard=true, the default): the registry schema's handlers.
  'AWS::CloudWatch::Dashboard': [
    'cloudwatch:PutDashboard',
    'cloudwatch:GetDashboard',
    'cloudwatch:DeleteDashboards',
  ],
  // ConfigRule=true: the guard's Config rule (registry schema handlers: PutConfigRule, DescribeConfigRules,
  // DeleteConfigRule, and the tag calls).
  'AWS::Config::ConfigRule': [
    'config:PutConfigRule',
    'config:DescribeConfigRules',
    'config:DeleteConfigRule',
    'config:TagResource',
    'config:UntagResource',
    'config:ListTagsForResource',
  ],
  // The GuardKeyReady custom resource: CloudFormation invokes its ServiceToken with the deployer's credentials.
  'Custom::LogsKmsGuardKey': ['lambda:InvokeFunction'],
};

/**
 * The statements whose Resource is `*` (or an ARN with a wildcard for an id AWS generates), each with why no
 * narrower form exists. The test refuses a `*` resource in any statement not listed here.
 */
export const WILDCARDS = {
  CloudFormationWithoutResource:
    '`cloudformation:ValidateTemplate` and `ListExports` have no resource type in the Service Authorization Reference: they only take `*`.',
  DescribeLogGroups:
    '`logs:DescribeLogGroups` is authorised on `log-group:*` of the account whatever prefix is asked (it lists); AWS::Logs::LogGroup calls it in every handler.',
  CreateEventSourceMapping:
    "`lambda:CreateEventSourceMapping` has no resource type (the mapping has no ARN before it exists); the `lambda:FunctionArn` condition limits it to this stack's functions.",
  ConfigRules:
    "A Config rule's ARN ends in an id Config generates (`config-rule/config-rule-ab12cd`): `config-rule/*` of this account and region (ConfigRule=true only).",
  DescribeConfigRules:
    '`config:DescribeConfigRules` has no resource type in the Service Authorization Reference: it only takes `*` (read-only).',
  EventSourceMappings:
    "An event source mapping's ARN ends in a UUID Lambda generates: `event-source-mapping:*`, limited by `lambda:FunctionArn` to this stack's functions.",
};

// `cloudformation:GetTemplate` (osls reads the stack's template when its deployment bucket is gone) is authorised
// on the stack and change set (Service Authorization Reference: resource types `stack`, `changeSet`), so it stays
// in TheStackAndItsChangeSets rather than on `*`.

/** The deployer policy document for one account, region and stage. */
export function deployerPolicy({ account, region, stage = 'prod', partition = 'aws' }) {
  const stack = `logs-kms-guard-${stage}`;
  const arn = (service, resource, r = region, a = account) =>
    `arn:${partition}:${service}:${r}:${a}:${resource}`;
  const functions = arn('lambda', `function:${stack}-*`);
  const bucket = `arn:${partition}:s3:::${stack}-serverlessdeploymentbucket-*`;
  const logGroup = arn('logs', `log-group:/aws/lambda/${stack}-*`);
  const statement = (Sid, Action, Resource, Condition) => ({
    Sid,
    Effect: 'Allow',
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  });
  return {
    Version: '2012-10-17',
    Statement: [
      statement(
        'TheStackAndItsChangeSets',
        [
          'cloudformation:CreateStack',
          'cloudformation:UpdateStack',
          'cloudformation:DeleteStack',
          'cloudformation:CreateChangeSet',
          'cloudformation:DescribeChangeSet',
          'cloudformation:ExecuteChangeSet',
          'cloudformation:DeleteChangeSet',
          'cloudformation:DescribeStacks',
          'cloudformation:DescribeStackEvents',
          'cloudformation:DescribeStackResource',
          'cloudformation:DescribeStackResources',
          'cloudformation:ListStackResources',
          'cloudformation:GetTemplate',
        ],
        [arn('cloudformation', `stack/${stack}/*`), arn('cloudformation', `changeSet/${stack}-change-set/*`)],
      ),
      statement(
        'CloudFormationWithoutResource',
        ['cloudformation:ValidateTemplate', 'cloudformation:ListExports'],
        '*',
      ),
      statement(
        'DeploymentBucket',
        [
          ...RESOURCE_TYPE_ACTIONS['AWS::S3::Bucket'],
          ...RESOURCE_TYPE_ACTIONS['AWS::S3::BucketPolicy'],
          's3:ListBucket',
          's3:ListBucketVersions',
        ],
        bucket,
      ),
      statement(
        'DeploymentArtifacts',
        ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        `${bucket}/*`,
      ),
      statement('DescribeLogGroups', ['logs:DescribeLogGroups'], '*'),
      statement(
        'FunctionLogGroups',
        [
          ...RESOURCE_TYPE_ACTIONS['AWS::Logs::LogGroup'].filter((a) => a !== 'logs:DescribeLogGroups'),
          ...RESOURCE_TYPE_ACTIONS['AWS::Logs::SubscriptionFilter'],
        ],
        [logGroup, `${logGroup}:*`],
      ),
      statement(
        'Roles',
        RESOURCE_TYPE_ACTIONS['AWS::IAM::Role'],
        `arn:${partition}:iam::${account}:role/logs-kms-guard-*`,
      ),
      statement(
        'PassRolesToLambda',
        ['iam:PassRole'],
        `arn:${partition}:iam::${account}:role/logs-kms-guard-*`,
        {
          StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' },
        },
      ),
      statement(
        'Functions',
        [
          ...new Set([
            ...RESOURCE_TYPE_ACTIONS['AWS::Lambda::Function'].filter((a) => a.startsWith('lambda:')),
            ...RESOURCE_TYPE_ACTIONS['AWS::Lambda::Version'],
            ...RESOURCE_TYPE_ACTIONS['AWS::Lambda::Permission'],
            ...RESOURCE_TYPE_ACTIONS['AWS::Lambda::EventInvokeConfig'],
            ...RESOURCE_TYPE_ACTIONS['Custom::LogsKmsGuardKey'],
          ]),
        ].filter((a) => !/EventSourceMapping/.test(a)),
        [functions, `${functions}:*`],
      ),
      statement(
        'CreateEventSourceMapping',
        ['lambda:CreateEventSourceMapping', 'lambda:ListEventSourceMappings'],
        '*',
        {
          StringLike: { 'lambda:FunctionArn': [functions, `${functions}:*`] },
        },
      ),
      statement(
        'EventSourceMappings',
        [
          'lambda:GetEventSourceMapping',
          'lambda:UpdateEventSourceMapping',
          'lambda:DeleteEventSourceMapping',
        ],
        arn('lambda', 'event-source-mapping:*'),
        { StringLike: { 'lambda:FunctionArn': [functions, `${functions}:*`] } },
      ),
      statement('Rules', RESOURCE_TYPE_ACTIONS['AWS::Events::Rule'], arn('events', `rule/${stack}-*`)),
      statement('Queues', RESOURCE_TYPE_ACTIONS['AWS::SQS::Queue'], arn('sqs', `${stack}-*`)),
      statement(
        'AlarmTopic',
        [
          ...new Set([
            ...RESOURCE_TYPE_ACTIONS['AWS::SNS::Topic'],
            ...RESOURCE_TYPE_ACTIONS['AWS::SNS::TopicPolicy'],
            ...RESOURCE_TYPE_ACTIONS['AWS::SNS::Subscription'],
          ]),
        ],
        arn('sns', `${stack}-*`),
      ),
      statement(
        'Alarms',
        RESOURCE_TYPE_ACTIONS['AWS::CloudWatch::Alarm'],
        arn('cloudwatch', `alarm:${stack}-*`),
      ),
      // Dashboards are global to the account (no region in their ARN); named <stack>-<region>.
      statement(
        'Dashboard',
        RESOURCE_TYPE_ACTIONS['AWS::CloudWatch::Dashboard'],
        `arn:${partition}:cloudwatch::${account}:dashboard/${stack}-*`,
      ),
      statement(
        'ConfigRules',
        RESOURCE_TYPE_ACTIONS['AWS::Config::ConfigRule'].filter((a) => a !== 'config:DescribeConfigRules'),
        arn('config', 'config-rule/*'),
      ),
      statement('DescribeConfigRules', ['config:DescribeConfigRules'], '*'),
    ],
  };
}

/** `--name value` pairs of the command line as an object; throws on anything else. */
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--account', '--region', '--stage', '--partition'].includes(flag) || value === undefined)
      throw new Error(`unknown or incomplete argument: ${flag}`);
    out[flag.slice(2)] = value;
  }
  if (!/^\d{12}$/.test(out.account ?? '')) throw new Error('--account must be a 12-digit account id');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(out.region ?? '')) throw new Error('--region must be a region name');
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(deployerPolicy(parseArgs(process.argv.slice(2))), null, 2));
  } catch (e) {
    console.error(`deployer-policy: ${e instanceof Error ? e.message : String(e)}`);
    console.error(
      'Usage: node infra/deployer-policy.mjs --account 111122223333 --region us-east-1 [--stage prod] [--partition aws]',
    );
    process.exit(2);
  }
}
