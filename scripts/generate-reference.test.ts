import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import schema from '../schemas/manifest.schema.json' with { type: 'json' };
import { generateReference } from './generate-reference.ts';

describe('reference pages', () => {
  it('match the schema and code table they come from (run `npm run gen` after editing them)', async () => {
    for (const [path, expected] of await generateReference()) {
      const actual = await readFile(new URL(`../${path}`, import.meta.url), 'utf8');
      expect(actual, `${path} is stale`).toBe(expected);
    }
  });

  it('every manifest schema property has a description and examples (directly or through its $ref)', () => {
    const defs = (schema as { $defs: Record<string, Record<string, unknown>> }).$defs;
    const missing: string[] = [];
    const check = (node: Record<string, unknown>, path: string) => {
      for (const [name, raw] of Object.entries(
        (node.properties ?? {}) as Record<string, Record<string, unknown>>,
      )) {
        const target = typeof raw.$ref === 'string' ? (defs[raw.$ref.split('/').pop() as string] ?? {}) : {};
        const merged = { ...target, ...raw };
        if (typeof merged.description !== 'string') missing.push(`${path}.${name}: description`);
        if (!Array.isArray(merged.examples) || merged.examples.length === 0)
          missing.push(`${path}.${name}: examples`);
      }
    };
    check(schema as Record<string, unknown>, '');
    for (const [name, def] of Object.entries(defs)) check(def, name);
    expect(missing).toEqual([]);
  });

  it('the manifest page documents every task field', async () => {
    const [, page] = [...(await generateReference())][0] as [string, string];
    for (const field of [
      'retry',
      'backoff',
      'maxDuration',
      'jitter',
      'ifSkipped',
      'matrix',
      'outputs',
      'cache',
      'never',
    ])
      expect(page).toContain(`\`${field}\``);
  });
});
