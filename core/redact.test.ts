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

  it('hides the parts of a secret URL a task quotes on their own (a failed request names origin and path)', () => {
    // A webhook URL kept as a secret carries its credential in the path or query; the http task's
    // error quotes `${origin}${pathname}`, which is not the secret whole and escaped redaction.
    const redact = createRedactor(['https://hooks.example.com/services/T0/B0/s3cr3tTok?sig=abc123def456']);
    const failed = 'POST https://hooks.example.com/services/T0/B0/s3cr3tTok failed: ECONNRESET';
    expect(redact(failed)).toBe('POST *** failed: ECONNRESET');
    expect(redact('redirected to /services/T0/B0/s3cr3tTok')).toBe('redirected to ***');
    expect(redact('query ?sig=abc123def456')).toBe('query ***');
    // The normalised form (a URL object's href) is hidden too.
    expect(
      createRedactor(['HTTPS://Hooks.Example.com:443/a/b/c/token9'])(
        'GET https://hooks.example.com/a/b/c/token9',
      ),
    ).toBe('GET ***');
    expect(
      createRedactor(['postgres://app:pa%24%24word-123@db.internal:5432/shop'])('auth pa$$word-123 refused'),
    ).toBe('auth *** refused');
    // A URL's host alone is no secret (policy decisions name it), nor is a short path.
    expect(createRedactor(['https://api.example.com/v1?k=0123456789'])('to https://api.example.com/v1')).toBe(
      'to ***',
    );
    expect(createRedactor(['https://api.example.com/v1?k=0123456789'])('host api.example.com path /v1')).toBe(
      'host api.example.com path /v1',
    );
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
