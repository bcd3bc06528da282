// Hostile globs and schema patterns must not hang: each runs in a child process killed after a
// few seconds, so a backtracking regression fails here instead of hanging the suite. Against the
// old RegExp-based matchers these children were killed (minutes of backtracking); now they finish.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBounded } from './helpers/run-bounded.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const hostileGlob = `${'**a'.repeat(20)}b`;
const path40 = 'a'.repeat(40);
const killAfterMs = 8_000;

function expectFinished(script: string): string {
  const result = runBounded(script, killAfterMs, root);
  expect(result.signal, `killed after ${killAfterMs} ms: it backtracks\n${result.stderr}`).toBeNull();
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim();
}

describe('linear-time matching of hostile input', () => {
  it('CODEOWNERS: `**a**a…b` (20 times) against a 40-character path, as the App reads it', () => {
    const out = expectFinished(`
      import { parseCodeowners, ownersOf } from './app/index.ts';
      const rules = parseCodeowners(${JSON.stringify(`* @all\n${hostileGlob} @evil\n/${hostileGlob} @evil\n`)});
      console.log(JSON.stringify([ownersOf(rules, ${JSON.stringify(path40)}), ownersOf(rules, ${JSON.stringify(`x/${path40}`)})]));
    `);
    expect(JSON.parse(out)).toEqual([['@all'], ['@all']]);
  });

  it('trigger filters: `**a**a…b` as a branch and a path pattern, as the App matches pushes', () => {
    const out = expectFinished(`
      import { matchesRefFilter } from './app/dispatch/match-trigger.ts';
      const filter = { branches: [${JSON.stringify(hostileGlob)}], paths: [${JSON.stringify(hostileGlob)}] };
      const branch = matchesRefFilter({ branches: filter.branches }, ${JSON.stringify(path40)}, undefined);
      const paths = matchesRefFilter({ paths: filter.paths }, 'main', [${JSON.stringify(path40)}, ${JSON.stringify(`a/${path40}`)}]);
      console.log(JSON.stringify([branch, paths]));
    `);
    expect(JSON.parse(out)).toEqual([false, false]);
  });

  it('the compiler validates the hostile filter pattern without hanging (it is valid, just slow for a backtracker)', () => {
    const manifest = `apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: h }\nspec:\n  triggers:\n    push: { branches: ['${hostileGlob}'] }\n  tasks:\n    - id: a\n      run: echo\n`;
    const out = expectFinished(`
      import { compileManifest } from './compiler/index.ts';
      import { catalogFromEntries } from './core/index.ts';
      const result = compileManifest(${JSON.stringify(manifest)}, { catalog: catalogFromEntries([]) });
      console.log(JSON.stringify(result.diagnostics.map((d) => d.code)));
    `);
    expect(JSON.parse(out)).toEqual([]);
  });
});
