import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRedactor, redactRecord, redactValue } from './redact.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIB"quoted"\\back\\slash\n-----END PRIVATE KEY-----';

describe('createRedactor', () => {
  it('hides the longest secret whole and each line of a multi-line secret', () => {
    const redact = createRedactor(['abc', 'abcdef', 'line1\nline2', '']);
    expect(redact('x abcdef y abc')).toBe('x *** y ***');
    expect(redact('got line2 here')).toBe('got *** here');
    expect(redact('nothing')).toBe('nothing');
  });

  it('hides every line of a PEM secret, CRLF lines, and its JSON-escaped form', () => {
    const redact = createRedactor([PEM]);
    for (const line of PEM.split('\n')) expect(redact(`> ${line} <`)).toBe('> *** <');
    expect(redact(PEM.replaceAll('\n', '\r\n'))).not.toContain('MIIB');
    const serialised = JSON.stringify({ key: PEM });
    expect(redact(serialised)).toBe('{"key":"***"}');
    // Each line escaped on its own (a task printing one line as JSON).
    expect(redact(JSON.stringify('MIIB"quoted"\\back\\slash'))).toBe('"***"');
  });

  it('knows the length of its longest piece, for splitters that cut long lines', () => {
    expect(createRedactor([]).longest).toBe(0);
    expect(createRedactor(['ab', 'a"b']).longest).toBe('a\\"b'.length);
  });

  it('never leaves a secret in text that contains it (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.string(), (secret, before, after) => {
        const out = createRedactor([secret])(before + secret + after);
        expect(out.includes(secret) && !'***'.includes(secret)).toBe(false);
      }),
    );
  });
});

describe('redactValue', () => {
  it('redacts leaf by leaf, so secrets JSON would escape are hidden in stored inputs', () => {
    const redact = createRedactor([PEM, '12345']);
    const inputs = { command: { argv: ['echo', PEM] }, env: { KEY: PEM }, with: { n: 12345, ok: true } };
    const stored = JSON.stringify(redactValue(inputs, redact));
    for (const line of PEM.split('\n')) expect(stored).not.toContain(JSON.stringify(line).slice(1, -1));
    expect(JSON.parse(stored)).toEqual({
      command: { argv: ['echo', '***'] },
      env: { KEY: '***' },
      with: { n: '***', ok: true },
    });
  });

  it('redacts keys and values of a record', () => {
    expect(redactRecord({ tok: 'a tok b' }, createRedactor(['tok']))).toEqual({ '***': 'a *** b' });
  });
});
