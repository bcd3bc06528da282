/**
 * A catalog entry's inputs as `maestro tasks show` and docs/reference describe them. Apart from
 * task-listing.ts (which needs semver) because cli/index.ts exports these two to the reference
 * generator, and every `maestro` start loads cli/index.ts.
 */
import type { CatalogEntry } from '../core/index.ts';

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface InputRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** The top-level inputs of an entry's schema, one row each (nested shapes show as their type). */
export function inputRows(entry: CatalogEntry): InputRow[] {
  const properties = isSchema(entry.inputs.properties) ? entry.inputs.properties : {};
  const required = new Set(Array.isArray(entry.inputs.required) ? entry.inputs.required.map(String) : []);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    type: typeOf(schema),
    required: required.has(name),
    description: isSchema(schema) && typeof schema.description === 'string' ? schema.description : '',
  }));
}

function typeOf(schema: unknown): string {
  if (!isSchema(schema)) return 'any';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  if (typeof schema.type === 'string')
    return schema.type === 'array' && isSchema(schema.items)
      ? `array of ${typeOf(schema.items)}`
      : schema.type;
  if (Array.isArray(schema.oneOf ?? schema.anyOf))
    return ((schema.oneOf ?? schema.anyOf) as unknown[]).map(typeOf).join(' | ');
  return 'any';
}

/** An example `with:` for the required inputs (the schema's own example or default when it has one). */
export function exampleWith(entry: CatalogEntry): Record<string, unknown> {
  const properties = isSchema(entry.inputs.properties) ? entry.inputs.properties : {};
  const example: Record<string, unknown> = {};
  for (const row of inputRows(entry).filter((r) => r.required)) {
    const schema = properties[row.name];
    example[row.name] = isSchema(schema) ? sampleOf(schema) : '…';
  }
  return example;
}

function sampleOf(schema: Schema): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '…';
  }
}
