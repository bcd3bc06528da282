import { describe, expect, it } from 'vitest';
import { checkRemoteUrl } from './source-url.ts';

describe('checkRemoteUrl', () => {
  it('allows plain HTTP to a loopback address (the GitHub stand-in, a local mirror)', () => {
    for (const url of ['http://127.0.0.1:8080/o/r.git', 'http://localhost/o/r.git', 'http://[::1]:9/r.git'])
      expect(checkRemoteUrl(url).href).toBe(new URL(url).href);
  });

  it('the attack: a host name that starts with 127. is not loopback, so the token never goes to it in clear', () => {
    for (const url of ['http://127.example.com/o/r.git', 'http://127.0.0.1.nip.io/o/r.git'])
      expect(() => checkRemoteUrl(url), url).toThrow(/plain HTTP is allowed only to a loopback address/);
  });
});
