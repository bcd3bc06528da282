// The published manifest schema says "tasks or blueprint": an editor validating a blueprint
// manifest against schemas/manifest.schema.json (what the standalone validator the compiler
// ships is generated from) must not flag its missing `tasks`, and a spec with neither fails
// with one clear diagnostic.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import manifestSchema from '../../schemas/manifest.schema.json' with { type: 'json' };
import { validate } from '../generated/manifest-validator.ts';
import { compileManifest } from '../compile.ts';
import { testCatalog } from '../test-catalog.ts';

const root = join(import.meta.dirname, '..', '..');
const workflows = join(root, 'examples', 'blueprints', '.maestro', 'workflows');
const blueprintManifests = readdirSync(workflows).map((f) => join(workflows, f));
const standalone = validate as unknown as ((value: unknown) => boolean) & {
  errors?: Array<{ keyword: string; instancePath: string }> | null;
};
// What an editor does with the published file: a plain ajv, not the project's options.
const editor = new Ajv2020({ strict: false, allErrors: true }).compile(manifestSchema);

const neither = {
  apiVersion: 'maestro/v1',
  kind: 'Workflow',
  metadata: { name: 'empty' },
  spec: { triggers: { manual: true } },
};

describe('the manifest schema: spec.tasks or spec.blueprint', () => {
  it.each(blueprintManifests)('%s (spec.blueprint, no tasks) validates as it is written', (file) => {
    const raw = load(readFileSync(file, 'utf8'));
    expect((raw as { spec: Record<string, unknown> }).spec.tasks).toBeUndefined();
    expect(standalone(raw), JSON.stringify(standalone.errors)).toBe(true);
    expect(editor(raw), JSON.stringify(editor.errors)).toBe(true);
  });

  it('a manifest with tasks still validates', () => {
    const tasks = { ...neither, spec: { tasks: [{ id: 'a', run: 'true' }] } };
    expect(standalone(tasks)).toBe(true);
    expect(editor(tasks)).toBe(true);
  });

  it('a spec with neither fails, at /spec, in the standalone validator and the editor', () => {
    expect(standalone(neither)).toBe(false);
    expect(standalone.errors).toContainEqual(
      expect.objectContaining({ keyword: 'anyOf', instancePath: '/spec' }),
    );
    expect(editor(neither)).toBe(false);
    expect(editor.errors).toContainEqual(
      expect.objectContaining({ keyword: 'anyOf', instancePath: '/spec' }),
    );
  });

  it('and the compiler says what is missing, once, at the spec', () => {
    const text =
      'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: empty }\nspec:\n  triggers: { manual: true }\n';
    const { diagnostics, plan } = compileManifest(text, { file: 'empty.yaml', catalog: testCatalog });
    expect(plan).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: 'MS1001',
      message: 'the spec has neither `tasks` nor `blueprint`',
      file: 'empty.yaml',
      line: 5, // the spec's mapping
    });
    expect(diagnostics[0]!.hint).toContain('blueprints/<name>@<range>');
  });
});
