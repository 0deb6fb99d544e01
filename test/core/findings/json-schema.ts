/**
 * A small JSON Schema (draft 4) checker for the keywords docs/events.schema.json uses: type, required,
 * properties, additionalProperties: false, enum, pattern, minLength/maxLength, minItems/maxItems, items,
 * minimum, format date-time and local $ref. No dependency (the project adds none); a keyword it does not know
 * fails loudly, so the schema cannot grow past what the tests check.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'type',
  'required',
  'properties',
  'additionalProperties',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'items',
  'minimum',
  'format',
  '$ref',
  'definitions',
]);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const typeOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** The problems of `value` against `schema` (empty when it validates), each with its JSON path. */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  for (const k of Object.keys(schema))
    if (!KNOWN.has(k)) throw new Error(`schema keyword ${k} not supported`);
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<any>((s, p) => s?.[p], root);
    return validate(value, target as Schema, root, path);
  }
  const t = typeOf(value);
  if (schema.type && !(schema.type === t || (schema.type === 'number' && t === 'integer'))) {
    return [`${path}: ${t}, not ${String(schema.type)}`];
  }
  const out: string[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    out.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value))
      out.push(`${path}: does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      out.push(`${path}: too short`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      out.push(`${path}: too long`);
    if (schema.format === 'date-time' && !DATE_TIME.test(value)) out.push(`${path}: not a date-time`);
  }
  if (typeof value === 'number' && typeof schema.minimum === 'number' && value < schema.minimum)
    out.push(`${path}: below minimum`);
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      out.push(`${path}: too few items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      out.push(`${path}: too many items`);
    if (schema.items)
      for (const [i, v] of value.entries())
        out.push(...validate(v, schema.items as Schema, root, `${path}[${i}]`));
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required as string[] | undefined) ?? [])
      if (!(r in obj)) out.push(`${path}.${r}: missing`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) out.push(...validate(v, props[k], root, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}.${k}: not allowed`);
    }
  }
  return out;
}
