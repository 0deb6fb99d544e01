// The deployment parameters `npm run package` and `npm run deploy` accept (`--param name=value`), with the values
// each allows, and the pure check of a command line's parameters against them. osls substitutes any `--param`
// it is given and ignores the ones serverless.yml never reads, so a typo (`alarmEmial=…`) or a bad value
// (`dryRun=yes`) would otherwise pass packaging silently and only fail at deployment, or never. The allowed
// values mirror serverless.yml's CloudFormation parameters (AllowedValues, AllowedPattern, MinValue/MaxValue);
// test/scripts/package-params.test.ts holds the two to the same names and rules.

const BOOLEAN = { values: ['true', 'false'] };
const KEY_ARN = {
  pattern: /^$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-zA-Z0-9-]+$/,
  expected: 'empty or a full KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
};

/** CloudWatch Logs' retention periods (PutRetentionPolicy `retentionInDays`). */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Every `--param` name, its CloudFormation parameter (undefined: package time only) and what it allows:
 * `values` (a list), `pattern` (with `expected` in words), `integer` ({ min, max }); none of them = free text.
 */
export const PACKAGE_PARAMS = {
  keyArn: { cfn: 'KmsKeyArn', ...KEY_ARN },
  keyAlias: {
    cfn: 'KmsKeyAlias',
    pattern: /^alias\/(?!aws\/)[a-zA-Z0-9/_-]{1,250}$/,
    expected: 'alias/<name> (letters, digits, /, _ and -; not alias/aws/…)',
  },
  include: { cfn: 'IncludeLogGroups' },
  exclude: { cfn: 'ExcludeLogGroups' },
  skipTagKey: { cfn: 'SkipTagKey', pattern: /^.{1,128}$/, expected: 'a tag key of 1 to 128 characters' },
  dryRun: { cfn: 'DryRun', ...BOOLEAN },
  allowKeyOverride: { cfn: 'AllowKeyOverride', ...BOOLEAN },
  allowKeyPolicyUpdate: { cfn: 'AllowKeyPolicyUpdate', ...BOOLEAN },
  restoreGuardKey: { cfn: 'RestoreGuardKey', ...BOOLEAN },
  breakGlassRoleArns: {
    cfn: 'BreakGlassRoleArns',
    pattern:
      /^$|^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=.@/-]+(,arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=.@/-]+)*$/,
    expected: 'empty or comma-separated IAM role ARNs (arn:aws:iam::<account>:role/<name>, no wildcards)',
  },
  encryptQueryResults: { cfn: 'EncryptQueryResults', ...BOOLEAN },
  sweepSchedule: {
    cfn: 'SweepSchedule',
    pattern: /^(rate|cron)\(.+\)$/,
    expected: 'an EventBridge schedule expression: rate(…) or cron(…)',
  },
  sweepAlarmHours: { cfn: 'SweepAlarmHours', integer: { min: 2, max: 168 } },
  alarmEmail: {
    cfn: 'AlarmEmail',
    pattern: /^$|^[^\s@]+@[^\s@]+\.[^\s@]+$/,
    expected: 'empty or an e-mail address',
  },
  alarmTopicKmsKeyArn: { cfn: 'AlarmTopicKmsKeyArn', ...KEY_ARN },
  messageKmsKey: {
    cfn: 'MessageKmsKey',
    pattern: /^$|^guard$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-zA-Z0-9-]+$/,
    expected: 'empty, guard, or a full KMS key ARN',
  },
  notifyFindings: { cfn: 'NotifyFindings', ...BOOLEAN },
  configRule: { cfn: 'ConfigRule', ...BOOLEAN },
  dashboard: { cfn: 'Dashboard', ...BOOLEAN },
  logRetentionDays: { values: RETENTION_DAYS.map(String) },
  securityHubFindings: { cfn: 'SecurityHubFindings', ...BOOLEAN },
  sweep: { values: ['on', 'off'] },
  findings: { values: ['on', 'off'] },
};

/** Levenshtein distance between two strings (case-insensitive), for the did-you-mean suggestion. */
export function editDistance(a, b) {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[t.length];
}

/** The known parameter name closest to `name` (a CloudFormation name maps to its osls name), or undefined. */
export function suggestParam(name, params = PACKAGE_PARAMS) {
  const byCfn = Object.entries(params).find(([, rule]) => rule.cfn?.toLowerCase() === name.toLowerCase());
  if (byCfn) return byCfn[0];
  let best;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const known of Object.keys(params)) {
    const d = editDistance(name, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Why `value` is not allowed for the parameter `name` (its rule), or undefined when it is. */
export function invalidValue(name, value, rule) {
  if (rule.values && !rule.values.includes(value)) {
    return `--param ${name}=${value}: allowed values are ${rule.values.join(', ')}`;
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    return `--param ${name}=${value}: expected ${rule.expected}`;
  }
  if (rule.integer) {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < rule.integer.min || n > rule.integer.max) {
      return `--param ${name}=${value}: expected a whole number from ${rule.integer.min} to ${rule.integer.max}`;
    }
  }
  return undefined;
}

/**
 * Checks `name=value` strings as `--param` gives them; returns the problems, one line each (empty: all good):
 * an unknown name (with the closest known one and the list of all) or a value the parameter does not allow.
 */
export function validateParams(params, known = PACKAGE_PARAMS) {
  const problems = [];
  for (const p of params) {
    const at = p.indexOf('=');
    if (at < 1) {
      problems.push(`--param must look like name=value, got "${p}"`);
      continue;
    }
    const name = p.slice(0, at);
    const value = p.slice(at + 1);
    const rule = known[name];
    if (!rule) {
      const guess = suggestParam(name, known);
      problems.push(
        `unknown --param ${name}${guess ? ` (did you mean ${guess}?)` : ''}; known: ${Object.keys(known).join(', ')}`,
      );
      continue;
    }
    const why = invalidValue(name, value, rule);
    if (why) problems.push(why);
  }
  return problems;
}
