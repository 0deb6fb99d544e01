// Includes the sweep function (infra/sls/sweep.yml) in serverless.yml only when its bundle exists.
// The sweep is built from functions/sweep.ts; until that lands, `npm run package` still packages the
// enforce pipeline instead of failing. `--param sweep=on` makes a missing bundle an error (CI for releases),
// `--param sweep=off` leaves the sweep out even when it is built.
// `:enforceQueueSenders` is the condition of the enforce queue's DenyOtherSenders statement: every sender is
// refused but the CreateLogGroup rule (by aws:SourceArn) and, when the sweep is included, the sweep's role.
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async ({ options, resolveVariable }) => {
  const params = [].concat(options.param ?? []);
  const setting = params.map((p) => String(p).split('=')).find(([name]) => name === 'sweep')?.[1];
  const artifacts =
    process.env.LOGS_KMS_GUARD_ARTIFACTS || path.join(__dirname, '..', '..', 'dist', 'artifacts');
  const built = existsSync(path.resolve(__dirname, '..', '..', artifacts, 'sweep.zip'));
  const without = { functions: {}, resources: {}, enforceQueueSenders: senders(false) };
  if (setting === 'off') return without;
  if (!built) {
    if (setting === 'on') {
      throw new Error(
        '--param sweep=on but the sweep artifact (sweep.zip) is missing: run `npm run package`',
      );
    }
    return without;
  }
  const sweep = await resolveVariable('file(./infra/sls/sweep.yml)');
  return { ...sweep, enforceQueueSenders: senders(true) };
};

/** The DenyOtherSenders condition: not the CreateLogGroup rule and (with the sweep) not the sweep's role. */
function senders(withSweep) {
  const rules = [{ 'Fn::GetAtt': ['CreateLogGroupRule', 'Arn'] }];
  return {
    ArnNotEquals: {
      'aws:SourceArn': rules,
      ...(withSweep ? { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['SweepRole', 'Arn'] }] } : {}),
    },
  };
}
