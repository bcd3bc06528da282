/**
 * scripts/cli-bundle-memory.ts: a deferred module's stand-in answers as the module does and loads
 * it only on the first call; the ASCII pass leaves code meaning the same.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asciiChunks, deferredStandIn } from './cli-bundle-memory.ts';

const require = createRequire(import.meta.url);
const opaYaml = join(dirname(require.resolve('@open-policy-agent/opa-wasm')), 'builtins', 'yaml.js');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Evaluates a CommonJS source as a bundled module is: no `require` of its own. */
function evaluate(source: string): unknown {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', source)(module, module.exports);
  return module.exports;
}

describe('deferredStandIn', () => {
  it("forwards each of opa-wasm's YAML builtins, loading them on the first call only", () => {
    const standIn = evaluate(deferredStandIn(opaYaml)) as Record<string, (arg: unknown) => unknown>;
    const real = require(opaYaml) as Record<string, (arg: unknown) => unknown>;
    expect(Object.keys(standIn).sort()).toEqual(['yaml.is_valid', 'yaml.marshal', 'yaml.unmarshal']);
    expect(standIn['yaml.unmarshal']!('a: [1, two]')).toEqual({ a: [1, 'two'] });
    expect(standIn['yaml.is_valid']!('a: [')).toBe(real['yaml.is_valid']!('a: ['));
    expect(standIn['yaml.marshal']!({ b: 2 })).toBe(real['yaml.marshal']!({ b: 2 }));
  });

  it('does not load the module before the first call', () => {
    const source = deferredStandIn(opaYaml);
    const loaded = () => Object.keys(require.cache).filter((k) => k === opaYaml).length;
    delete require.cache[opaYaml];
    evaluate(source);
    expect(loaded()).toBe(0);
  });

  it('forwards a module that exports one function, and refuses one that exports values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-bundle-memory-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'fn.cjs'), 'module.exports = function (a, b) { return [this?.tag, a + b]; };');
    writeFileSync(join(dir, 'value.cjs'), 'module.exports = { f() {}, limit: 3 };');
    const fn = evaluate(deferredStandIn(join(dir, 'fn.cjs'))) as (a: number, b: number) => unknown;
    expect(fn.call({ tag: 't' }, 1, 2)).toEqual(['t', 3]);
    expect(() => deferredStandIn(join(dir, 'value.cjs'))).toThrow(/only functions can be deferred \(limit\)/);
  });
});

describe('asciiChunks', () => {
  it('writes non-ASCII characters as escapes that mean the same in strings, regexps and comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-bundle-memory-'));
    dirs.push(dir);
    const file = join(dir, 'chunk.js');
    const code =
      "// push → first task\nmodule.exports = ['≤ 80 MiB', /é+/.test('éé'), `×${1}`, '😀'.length];";
    writeFileSync(file, code);
    asciiChunks([file]);
    const written = readFileSync(file, 'utf8');
    expect(/[\u0080-\uffff]/.test(written)).toBe(false);
    expect(evaluate(written)).toEqual(evaluate(code));
  });
});
