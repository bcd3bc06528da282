import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCredentials, writeCredentials } from './credentials-file.ts';

const credentials = {
  APP_ID: '123',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nabc\ndef\n-----END RSA PRIVATE KEY-----\n',
  WEBHOOK_SECRET: 'whsec',
  GITHUB_CLIENT_ID: 'Iv1.x',
  GITHUB_CLIENT_SECRET: 'cs',
};
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'maestro-creds-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the credentials file', () => {
  it('round-trips, multi-line key included, in a 0600 file of NAME=value lines', () => {
    const path = writeCredentials(dir, credentials);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(5);
    expect(readCredentials(dir)).toEqual(credentials);
  });

  it('is absent: no variables', () => {
    expect(readCredentials(dir)).toEqual({});
  });

  it('is never overwritten: a second registration is refused', () => {
    writeCredentials(dir, credentials);
    expect(() => writeCredentials(dir, { ...credentials, APP_ID: '999' })).toThrow(/already exists/);
    expect(readCredentials(dir).APP_ID).toBe('123');
  });

  it('is refused when others can read it, with the chmod to run', () => {
    const path = writeCredentials(dir, credentials);
    chmodSync(path, 0o644);
    expect(() => readCredentials(dir)).toThrow(/readable by others/);
  });
});
