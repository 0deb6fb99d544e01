// `--param` checking at package time (scripts/package-params.mjs): the pure validator, its agreement with the
// parameters serverless.yml declares, and the scripts as a user runs them (an unknown name or a bad value stops
// `node scripts/package.mjs` with exit 2 before osls runs; `npm run deploy` refuses the same).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_PARAMS, suggestParam, validateParams } from '../../scripts/package-params.mjs';
import { packageTemplate, root } from '../deploy/template.ts';

const script = path.join(root, 'scripts', 'package.mjs');

/** Runs scripts/package.mjs as a user would, packaging into a temporary directory. */
function packageWith(params: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lkg-params-'));
  const out = path.join(dir, 'out');
  const args = [script, '--skip-zip', '--artifacts', path.join(dir, 'artifacts'), '--out', out];
  for (const p of params) args.push('--param', p);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { ...r, templateWritten: existsSync(path.join(out, 'cloudformation-template-update-stack.json')) };
}

describe('validateParams (pure)', () => {
  it('accepts every default of serverless.yml and valid values', () => {
    expect(
      validateParams([
        'alarmEmail=ops@example.com',
        'alarmEmail=',
        'dryRun=true',
        'sweep=off',
        'sweepAlarmHours=48',
        'logRetentionDays=365',
        'messageKmsKey=guard',
        'keyArn=arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        'exclude=/aws/lambda/noisy-,/x/*',
        'sweepSchedule=cron(0 3 * * ? *)',
      ]),
    ).toEqual([]);
  });

  it('rejects an unknown name with the closest known one', () => {
    const [problem] = validateParams(['alarmEmial=ops@example.com']);
    expect(problem).toMatch(/^unknown --param alarmEmial \(did you mean alarmEmail\?\); known: keyArn, /);
    expect(suggestParam('dryrun')).toBe('dryRun');
    expect(suggestParam('AlarmEmail')).toBe('alarmEmail'); // the CloudFormation name of infra/publish.mjs
    expect(suggestParam('completelyDifferent')).toBeUndefined();
    expect(validateParams(['completelyDifferent=1'])[0]).not.toMatch(/did you mean/);
  });

  it('rejects a value the parameter does not allow, with the allowed values', () => {
    expect(validateParams(['dryRun=yes'])).toEqual(['--param dryRun=yes: allowed values are true, false']);
    expect(validateParams(['sweep=maybe'])).toEqual(['--param sweep=maybe: allowed values are on, off']);
    expect(validateParams(['logRetentionDays=45'])[0]).toMatch(
      /allowed values are 1, 3, 5, 7, 14, 30, 60, 90/,
    );
    expect(validateParams(['sweepAlarmHours=1'])[0]).toMatch(/whole number from 2 to 168/);
    expect(validateParams(['sweepAlarmHours=12h'])[0]).toMatch(/whole number from 2 to 168/);
    expect(validateParams(['keyArn=alias/mine'])[0]).toMatch(/expected empty or a full KMS key ARN/);
    expect(validateParams(['keyAlias=alias/aws/logs'])[0]).toMatch(/expected alias\/<name>/);
    expect(validateParams(['alarmEmail=ops'])[0]).toMatch(/expected empty or an e-mail address/);
    expect(validateParams(['sweepSchedule=daily'])[0]).toMatch(/rate\(…\) or cron\(…\)/);
    expect(validateParams(['noequals'])[0]).toMatch(/must look like name=value/);
  });

  it('reports every problem, one line each', () => {
    expect(validateParams(['dryRun=yes', 'alarmEmial=x', 'sweep=on'])).toHaveLength(2);
  });
});

describe('the rules match serverless.yml', () => {
  const yml = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
  const defaults = /^params:\n {2}default:\n((?: {4}.*\n)+)/m.exec(yml)?.[1] ?? '';
  const defaultValues = Object.fromEntries(
    defaults
      .trimEnd()
      .split('\n')
      .map((line) => /^ {4}([A-Za-z]+): ?(.*)$/.exec(line)?.slice(1) ?? [])
      .map(([k, v]) => [k, String(v).replace(/^"(.*)"$/, '$1')]),
  );

  it('knows exactly the params serverless.yml reads, plus sweep and findings (infra/sls/sweep.cjs, findings.cjs)', () => {
    const read = new Set([...yml.matchAll(/\$\{param:([A-Za-z]+)\}/g)].map((m) => m[1]));
    expect(Object.keys(defaultValues).sort()).toEqual([...read].sort());
    expect(Object.keys(PACKAGE_PARAMS).sort()).toEqual([...read, 'sweep', 'findings'].sort());
  });

  it('accepts every default', () => {
    expect(validateParams(Object.entries(defaultValues).map(([k, v]) => `${k}=${v}`))).toEqual([]);
  });

  it("has the CloudFormation parameters' AllowedValues, AllowedPattern and bounds", () => {
    const { template } = packageTemplate({ withSweep: true });
    for (const [name, rule] of Object.entries(PACKAGE_PARAMS) as [string, any][]) {
      if (!rule.cfn) continue;
      const p = template.Parameters[rule.cfn];
      expect(p, rule.cfn).toBeDefined();
      if (p.AllowedValues) expect(rule.values, name).toEqual(p.AllowedValues);
      if (p.AllowedPattern) expect(rule.pattern.source.replaceAll('\\/', '/'), name).toBe(p.AllowedPattern);
      if (p.MinValue !== undefined) expect(rule.integer, name).toEqual({ min: p.MinValue, max: p.MaxValue });
    }
  }, 120_000);
});

describe('scripts/package.mjs and scripts/deploy.mjs refuse bad parameters before osls runs', () => {
  it('a typo: exit 2 with did-you-mean, no template written', () => {
    const r = packageWith(['alarmEmial=ops@example.com']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^package: unknown --param alarmEmial \(did you mean alarmEmail\?\)/);
    expect(r.templateWritten).toBe(false);
  });

  it('a bad value: exit 2 with the allowed values', () => {
    const r = packageWith(['dryRun=yes']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('package: --param dryRun=yes: allowed values are true, false');
    expect(r.templateWritten).toBe(false);
  });

  it('npm run deploy refuses the same, before building anything', () => {
    const deploy = path.join(root, 'scripts', 'deploy.mjs');
    const args = ['--regions', 'us-east-1', '--dry-run', '--param', 'dryRun=yes', '--param', 'alarmEmial=x'];
    const r = spawnSync(process.execPath, [deploy, ...args], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--param dryRun=yes: allowed values are true, false');
    expect(r.stderr).toContain('unknown --param alarmEmial (did you mean alarmEmail?)');
    expect(r.stdout).toBe('');
  });
});
