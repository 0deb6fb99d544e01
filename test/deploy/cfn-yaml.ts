// Reads a CloudFormation YAML template (the short intrinsic tags !Sub, !Ref, !GetAtt) and resolves a policy
// document of it for given parameter values, so the tests can hand infra/artifact-bucket.yml's bucket policy to an
// IAM simulator as AWS would see it once deployed. js-yaml is a dependency of osls (not the project's own).
import { readFileSync } from 'node:fs';

type Json = unknown;

/** The template as a plain object, intrinsic tags as their long forms (`{ 'Fn::Sub': … }`, `{ Ref: … }`). */
export async function loadCfnYaml(file: string): Promise<Record<string, any>> {
  const yaml = (await import('js-yaml' as string)).default;
  const tag = (name: string, fn: string, split = false) =>
    new yaml.Type(name, {
      kind: 'scalar',
      construct: (data: string) => ({ [fn]: split ? data.split('.') : data }),
    });
  const schema = yaml.DEFAULT_SCHEMA.extend([
    tag('!Sub', 'Fn::Sub'),
    tag('!Ref', 'Ref'),
    tag('!GetAtt', 'Fn::GetAtt', true),
  ]);
  return yaml.load(readFileSync(file, 'utf8'), { schema }) as Record<string, any>;
}

/** What `Ref` and `Fn::GetAtt` stand for: parameter and pseudo-parameter values, `Resource.Attribute` values. */
export interface Bindings {
  refs: Record<string, string | string[]>;
  attributes: Record<string, string>;
}

/** Resolves Ref, Fn::GetAtt and Fn::Sub (the `${Name}` / `${Resource.Attribute}` forms) throughout `value`. */
export function resolveIntrinsics(value: Json, b: Bindings): Json {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, b));
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, Json>;
  if ('Ref' in v) return lookup(b.refs, String(v.Ref));
  if ('Fn::GetAtt' in v)
    return lookup(b.attributes, ([] as string[]).concat(v['Fn::GetAtt'] as string[]).join('.'));
  if ('Fn::Sub' in v) {
    return String(v['Fn::Sub']).replace(/\$\{([^}]+)\}/g, (_, name: string) =>
      String(name.includes('.') ? lookup(b.attributes, name) : lookup(b.refs, name)),
    );
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveIntrinsics(x, b)]));
}

function lookup<T>(table: Record<string, T>, name: string): T {
  if (!(name in table)) throw new Error(`cfn-yaml: nothing bound to ${name}`);
  return table[name] as T;
}
