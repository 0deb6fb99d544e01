// Packages the service offline into a temporary directory (parallel test files never share output) and
// reads the CloudFormation template osls generates.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..', '..');

export type Template = {
  Parameters: Record<string, any>;
  Conditions: Record<string, any>;
  Resources: Record<string, { Type: string; Properties: any; Condition?: string; DeletionPolicy?: string }>;
  Outputs?: Record<string, any>;
};

export interface Packaged {
  dir: string;
  artifactDir: string;
  templatePath: string;
  template: Template;
}

/**
 * `withSweep`: when dist/sweep.mjs is not built yet, a throwaway stand-in sweep.zip (a copy of the enforce
 * zip) is placed in the temporary artifact directory so the sweep wiring is tested too. Never committed.
 */
export function packageTemplate(
  options: { withSweep?: boolean; params?: string[]; region?: string } = {},
): Packaged {
  if (!existsSync(path.join(root, 'dist', 'enforce.mjs'))) {
    throw new Error('dist/enforce.mjs is missing: run `npm run build` before these tests');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'lkg-package-'));
  const artifactDir = path.join(dir, 'artifacts');
  const script = path.join(root, 'scripts', 'package.mjs');
  execFileSync(process.execPath, [script, '--zip-only', '--artifacts', artifactDir], {
    cwd: root,
    stdio: 'pipe',
  });
  if (options.withSweep && !existsSync(path.join(artifactDir, 'sweep.zip'))) {
    copyFileSync(path.join(artifactDir, 'enforce.zip'), path.join(artifactDir, 'sweep.zip'));
  }
  const out = path.join(dir, 'out');
  const args = [script, '--skip-zip', '--artifacts', artifactDir, '--out', out];
  args.push('--region', options.region ?? 'us-east-1');
  if (options.withSweep === false) args.push('--param', 'sweep=off');
  for (const p of options.params ?? []) args.push('--param', p);
  execFileSync(process.execPath, args, { cwd: root, stdio: 'pipe' });
  const templatePath = path.join(out, 'cloudformation-template-update-stack.json');
  return { dir, artifactDir, templatePath, template: JSON.parse(readFileSync(templatePath, 'utf8')) };
}

export function resourcesOfType(template: Template, type: string): [string, any][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** A resource reference as a comparable string: Fn::Sub text, `Ref:X`, `GetAtt:X.Attr`, or the literal. */
export function refString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Fn::Sub' in v) return typeof v['Fn::Sub'] === 'string' ? v['Fn::Sub'] : v['Fn::Sub'][0];
    if ('Ref' in v) return `Ref:${v.Ref}`;
    if ('Fn::GetAtt' in v) return `GetAtt:${[].concat(v['Fn::GetAtt']).join('.')}`;
  }
  return JSON.stringify(value);
}

export interface FlatStatement {
  role: string;
  sid: string;
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  condition: Record<string, Record<string, unknown>> | undefined;
  /** Set when the statement only exists under a CloudFormation condition (Fn::If). */
  onlyIf?: string;
}

/** Every statement of every inline policy of every role (both branches of Fn::If, NoValue dropped). */
export function iamStatements(template: Template): FlatStatement[] {
  const out: FlatStatement[] = [];
  const roles = resourcesOfType(template, 'AWS::IAM::Role');
  const extra = [
    ...resourcesOfType(template, 'AWS::IAM::Policy'),
    ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy'),
  ];
  if (extra.length > 0)
    throw new Error(`unexpected standalone IAM policies: ${extra.map(([id]) => id).join(', ')}`);
  for (const [role, res] of roles) {
    if (res.Properties.ManagedPolicyArns) throw new Error(`${role} has managed policies attached`);
    for (const policy of res.Properties.Policies ?? []) {
      for (const raw of policy.PolicyDocument.Statement) {
        const branches: [any, string | undefined][] =
          raw && typeof raw === 'object' && 'Fn::If' in raw
            ? [
                [raw['Fn::If'][1], raw['Fn::If'][0]],
                [raw['Fn::If'][2], undefined],
              ]
            : [[raw, undefined]];
        for (const [st, onlyIf] of branches) {
          if (!st || (typeof st === 'object' && 'Ref' in st && st.Ref === 'AWS::NoValue')) continue;
          const resources = ([] as unknown[])
            .concat(st.Resource ?? [])
            .flatMap((r: any) =>
              r && typeof r === 'object' && 'Fn::If' in r ? [r['Fn::If'][1], r['Fn::If'][2]] : [r],
            )
            .filter((r: any) => !(r && typeof r === 'object' && r.Ref === 'AWS::NoValue'))
            .map(refString);
          out.push({
            role,
            sid: st.Sid ?? '(no sid)',
            effect: st.Effect,
            actions: ([] as string[]).concat(st.Action ?? []),
            resources,
            condition: st.Condition,
            ...(onlyIf ? { onlyIf } : {}),
          });
        }
      }
    }
  }
  return out;
}
