// Hostile input: every case ends in a clear diagnostic within bounds: no hang, crash or pollution.
import { describe, expect, it } from 'vitest';
import { compileManifest, CompilerLimits } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const compile = (source: string | Uint8Array) =>
  compileManifest(source, { catalog: testCatalog, file: 'h.yaml' });
const codes = (source: string | Uint8Array) => compile(source).diagnostics.map((d) => d.code);
const valid =
  'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: h }\nspec:\n  tasks:\n    - id: a\n      run: echo\n';

describe('hostile input', () => {
  it('an alias bomb (billion laughs) is refused, not expanded', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const result = compile(`${levels.join('\n')}\n`);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['MS0006']);
    expect(result.plan).toBeUndefined();
  });

  it('too many aliases are refused', () => {
    const text = `x: &x 1\nl: [${Array(CompilerLimits.maxAliases + 1)
      .fill('*x')
      .join(',')}]\n`;
    expect(codes(text)).toEqual(['MS0006']);
  });

  it('a self-referencing alias is refused', () => {
    expect(codes('x: &a [*a]\n')).toEqual(['MS0007']);
  });

  it('deep nesting is refused with a depth error at a position', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const result = compile(deep);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['MS0007']);
    expect(result.diagnostics[0]?.line).toBe(1);
    const blockDeep = Array.from({ length: 200 }, (_, i) => `${'  '.repeat(i)}k:`).join('\n');
    expect(codes(blockDeep)).toEqual(['MS0007']);
  });

  it('a file over the size limit is refused before parsing', () => {
    const big = new Uint8Array(CompilerLimits.maxBytes + 1).fill(0x20);
    const result = compile(big);
    expect(result.diagnostics).toMatchObject([{ code: 'MS0001', line: 1, column: 1 }]);
  });

  it('`__proto__` and `constructor` keys are refused and never pollute prototypes', () => {
    const text = valid.replace(
      'run: echo',
      'run: echo\n      env: { __proto__: { polluted: "1" } }\n      with: { constructor: { prototype: { x: 1 } } }',
    );
    const result = compile(text);
    expect(result.diagnostics.filter((d) => d.code === 'MS0008').map((d) => d.pointer)).toEqual([
      '/spec/tasks/0/env/__proto__',
      '/spec/tasks/0/with/constructor',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).x).toBeUndefined();
  });

  it('reserved names as task ids or output names are refused too', () => {
    const text = valid
      .replace('id: a', 'id: __proto__')
      .replace('run: echo', 'run: echo\n      outputs: [constructor]');
    expect(codes(text)).toEqual(['MS0008']);
    expect(codes(valid.replace('run: echo', 'run: echo\n      outputs: [prototype]'))).toEqual(['MS0008']);
  });

  it('a deeply nested CEL condition is a syntax diagnostic, not a stack overflow', () => {
    const when = `${'('.repeat(2000)}true${')'.repeat(2000)}`;
    expect(codes(valid.replace('run: echo', `run: echo\n      when: "${when}"`))).toEqual(['MS3006']);
  });

  it('duplicate keys are an error at the second key', () => {
    const result = compile(valid.replace('run: echo', 'run: echo\n      run: again'));
    expect(result.diagnostics).toMatchObject([{ code: 'MS0004', line: 8, column: 7 }]);
  });

  it('several documents in one file are an error', () => {
    expect(codes(`${valid}---\n${valid}`)).toEqual(['MS0005']);
  });

  it('invalid UTF-8 is an error at the line of the bad byte', () => {
    const bytes = new TextEncoder().encode(valid.replace('echo', 'echo XX'));
    const at = bytes.indexOf(0x58); // the first X
    bytes[at] = 0xc3;
    bytes[at + 1] = 0x28; // 0xc3 must be followed by a continuation byte
    const result = compile(bytes);
    expect(result.diagnostics).toMatchObject([{ code: 'MS0002', line: 7, column: 17 }]);
  });

  it('a lone surrogate from an escape is an error, not a crash in canonical JSON', () => {
    expect(codes(valid.replace('run: echo', 'run: "echo \\ud800"'))).toEqual(['MS0002']);
  });

  it('non-mapping documents and .inf/.nan are errors', () => {
    expect(codes('- a\n- b\n')).toEqual(['MS0009']);
    expect(codes('just text\n')).toEqual(['MS0009']);
    expect(
      codes(valid.replace('    - id: a', '    - id: a\n      retry: { backoff: { factor: .inf } }')),
    ).toContain('MS1003');
  });

  it('a backtracking-prone input pattern in a catalog schema is matched in linear time (RE2)', () => {
    const text = valid.replace(
      'run: echo',
      `uses: tasks/nested@1\n      with: { x: "${'a'.repeat(4000)}!" }`,
    );
    const result = compile(text);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['MS4004']);
    expect(compile(text.replace('!"', '"')).diagnostics).toEqual([]);
  });

  it('a catalog pattern RE2 cannot express (lookaround, backreference) is refused with the reason', () => {
    const text = valid.replace('run: echo', 'uses: tasks/evil@1\n      with: { x: aaaa }');
    const [diagnostic] = compile(text).diagnostics;
    expect(diagnostic?.code).toBe('MS4006');
    expect(diagnostic?.message).toMatch(/uses a lookahead, which a linear-time engine \(RE2\) cannot match/);
  });

  it('a huge matrix is refused before expansion', () => {
    const values = `[${Array.from({ length: 200 }, (_, i) => i).join(',')}]`;
    const text = valid.replace('run: echo', `run: echo\n      matrix: { a: ${values}, b: ${values} }`);
    expect(codes(text)).toEqual(['MS2005']);
  });

  it('bytes and strings compile alike; a BOM is ignored', () => {
    const fromString = compile(valid).plan?.digest;
    expect(fromString).toBeDefined();
    expect(compile(new TextEncoder().encode(`\ufeff${valid}`)).plan?.digest).toBe(fromString);
  });

  it('caps the number of diagnostics', () => {
    const tasks = Array.from(
      { length: CompilerLimits.maxDiagnostics + 50 },
      (_, i) => `    - id: t${i}\n      run: echo\n      needs: [ghost]\n`,
    ).join('');
    const result = compile(
      `apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: h }\nspec:\n  tasks:\n${tasks}`,
    );
    expect(result.diagnostics).toHaveLength(CompilerLimits.maxDiagnostics + 1);
    expect(result.diagnostics.at(-1)?.code).toBe('MS0010');
  });
});
