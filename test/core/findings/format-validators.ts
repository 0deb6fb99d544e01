/**
 * Validators of emitted finding documents against the published formats, through the compact fixtures in
 * test/fixtures/findings: ASFF against the Security Hub API model (AwsSecurityFinding's required members, member
 * types, enums, stated limits; no member the model lacks), OCSF against the Compliance Finding requirements of
 * the version emitted (required attributes, types, enum ids, at_least_one, no attribute the class lacks).
 * Each returns the list of problems (empty: valid), so a failing test says what is wrong where.
 */
import { readFileSync } from 'node:fs';

interface AsffMember {
  shape: string;
  type: string;
  pruned?: boolean;
  maxLength?: number;
  exactLength?: number;
  maxItems?: number;
  minItems?: number;
  maxEntries?: number;
  maxKeyLength?: number;
  maxValueLength?: number;
  namespaces?: string[];
  timestamp?: boolean;
}
interface AsffShape {
  type: string;
  enum?: string[];
  required?: string[];
  members?: Record<string, AsffMember>;
  member?: string;
  key?: string;
  value?: string;
  max?: number;
  min?: number;
  pattern?: string;
}

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/findings/${name}`, import.meta.url), 'utf8'));
export const ASFF_MODEL: { source: string; shapes: Record<string, AsffShape> } = fixture('asff-model.json');
export const OCSF_REQUIREMENTS: OcsfRequirements = fixture('ocsf-requirements.json');

const JSON_TYPE: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  long: (v) => Number.isInteger(v),
  double: (v) => typeof v === 'number',
  float: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  structure: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  map: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  list: (v) => Array.isArray(v),
};
// Security Hub's timestamp format (API reference, Timestamps): RFC 3339 with a Z or an offset.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The problems of an ASFF document against the model's shape `shapeName` (AwsSecurityFinding by default). */
export function validateAsff(value: unknown, shapeName = 'AwsSecurityFinding', at = '$'): string[] {
  const shape = ASFF_MODEL.shapes[shapeName];
  if (!shape) return [`${at}: shape ${shapeName} not in the fixture`];
  if (!JSON_TYPE[shape.type]?.(value)) return [`${at}: expected ${shape.type}, got ${JSON.stringify(value)}`];
  const problems: string[] = [];
  if (shape.enum && !shape.enum.includes(value as string))
    problems.push(`${at}: ${JSON.stringify(value)} not one of ${shape.enum.join('|')}`);
  if (shape.pattern && typeof value === 'string' && !new RegExp(shape.pattern).test(value))
    problems.push(`${at}: does not match ${shape.pattern}`);
  if (shape.type === 'list') {
    const list = value as unknown[];
    if (shape.max !== undefined && list.length > shape.max)
      problems.push(`${at}: more than ${shape.max} items`);
    for (const [i, item] of list.entries())
      problems.push(...validateAsff(item, shape.member ?? '', `${at}[${i}]`));
  }
  if (shape.type === 'map')
    for (const [k, v] of Object.entries(value as object)) {
      problems.push(...validateAsff(k, shape.key ?? '', `${at}{key ${k}}`));
      problems.push(...validateAsff(v, shape.value ?? '', `${at}.${k}`));
    }
  if (shape.type === 'structure')
    problems.push(...validateStructure(value as Record<string, unknown>, shape, at));
  return problems;
}

function validateStructure(value: Record<string, unknown>, shape: AsffShape, at: string): string[] {
  const problems: string[] = [];
  for (const name of shape.required ?? [])
    if (value[name] === undefined) problems.push(`${at}.${name}: required member missing`);
  for (const [name, v] of Object.entries(value)) {
    const member = shape.members?.[name];
    if (!member) problems.push(`${at}.${name}: not a member of the model`);
    else if (member.pruned)
      problems.push(`${at}.${name}: emitted but pruned from the fixture: widen it first`);
    else
      problems.push(
        ...validateAsff(v, member.shape, `${at}.${name}`),
        ...memberLimits(v, member, `${at}.${name}`),
      );
  }
  return problems;
}

function memberLimits(v: unknown, m: AsffMember, at: string): string[] {
  const problems: string[] = [];
  const s = typeof v === 'string' ? v : undefined;
  if (s !== undefined && m.maxLength !== undefined && s.length > m.maxLength)
    problems.push(`${at}: longer than ${m.maxLength}`);
  if (s !== undefined && m.exactLength !== undefined && s.length !== m.exactLength)
    problems.push(`${at}: not ${m.exactLength} long`);
  if (s !== undefined && m.timestamp && !TIMESTAMP.test(s)) problems.push(`${at}: not an RFC 3339 timestamp`);
  if (Array.isArray(v)) {
    if (m.maxItems !== undefined && v.length > m.maxItems)
      problems.push(`${at}: more than ${m.maxItems} items`);
    if (m.minItems !== undefined && v.length < m.minItems)
      problems.push(`${at}: fewer than ${m.minItems} items`);
    if (m.namespaces)
      for (const t of v)
        if (!m.namespaces.includes(String(t).split('/')[0] ?? '') || String(t).split('/').length > 3)
          problems.push(`${at}: ${t} is not namespace/category/classifier with a valid namespace`);
  }
  if (m.type === 'map' && typeof v === 'object' && v) {
    const entries = Object.entries(v);
    if (m.maxEntries !== undefined && entries.length > m.maxEntries)
      problems.push(`${at}: more than ${m.maxEntries} pairs`);
    for (const [k, x] of entries) {
      if (m.maxKeyLength !== undefined && k.length > m.maxKeyLength)
        problems.push(`${at}: key ${k} too long`);
      if (m.maxValueLength !== undefined && String(x).length > m.maxValueLength)
        problems.push(`${at}.${k}: too long`);
    }
  }
  return problems;
}

interface OcsfAttribute {
  requirement: 'required' | 'recommended' | 'optional';
  type: string;
  array?: boolean;
  enum?: (number | string)[];
  const?: number;
}
interface OcsfObject {
  attributes: Record<string, OcsfAttribute>;
  constraints?: { at_least_one?: string[]; just_one?: string[] };
}
export interface OcsfRequirements {
  source: string;
  version: string;
  class: OcsfObject & { name: string; class_uid: number; category_uid: number };
  objects: Record<string, OcsfObject>;
}

const OCSF_TYPE: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  any: () => true,
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
};

/** The problems of an OCSF event against the Compliance Finding requirements (and its type_uid rule). */
export function validateOcsf(event: Record<string, unknown>): string[] {
  const problems = validateOcsfObject(event, OCSF_REQUIREMENTS.class, '$');
  const meta = event.metadata as { version?: string } | undefined;
  if (meta?.version !== OCSF_REQUIREMENTS.version)
    problems.push(`$.metadata.version: ${meta?.version} is not ${OCSF_REQUIREMENTS.version}`);
  if (event.type_uid !== (event.class_uid as number) * 100 + (event.activity_id as number))
    problems.push('$.type_uid: not class_uid * 100 + activity_id');
  return problems;
}

function validateOcsfObject(value: Record<string, unknown>, spec: OcsfObject, at: string): string[] {
  const problems: string[] = [];
  for (const [name, attr] of Object.entries(spec.attributes))
    if (attr.requirement === 'required' && value[name] === undefined)
      problems.push(`${at}.${name}: required attribute missing`);
  const atLeastOne = spec.constraints?.at_least_one;
  if (atLeastOne && !atLeastOne.some((n) => value[n] !== undefined))
    problems.push(`${at}: needs one of ${atLeastOne.join(', ')}`);
  for (const [name, v] of Object.entries(value)) {
    const attr = spec.attributes[name];
    if (!attr) {
      problems.push(`${at}.${name}: not an attribute of this class/object`);
      continue;
    }
    if (attr.array && !Array.isArray(v)) problems.push(`${at}.${name}: expected an array`);
    for (const [i, item] of (attr.array && Array.isArray(v) ? v : [v]).entries())
      problems.push(...validateOcsfValue(item, attr, attr.array ? `${at}.${name}[${i}]` : `${at}.${name}`));
  }
  return problems;
}

function validateOcsfValue(v: unknown, attr: OcsfAttribute, at: string): string[] {
  const check = OCSF_TYPE[attr.type];
  if (check) {
    if (!check(v)) return [`${at}: expected ${attr.type}, got ${JSON.stringify(v)}`];
    if (attr.const !== undefined && v !== attr.const) return [`${at}: must be ${attr.const}`];
    if (attr.enum && !attr.enum.includes(v as number))
      return [`${at}: ${v} not one of ${attr.enum.join('|')}`];
    return [];
  }
  const object = OCSF_REQUIREMENTS.objects[attr.type];
  if (!object) return [`${at}: object ${attr.type} not covered by the fixture: widen it first`];
  if (!OCSF_TYPE.object?.(v)) return [`${at}: expected object ${attr.type}`];
  return validateOcsfObject(v as Record<string, unknown>, object, at);
}
