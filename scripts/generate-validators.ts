// Generates the ajv validators of the schemas checked on every run as standalone code (ajv's
// `standalone`): compiler/generated/manifest-validator.ts (the manifest), policy/generated/
// input-validator.ts (what the decision point evaluates) and provenance/generated/
// maestro-fields-validator.ts (Maestro's part of a receipt). A process that uses them loads
// neither ajv nor its code generator and compiles no schema at start-up (about 100 ms of every
// `maestro validate`; 83 modules and their heap in `maestro run`). Each keeps the options its
// module compiled it with at run time before.
// `npm run gen` rewrites it; scripts/generate-validators.test.ts fails when it is stale.
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import manifestSchema from '../schemas/manifest.schema.json' with { type: 'json' };
import policyInputSchema from '../schemas/policy-input.schema.json' with { type: 'json' };
import maestroFieldsSchema from '../schemas/receipt-maestro.schema.json' with { type: 'json' };

const root = new URL('../', import.meta.url);
// ajv's CommonJS modules through require: the same `.default` under Node and under vitest, whose
// default-import interop for CommonJS differs from Node's.
const require = createRequire(import.meta.url);
type Fn = (...args: never[]) => unknown;
const standaloneCode = (
  require('ajv/dist/standalone/index.js') as { default: (ajv: Ajv2020, v: Fn) => string }
).default;
const helper = (name: string): string => (require(name) as { default: Fn }).default.toString();

/** The compiler's options for the manifest schema (compiler/validate-schema.ts reads the result). */
export const manifestValidatorOptions = {
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  verbose: true,
  // json-schema-to-typescript's annotation (the TypeScript type of the spec's `tasks`-or-
  // `blueprint` alternatives, scripts/generate-types.ts): known, so strict mode accepts it.
  keywords: ['tsType'] as string[],
} as const;

/**
 * ajv's runtime helpers, which standalone code `require`s, are written into the file from their own
 * source instead: the generated module then imports nothing (the same text under Node, type
 * stripping and the Action's esbuild bundle, whose CommonJS default-import rules differ).
 */
const runtime: Record<string, string> = {
  'ajv/dist/runtime/ucs2length': `{ default: ${helper('ajv/dist/runtime/ucs2length')} }`,
  'ajv/dist/runtime/equal': `{ default: ${helper('ajv/dist/runtime/equal')} }`,
};

/** First-mismatch checks (policy input, receipt fields): one error is all their callers read. */
const firstErrorOptions = { allErrors: false, strict: false } as const;

const validators = [
  {
    path: 'compiler/generated/manifest-validator.ts',
    schemaFile: 'schemas/manifest.schema.json',
    schema: manifestSchema,
    options: manifestValidatorOptions,
    reader: 'compiler/validate-schema.ts',
  },
  {
    path: 'policy/generated/input-validator.ts',
    schemaFile: 'schemas/policy-input.schema.json',
    schema: policyInputSchema,
    options: firstErrorOptions,
    reader: 'policy/pdp/validate-input.ts',
  },
  {
    path: 'provenance/generated/maestro-fields-validator.ts',
    schemaFile: 'schemas/receipt-maestro.schema.json',
    schema: maestroFieldsSchema,
    options: firstErrorOptions,
    reader: 'provenance/maestro-fields.ts',
  },
] as const;

/** The generated validators' options, by output path (the drift test compiles each the same way). */
export const validatorOptions: ReadonlyMap<string, object> = new Map(
  validators.map((v) => [v.path, v.options]),
);

export function generateValidators(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { path, schemaFile, schema, options, reader } of validators)
    out.set(path, standalone(schema, options, schemaFile, reader));
  return out;
}

function standalone(schema: object, options: object, schemaFile: string, reader: string): string {
  const ajv = new Ajv2020({ ...options, code: { source: true, esm: true } });
  let code = standaloneCode(ajv, ajv.compile(schema) as unknown as Fn);
  const helpers: string[] = [];
  code = code.replace(/require\("([^"]+)"\)/g, (_, name: string) => {
    const source = runtime[name];
    if (source === undefined) throw new Error(`standalone code needs ${name}: add it to the runtime table`);
    const binding = `runtime_${name.replace(/\W/g, '_')}`;
    if (!helpers.some((h) => h.startsWith(`const ${binding} `)))
      helpers.push(`const ${binding} = ${source};`);
    return binding;
  });
  code = code.replace(/^"use strict";/, '');
  const banner = [
    `// Generated from ${schemaFile} by scripts/generate-validators.ts. Do not edit.`,
    `// @ts-nocheck -- ajv standalone output; ${reader} gives it its type.`,
    '/* eslint-disable */',
  ].join('\n');
  return `${banner}\n${helpers.join('\n')}\n${code}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, code] of generateValidators()) {
    await mkdir(new URL('.', new URL(path, root)), { recursive: true });
    await writeFile(new URL(path, root), code);
    console.log(`wrote ${path}`);
  }
}
