import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from './canonical.ts';

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
});
