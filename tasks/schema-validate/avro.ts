// Avro for tasks/schema-validate: a JSON value in Avro's JSON encoding (a non-null union value
// wrapped as `{ "<branch>": value }`, as the Avro specification writes it) checked against an Avro
// schema with avsc, every violation with its JSON Pointer path like the JSON Schema ones. Fields
// the schema does not declare are not violations: an Avro reader ignores them.
import avro from 'avsc';
import type { ValidationIssue } from '../../sdk/index.ts';

export type AvroCheck = (value: unknown) => { ok: boolean; errors: ValidationIssue[] };

/** Compiles an Avro schema; throws (avsc's message) when it is not one. */
export function compileAvro(schema: unknown): AvroCheck {
  const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true });
  return (value) => {
    const errors: ValidationIssue[] = [];
    const ok = type.isValid(value, {
      errorHook(path, val, at) {
        errors.push({
          path: pointer(path),
          message: val === undefined ? 'is required' : `must be ${expected(at)}`,
        });
      },
    });
    return { ok, errors };
  };
}

function pointer(path: string[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function expected(type: avro.Type): string {
  const schema = type.schema() as unknown;
  if (typeof schema === 'string') return schema;
  if (Array.isArray(schema)) {
    const branches = schema.map((b) =>
      typeof b === 'string' ? b : ((b as { name?: string }).name ?? (b as { type: string }).type),
    );
    return `one of ${branches.join(', ')} (a non-null branch wrapped as {"<branch>": value})`;
  }
  const s = schema as { type: string; name?: string; symbols?: string[]; size?: number };
  if (s.type === 'enum') return `one of ${s.symbols?.join(', ')}`;
  if (s.type === 'fixed') return `fixed ${s.name} of ${s.size} bytes`;
  return s.name ? `${s.type} ${s.name}` : s.type;
}
