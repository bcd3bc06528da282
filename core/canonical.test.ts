import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from './canonical.ts';

const reference = canonicalize as unknown as (value: unknown) => string | undefined;

/** A deterministic pseudo-random value: objects with keys in any order, every kind of leaf. */
function randomValue(next: () => number, depth: number): unknown {
  const leaves: unknown[] = [
    0,
    -0,
    1e21,
    1e-7,
    0.1 + 0.2,
    -123.456,
    2 ** 53,
    true,
    false,
    null,
    '',
    'plain',
    'é\u00e9\u{1F600}',
    'line\nbreak "quoted" \\ \u0001',
    new Date(Date.UTC(2026, 11, 3)),
    undefined,
  ];
  const pick = Math.floor(next() * 10);
  if (depth > 3 || pick < 5) return leaves[Math.floor(next() * leaves.length)];
  if (pick < 7) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const keys = ['b', 'a', 'aa', 'A', '_type', 'é', '\u{1F600}', '\uff61', 'z1', 'z10', 'z2', '', '__proto__'];
  // Array-index keys enumerate first in numeric order whatever the insertion order: only sometimes.
  if (next() < 0.1) keys.push('2', '10', '0', '01');
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--)
    // Defined, not assigned: "__proto__" becomes a member, not the object's prototype.
    Object.defineProperty(object, keys[Math.floor(next() * keys.length)] as string, {
      value: randomValue(next, depth + 1),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  return object;
}

describe('canonical JSON', () => {
  it('sorts keys and normalises numbers as RFC 8785 requires', () => {
    expect(canonicalJson({ b: 1, a: [1e2, 'x'], c: { z: true, y: null } })).toBe(
      '{"a":[100,"x"],"b":1,"c":{"y":null,"z":true}}',
    );
  });
  it('gives the same digest for the same meaning and a different one for a different meaning', () => {
    expect(digestOf({ a: 1, b: 2 })).toBe(digestOf({ b: 2, a: 1 }));
    expect(digestOf({ a: 1, b: 2 })).not.toBe(digestOf({ a: 1, b: 3 }));
    expect(digestOf({})).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
  it('writes byte for byte what the reference implementation writes, sorted or not', () => {
    let seed = 18;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values: unknown[] = Array.from({ length: 2000 }, () => ({ v: randomValue(next, 0) }));
    values.push(
      { v: [undefined, Symbol('s'), 1], k: Symbol('t'), u: undefined },
      { v: Buffer.from('bytes'), b: { toJSON: () => ({ y: 1, x: [2] }) } },
      { a: { b: { c: 'in order' } }, d: [1, { e: 2, f: 3 }] },
      { z: { 10: 'a', 2: 'b', x: 1 }, a: JSON.parse('{"__proto__": {"b": 1, "a": 2}}') as unknown },
    );
    for (const value of values) expect(canonicalJson(value)).toBe(reference(value));
  });
  it('refuses what canonical JSON cannot hold, as the reference implementation does', () => {
    for (const bad of [NaN, Infinity, { a: [-Infinity] }, 'lone \ud800', { ['\udc00']: 1 }, undefined]) {
      expect(() => canonicalJson(bad)).toThrow();
      expect(() => {
        if (reference(bad) === undefined) throw new TypeError('undefined');
      }).toThrow();
    }
  });
});
