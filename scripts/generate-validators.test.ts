import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import manifestSchema from '../schemas/manifest.schema.json' with { type: 'json' };
import { validate } from '../compiler/generated/manifest-validator.ts';
import { validate as policyInput } from '../policy/generated/input-validator.ts';
import { validate as maestroFields } from '../provenance/generated/maestro-fields-validator.ts';
import policyInputSchema from '../schemas/policy-input.schema.json' with { type: 'json' };
import maestroFieldsSchema from '../schemas/receipt-maestro.schema.json' with { type: 'json' };
import { generateValidators, manifestValidatorOptions, validatorOptions } from './generate-validators.ts';

describe('generated validators', () => {
  it('match the schema they come from (run `npm run gen` after editing schemas/manifest.schema.json)', async () => {
    for (const [path, expected] of generateValidators()) {
      const actual = await readFile(new URL(`../${path}`, import.meta.url), 'utf8');
      expect(actual, `${path} is stale`).toBe(expected);
    }
  });

  it('the first-mismatch validators decide as ajv compiling their schema does', () => {
    const pairs = [
      [policyInput, policyInputSchema, 'policy/generated/input-validator.ts'],
      [maestroFields, maestroFieldsSchema, 'provenance/generated/maestro-fields-validator.ts'],
    ] as const;
    for (const [generated, schema, path] of pairs) {
      const compiled = new Ajv2020(validatorOptions.get(path)).compile(schema);
      const run = generated as unknown as typeof compiled;
      for (const value of [{}, { task: { kind: 'nope' } }, [], 'x', null]) {
        expect(run(value), `${path} on ${JSON.stringify(value)}`).toBe(compiled(value));
        expect(run.errors ?? null).toEqual(compiled.errors ?? null);
      }
    }
  });

  it('report the same errors as ajv compiling the schema at run time', () => {
    const compiled = new Ajv2020(manifestValidatorOptions).compile(manifestSchema);
    const manifests: unknown[] = [
      {
        apiVersion: 'maestro/v1',
        kind: 'Workflow',
        metadata: { name: 'ok' },
        spec: { tasks: [{ id: 'a', run: 'x' }] },
      },
      {
        apiVersion: 'maestro/v2',
        kind: 'Flow',
        metadata: {},
        spec: { tasks: [{ id: 'A b', rn: 1, timeout: '3x' }] },
      },
      {
        apiVersion: 'maestro/v1',
        kind: 'Workflow',
        metadata: { name: 'x' },
        spec: {
          tasks: [{ id: 'a', run: 'x', uses: 'tasks/y@1', image: 'z' }],
          params: { p: { type: 'nope' } },
        },
      },
      'not a mapping',
    ];
    for (const manifest of manifests) {
      const generated = validate as unknown as typeof compiled;
      expect(generated(manifest)).toBe(compiled(manifest));
      expect(generated.errors ?? null).toEqual(compiled.errors ?? null);
    }
  });
});
