// tasks/schema-validate: JSON value + JSON Schema (2020-12) -> outputs `valid` and `errors`.
import { appendFileSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

interface Inputs {
  schema?: Record<string, unknown>;
  schemaFile?: string;
  value?: unknown;
  file?: string;
  failOnInvalid?: boolean;
}
const inputs = JSON.parse(process.env.MAESTRO_INPUTS ?? '{}') as Inputs;

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    process.stderr.write(`schema-validate: cannot read the ${what} ${path}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
const schema = inputs.schema ?? (inputs.schemaFile ? readJson(inputs.schemaFile, 'schema') : undefined);
if (schema === undefined) {
  process.stderr.write('schema-validate: set `schema` or `schemaFile`\n');
  process.exit(1);
}
const value = inputs.file ? readJson(inputs.file, 'file') : inputs.value;
let validate;
try {
  validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema as object);
} catch (error) {
  process.stderr.write(`schema-validate: the schema is invalid: ${(error as Error).message}\n`);
  process.exit(1);
}
const valid = validate(value);
for (const e of validate.errors ?? [])
  process.stdout.write(`${e.instancePath || '/'} ${e.message ?? e.keyword}\n`);
process.stdout.write(valid ? 'valid\n' : `invalid (${validate.errors?.length ?? 0} errors)\n`);
if (process.env.MAESTRO_OUTPUT)
  appendFileSync(process.env.MAESTRO_OUTPUT, `valid=${valid}\nerrors=${validate.errors?.length ?? 0}\n`);
if (!valid && inputs.failOnInvalid) process.exit(1);
