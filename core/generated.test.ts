import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generateTypes } from '../scripts/generate-types.ts';

describe('generated types', () => {
  it('match the schemas they come from (run `npm run gen` after editing a schema)', async () => {
    for (const [path, expected] of await generateTypes()) {
      const actual = await readFile(new URL(`../${path}`, import.meta.url), 'utf8');
      expect(actual, `${path} is stale`).toBe(expected);
    }
  });
});
