// Every fixture manifest: valid ones compile to a plan with no errors; each invalid one reports
// exactly the diagnostics in its `.expected.json` (code, severity, pointer and position).
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import planSchema from '../schemas/plan.schema.json' with { type: 'json' };
import { compileManifest } from '../compiler/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';

const root = new URL('./fixtures/manifests/', import.meta.url);
const catalog = await loadBuiltinCatalog();
const validatePlan = new Ajv2020({ allErrors: true, strict: false }).compile(planSchema);
const yamlFiles = (kind: string) =>
  readdirSync(new URL(`${kind}/`, root))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

describe('valid fixtures', () => {
  it('exist', () => expect(yamlFiles('valid').length).toBeGreaterThanOrEqual(4));
  for (const file of yamlFiles('valid'))
    it(`${file} compiles to a plan`, () => {
      const result = compileManifest(readFileSync(new URL(`valid/${file}`, root)), { catalog, file });
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(result.plan?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(result.plan?.tasks.length).toBeGreaterThan(0);
      // The plan conforms to schemas/plan.schema.json, the contract the engine codes against.
      expect(validatePlan(result.plan), JSON.stringify(validatePlan.errors)).toBe(true);
    });
});

describe('invalid fixtures', () => {
  it('exist', () => expect(yamlFiles('invalid').length).toBeGreaterThanOrEqual(10));
  for (const file of yamlFiles('invalid'))
    it(`${file} reports its expected diagnostics`, () => {
      const expected = JSON.parse(
        readFileSync(new URL(`invalid/${file.replace(/\.yaml$/, '.expected.json')}`, root), 'utf8'),
      ) as unknown[];
      const result = compileManifest(readFileSync(new URL(`invalid/${file}`, root)), { catalog, file });
      expect(result.plan).toBeUndefined();
      expect(expected.length).toBeGreaterThan(0);
      expect(
        result.diagnostics.map(({ code, severity, pointer, line, column, endLine, endColumn }) => ({
          code,
          severity,
          pointer,
          line,
          column,
          endLine,
          endColumn,
        })),
      ).toEqual(expected);
      for (const d of result.diagnostics) {
        expect(d.file).toBe(file);
        expect(d.message.length).toBeGreaterThan(5);
      }
    });
});
