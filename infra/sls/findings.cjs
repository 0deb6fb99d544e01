// Includes the findings function (infra/sls/findings.yml) in serverless.yml when its bundle exists, and
// subscribes it to the sweep's log group too when the sweep is included (infra/sls/sweep.cjs), with the Config
// sink's rule name and grant (the rule, GuardConfigRule, is the sweep's). Every resource stands under the
// FindingsOn condition: built in, but only deployed when a findings integration is turned on.
// `--param findings=off` leaves it out even when built; securityHubFindings=true or notifyFindings=true without
// the bundle is an error (nothing would send the findings).
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async ({ options, resolveVariable }) => {
  const params = [].concat(options.param ?? []).map((p) => String(p).split('='));
  const setting = (name) => params.find(([n]) => n === name)?.[1];
  const artifacts =
    process.env.LOGS_KMS_GUARD_ARTIFACTS || path.join(__dirname, '..', '..', 'dist', 'artifacts');
  const built = (fn) => existsSync(path.resolve(__dirname, '..', '..', artifacts, `${fn}.zip`));
  if (setting('findings') === 'off' || !built('findings')) {
    for (const name of ['securityHubFindings', 'notifyFindings'])
      if (setting(name) === 'true')
        throw new Error(
          `${name}=true needs the findings function: its artifact (findings.zip) is missing (run \`npm run package\`) or --param findings=off`,
        );
    return { functions: {}, resources: {} };
  }
  const findings = await resolveVariable('file(./infra/sls/findings.yml)');
  const sweepIncluded = setting('sweep') !== 'off' && built('sweep');
  if (sweepIncluded) {
    Object.assign(findings.resources.Resources, sweepSubscription());
    addConfigSink(findings);
  }
  return findings;
};

/**
 * ConfigRule=true: the findings function asks Config to evaluate the guard's rule again when a log group's
 * finding changes (functions/core/findings/config-sink.ts). Its name in CONFIG_RULE_NAME (empty without the
 * rule: the sink is off) and config:StartConfigRulesEvaluation on that rule only (the action acts on the
 * ConfigRule resource: Service Authorization Reference, AWS Config), both under HasConfigRule. No cycle: the rule
 * depends on the sweep, never on the findings function.
 */
function addConfigSink(findings) {
  const onlyWithRule = (value) => ({ 'Fn::If': ['HasConfigRule', value, { Ref: 'AWS::NoValue' }] });
  findings.functions.findings.environment.CONFIG_RULE_NAME = {
    'Fn::If': ['HasConfigRule', { Ref: 'GuardConfigRule' }, ''],
  };
  const policy = findings.resources.Resources.FindingsRole.Properties.Policies[0].PolicyDocument;
  policy.Statement.push(
    onlyWithRule({
      Sid: 'StartRuleEvaluation',
      Effect: 'Allow',
      Action: 'config:StartConfigRulesEvaluation',
      Resource: { 'Fn::GetAtt': ['GuardConfigRule', 'Arn'] },
    }),
  );
}

/** The sweep's finding lines (guard-unhealthy, key-at-risk...) go to the findings function too. */
function sweepSubscription() {
  return {
    FindingsFromSweepPermission: {
      Type: 'AWS::Lambda::Permission',
      Condition: 'FindingsOn',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['FindingsLambdaFunction', 'Arn'] },
        Principal: 'logs.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: { 'Fn::GetAtt': ['SweepLogGroup', 'Arn'] },
      },
    },
    FindingsFromSweep: {
      Type: 'AWS::Logs::SubscriptionFilter',
      Condition: 'FindingsOn',
      DependsOn: 'FindingsFromSweepPermission',
      Properties: {
        LogGroupName: { Ref: 'SweepLogGroup' },
        FilterPattern: '{ $.message = "logs-kms-guard finding" }',
        DestinationArn: { 'Fn::GetAtt': ['FindingsLambdaFunction', 'Arn'] },
      },
    },
  };
}
