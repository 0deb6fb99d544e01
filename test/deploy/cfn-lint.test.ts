/**
 * AWS's CloudFormation linter (cfn-lint) on every template the project produces: the packaged serverless template
 * (`npm run package`, with the sweep and without), the organization StackSet template infra/stackset.mjs makes
 * from it, and infra/artifact-bucket.yml. Each must lint clean (errors, warnings and informational findings),
 * with the one allowance below. Skipped, with the reason in the suite's title, only where cfn-lint is not
 * installed (pip install cfn-lint); CI's machine has it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageTemplate, root } from './template.ts';

/** cfn-lint's command, or undefined when no way of running it works (its script, or its module in python3). */
function findCfnLint(): string[] | undefined {
  const module = ['python3', '-c', 'import sys; from cfnlint.runner import main; sys.exit(main())'];
  for (const cmd of [['cfn-lint'], ['python3', '-m', 'cfnlint'], module]) {
    const [bin = '', ...args] = cmd;
    if (spawnSync(bin, [...args, '--version'], { encoding: 'utf8' }).status === 0) return cmd;
  }
  return undefined;
}

const cfnLint = findCfnLint();

interface Finding {
  Rule: { Id: string };
  Message: string;
  Filename: string;
  Location: { Path: (string | number)[] };
}

/**
 * Findings that are right for this template and stay: with `--param sweep=off` the sweep's parameters
 * (SweepSchedule, SweepAlarmHours, ConfigRule) and HasConfigRule are unused (W2001, W8001), but they stay in the template so the same parameter set
 * (infra/publish.mjs --param, StackSet overrides) deploys both variants; removing them would make a StackSet that
 * passes them fail.
 */
const SWEEP_PARAMETERS = ['Parameters/SweepSchedule', 'Parameters/SweepAlarmHours', 'Parameters/ConfigRule'];
/** Same for the condition only the sweep's Config rule uses (W8001, unused condition). */
const SWEEP_CONDITIONS = ['Conditions/HasConfigRule'];
function allowed(f: Finding, sweepOff: boolean): boolean {
  const where = f.Location.Path.join('/');
  if (!sweepOff) return false;
  return (
    (f.Rule.Id === 'W2001' && SWEEP_PARAMETERS.includes(where)) ||
    (f.Rule.Id === 'W8001' && SWEEP_CONDITIONS.includes(where))
  );
}

/** cfn-lint's findings on `files`, in one run (its start-up is most of its time). */
function lint(files: string[]): Finding[] {
  const [bin = '', ...args] = cfnLint ?? [];
  const run = spawnSync(bin, [...args, '--format', 'json', '--', ...files], { encoding: 'utf8' });
  if (run.status !== 0 && !run.stdout.trim().startsWith('['))
    throw new Error(`cfn-lint failed: ${run.stderr}`);
  return JSON.parse(run.stdout || '[]');
}

const show = (findings: Finding[]) =>
  findings.map((f) => `${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`).join('\n');

describe.skipIf(!cfnLint)(
  cfnLint ? 'cfn-lint on every template' : 'cfn-lint on every template: SKIPPED, cfn-lint is not installed',
  () => {
    const templates: Record<string, { file: string; sweepOff: boolean }> = {};
    let findings: Finding[] = [];

    beforeAll(() => {
      const full = packageTemplate({ withSweep: true });
      const bare = packageTemplate({ withSweep: false });
      const stackset = path.join(full.dir, 'stackset.json');
      // What publish.mjs records after uploading the code: a bucket and object versions per region.
      const sources = path.join(full.dir, 'sources.json');
      const bucket = (region: string) => `acme-lkg-111122223333-${region}`;
      writeFileSync(
        sources,
        JSON.stringify({
          'us-east-1': {
            bucket: bucket('us-east-1'),
            versions: { enforce: 'e1', changes: 'c1', sweep: 's1', findings: 'f1' },
          },
          'eu-west-1': {
            bucket: bucket('eu-west-1'),
            versions: { enforce: 'e2', changes: 'c2', sweep: 's2', findings: 'f2' },
          },
        }),
      );
      execFileSync(
        process.execPath,
        [
          path.join(root, 'infra', 'stackset.mjs'),
          '--template',
          full.templatePath,
          '--artifacts',
          full.artifactDir,
          '--sources',
          sources,
          '--out',
          stackset,
        ],
        { cwd: root, stdio: 'pipe' },
      );
      templates['packaged template'] = { file: full.templatePath, sweepOff: false };
      templates['packaged template, --param sweep=off'] = { file: bare.templatePath, sweepOff: true };
      templates['StackSet template'] = { file: stackset, sweepOff: false };
      templates['infra/artifact-bucket.yml'] = {
        file: path.join(root, 'infra', 'artifact-bucket.yml'),
        sweepOff: false,
      };
      findings = lint(Object.values(templates).map((t) => t.file));
    }, 180_000);

    it.each([
      'packaged template',
      'packaged template, --param sweep=off',
      'StackSet template',
      'infra/artifact-bucket.yml',
    ])('%s lints clean', (name) => {
      // Prepare
      const t = templates[name];
      if (!t) throw new Error(`${name} was not produced`);

      // Act
      const own = findings.filter((f) => path.resolve(f.Filename) === path.resolve(t.file));

      // Assess
      const left = own.filter((f) => !allowed(f, t.sweepOff));
      expect(left, show(left)).toEqual([]);
    });
  },
);

describe('the packaged template, without cfn-lint', () => {
  it("has no DependsOn its own references imply (osls's redundant DependsOn on the role, W3005)", () => {
    // Act
    const { template } = packageTemplate({ withSweep: true });

    // Assess
    const fns = template.Resources as Record<string, { DependsOn?: string[]; Properties: any }>;
    expect(fns.EnforceLambdaFunction?.DependsOn).toEqual(['EnforceLogGroup']);
    expect(fns.EnforceLambdaFunction?.Properties.Role).toEqual({ 'Fn::GetAtt': ['EnforceRole', 'Arn'] });
    expect(fns.ChangesLambdaFunction?.DependsOn).toEqual(['ChangesLogGroup']);
    expect(fns.ChangesLambdaFunction?.Properties.Role).toEqual({ 'Fn::GetAtt': ['EnforceRole', 'Arn'] });
    expect(fns.SweepLambdaFunction?.DependsOn).toEqual(['SweepLogGroup']);
    // Not implied there (no Ref/GetAtt of the role): kept, so the mapping waits for the role's policy.
    expect(fns.EnforceEventSourceMappingSQSEnforceQueue?.DependsOn).toEqual(['EnforceRole']);
    expect(fns.ChangesEventSourceMappingSQSChangesQueue?.DependsOn).toEqual(['EnforceRole']);
  }, 120_000);
});
