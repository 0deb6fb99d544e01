// Includes the findings function (infra/sls/findings.yml) in serverless.yml when its bundle exists, and
// subscribes it to the sweep's log group too when the sweep is included (infra/sls/sweep.cjs). Every resource
// stands under the FindingsOn condition: built in, but only deployed when a findings integration is turned on.
// `--param findings=off` leaves it out even when built; SecurityHubFindings=true without the bundle is an error.
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async ({ options, resolveVariable }) => {
  const params = [].concat(options.param ?? []).map((p) => String(p).split('='));
  const setting = (name) => params.find(([n]) => n === name)?.[1];
  const artifacts =
    process.env.LOGS_KMS_GUARD_ARTIFACTS || path.join(__dirname, '..', '..', 'dist', 'artifacts');
  const built = (fn) => existsSync(path.resolve(__dirname, '..', '..', artifacts, `${fn}.zip`));
  if (setting('findings') === 'off' || !built('findings')) {
    if (setting('securityHubFindings') === 'true')
      throw new Error(
        'securityHubFindings=true needs the findings function: its artifact (findings.zip) is missing (run `npm run package`) or --param findings=off',
      );
    return { functions: {}, resources: {} };
  }
  const findings = await resolveVariable('file(./infra/sls/findings.yml)');
  const sweepIncluded = setting('sweep') !== 'off' && built('sweep');
  if (sweepIncluded) Object.assign(findings.resources.Resources, sweepSubscription());
  return findings;
};

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
