// Generates compiler/generated/manifest-validator.ts: the manifest schema's ajv validator as
// standalone code (ajv's `standalone`), so a process that compiles a manifest loads neither ajv nor
// its code generator and does not compile the schema at start-up (about 100 ms of every
// `maestro validate`). The options are the ones the compiler used to compile it with at load.
// `npm run gen` rewrites it; scripts/generate-validators.test.ts fails when it is stale.
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import manifestSchema from '../schemas/manifest.schema.json' with { type: 'json' };

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

export function generateValidators(): Map<string, string> {
  const ajv = new Ajv2020({ ...manifestValidatorOptions, code: { source: true, esm: true } });
  let code = standaloneCode(ajv, ajv.compile(manifestSchema) as unknown as Fn);
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
    '// Generated from schemas/manifest.schema.json by scripts/generate-validators.ts. Do not edit.',
    '// @ts-nocheck -- ajv standalone output; compiler/validate-schema.ts gives it its type.',
    '/* eslint-disable */',
  ].join('\n');
  return new Map([
    ['compiler/generated/manifest-validator.ts', `${banner}\n${helpers.join('\n')}\n${code}\n`],
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, code] of generateValidators()) {
    await writeFile(new URL(path, root), code);
    console.log(`wrote ${path}`);
  }
}
