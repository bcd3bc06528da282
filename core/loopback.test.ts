import { describe, expect, it } from 'vitest';
import { credentialInClear, isLoopbackHost } from './loopback.ts';

describe('isLoopbackHost', () => {
  it('takes localhost, 127.0.0.0/8 and ::1 in every spelling, with or without a port', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      '127.0.0.1',
      '127.1.2.3',
      '127.0.0.1:9092',
      'localhost:25',
      '::1',
      '[::1]',
      '[::1]:5000',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(true);
  });

  it('refuses names that only look like loopback, and every other address', () => {
    for (const host of [
      '127.example.com', // a name starting with 127. (workspace/source-url.ts took it for loopback)
      '127.0.0.1.nip.io',
      'localhost.example.com',
      'mylocalhost',
      '128.0.0.1',
      '10.0.0.1',
      '0.0.0.0',
      '::',
      '[::2]',
      '::ffff:10.0.0.1',
      'kafka:9092',
      '',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('credentialInClear', () => {
  it('refuses plain http:// beyond loopback, naming what and where; allows https:// and loopback http', () => {
    expect(credentialInClear(new URL('http://sig.example:8787/v3'), 'the bearer token')).toBe(
      'the bearer token would go to sig.example in clear over http://: use https:// (plain http only to a loopback address)',
    );
    expect(credentialInClear(new URL('http://127.example.com/'), 'x')).toMatch(/127\.example\.com in clear/);
    for (const url of [
      'https://sig.example/',
      'http://127.0.0.1:8787/',
      'http://[::1]/',
      'http://localhost/',
    ])
      expect(credentialInClear(new URL(url), 'x'), url).toBeUndefined();
  });
});
