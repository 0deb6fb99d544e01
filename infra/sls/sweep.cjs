// Includes the sweep function (infra/sls/sweep.yml) in serverless.yml only when its bundle exists.
// The sweep is built from functions/sweep.ts; until that lands, `npm run package` still packages the
// enforce pipeline instead of failing. `--param sweep=on` makes a missing bundle an error (CI for releases),
// `--param sweep=off` leaves the sweep out even when it is built.
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async ({ options, resolveVariable }) => {
  const params = [].concat(options.param ?? []);
  const setting = params.map((p) => String(p).split('=')).find(([name]) => name === 'sweep')?.[1];
  const artifacts =
    process.env.LOGS_KMS_GUARD_ARTIFACTS || path.join(__dirname, '..', '..', 'dist', 'artifacts');
  const built = existsSync(path.resolve(__dirname, '..', '..', artifacts, 'sweep.zip'));
  if (setting === 'off') return { functions: {}, resources: {} };
  if (!built) {
    if (setting === 'on') {
      throw new Error(
        '--param sweep=on but the sweep artifact (sweep.zip) is missing: run `npm run package`',
      );
    }
    return { functions: {}, resources: {} };
  }
  return resolveVariable('file(./infra/sls/sweep.yml)');
};
