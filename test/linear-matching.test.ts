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

describe('linear-time schema patterns (ajv `code.regExp` is RE2)', () => {
  it('`^\\d*\\d*\\d*$` against a 3,200-character value in a catalog input schema', () => {
    const manifest = `apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: h }\nspec:\n  tasks:\n    - id: a\n      uses: tasks/digits@1\n      with: { n: "${'1'.repeat(3199)}x" }\n`;
    const out = expectFinished(`
      import { compileManifest } from './compiler/index.ts';
      import { catalogFromEntries } from './core/index.ts';
      const catalog = catalogFromEntries([{
        name: 'digits', version: '1.0.0', description: 'd', digest: 'sha256:${'0'.repeat(64)}', outputs: [],
        entry: '/x/index.ts',
        inputs: { type: 'object', properties: { n: { type: 'string', pattern: '^\\\\d*\\\\d*\\\\d*$' } } },
      }]);
      const result = compileManifest(${JSON.stringify(manifest)}, { catalog });
      console.log(JSON.stringify(result.diagnostics.map((d) => [d.code, d.pointer])));
    `);
    expect(JSON.parse(out)).toEqual([['MS4004', '/spec/tasks/0/with/n']]);
  });

  it('the engine itself: the same pattern and value, outside ajv', () => {
    const out = expectFinished(`
      import { linearRegExp } from './compiler/linear-regexp.ts';
      console.log(JSON.stringify(linearRegExp('^\\\\d*\\\\d*\\\\d*$', 'u').test('${'1'.repeat(3199)}x')));
    `);
    expect(JSON.parse(out)).toBe(false);
  });

  it("the manifest schema's own patterns (V8, for speed) do not backtrack on long hostile values", () => {
    // The manifest schema keeps V8's engine: RE2 made schema validation of 5,000 tasks 4x slower
    // (11 → 46 ms). Its patterns are ours; this guards that none added later backtracks.
    const out = expectFinished(`
      import { readFileSync } from 'node:fs';
      const schema = JSON.parse(readFileSync('schemas/manifest.schema.json', 'utf8'));
      const patterns = [];
      const walk = (node) => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (node === null || typeof node !== 'object') return;
        if (typeof node.pattern === 'string') patterns.push(node.pattern);
        Object.values(node).forEach(walk);
      };
      walk(schema);
      let tested = 0;
      for (const pattern of patterns) {
        const re = new RegExp(pattern, 'u');
        for (const unit of ['a', '1', '1m', 'a-', 'A.', '_', 'team:a', 'tasks/a@', ' ', 'x/'])
          for (const end of ['', '!', '-', '\\u0000']) {
            re.test(unit.repeat(5000) + end);
            tested++;
          }
      }
      console.log(JSON.stringify({ patterns: patterns.length, tested }));
    `);
    expect(JSON.parse(out).patterns).toBeGreaterThan(5);
  });
});
