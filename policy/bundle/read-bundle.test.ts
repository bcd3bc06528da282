import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { describe, expect, it } from 'vitest';
import { bundleDigest, readPolicyBundle } from './read-bundle.ts';

async function tarOf(files: Record<string, string>): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'read-bundle-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const out = join(dir, 'b.tar.gz');
  await createTar({ gzip: true, file: out, cwd: dir }, Object.keys(files));
  return readFile(out);
}

describe('readPolicyBundle', () => {
  it('reads policy.wasm and data.json, and digests what is evaluated, not the packaging', async () => {
    const bundle = readPolicyBundle(await tarOf({ 'policy.wasm': 'WASM', 'data.json': '{"a":1}' }), 'x');
    expect(new TextDecoder().decode(bundle.wasm)).toBe('WASM');
    expect(bundle.data).toEqual({ a: 1 });
    const repacked = readPolicyBundle(
      await tarOf({ 'data.json': '{ "a" : 1 }', 'policy.wasm': 'WASM' }),
      'y',
    );
    expect(repacked.digest).toBe(bundle.digest);
    expect(bundle.digest).toBe(bundleDigest(new TextEncoder().encode('WASM'), { a: 1 }));
  });

  it('names what is wrong: not gzip, no wasm, bad data', async () => {
    const noWasm = await tarOf({ 'data.json': '{}' });
    const badJson = await tarOf({ 'policy.wasm': 'W', 'data.json': '{' });
    const notObject = await tarOf({ 'policy.wasm': 'W', 'data.json': '[]' });
    expect(() => readPolicyBundle(new TextEncoder().encode('hello'), 'b1')).toThrow(
      /b1 is not a gzip'd tar bundle/,
    );
    expect(() => readPolicyBundle(noWasm, 'b4')).toThrow('b4 has no policy.wasm');
    expect(() => readPolicyBundle(badJson, 'b5')).toThrow('data.json is not valid JSON');
    expect(() => readPolicyBundle(notObject, 'b6')).toThrow('must hold a JSON object');
  });
});
