import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerConfigCredentials, registryAuthFile, type HelperRunner } from './registry-auth.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-registry-auth-unit-'));
const file = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registryAuthFile', () => {
  it('REGISTRY_AUTH_FILE wins, then $DOCKER_CONFIG/config.json, then ~/.docker/config.json', () => {
    expect(registryAuthFile({ REGISTRY_AUTH_FILE: '/a.json', DOCKER_CONFIG: '/d' }, '/home/u')).toBe(
      '/a.json',
    );
    expect(registryAuthFile({ DOCKER_CONFIG: '/d' }, '/home/u')).toBe('/d/config.json');
    expect(registryAuthFile({}, '/home/u')).toBe('/home/u/.docker/config.json');
  });
});

describe('dockerConfigCredentials', () => {
  it('reads auths by host, URL keys included, and docker.io under its old names', async () => {
    const lookup = dockerConfigCredentials({
      file: file('auths.json', {
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pw:with:colons') },
          'registry.example:5000': { username: 'u', password: 'p' },
          'ghcr.io': { identitytoken: 'refresh-token' },
        },
      }),
    });
    expect(await lookup('docker.io')).toEqual({ username: 'hub', password: 'pw:with:colons' });
    expect(await lookup('registry.example:5000')).toEqual({ username: 'u', password: 'p' });
    expect(await lookup('ghcr.io')).toBeUndefined(); // identity tokens are not exchanged
    expect(await lookup('other.example')).toBeUndefined();
  });

  it('asks credHelpers per registry and credsStore for the rest, once each; a failing helper means anonymous', async () => {
    const calls: string[] = [];
    const runHelper: HelperRunner = async (program, registry) => {
      calls.push(`${program} ${registry}`);
      if (registry === 'missing.example') throw new Error('credentials not found in native keychain');
      return JSON.stringify({ ServerURL: registry, Username: `${program}-user`, Secret: 's3cret' });
    };
    const lookup = dockerConfigCredentials({
      file: file('helpers.json', { credHelpers: { 'ecr.example': 'ecr-login' }, credsStore: 'desktop' }),
      runHelper,
    });
    expect(await lookup('ecr.example')).toEqual({
      username: 'docker-credential-ecr-login-user',
      password: 's3cret',
    });
    expect(await lookup('ecr.example')).toEqual({
      username: 'docker-credential-ecr-login-user',
      password: 's3cret',
    });
    expect(await lookup('registry.example')).toEqual({
      username: 'docker-credential-desktop-user',
      password: 's3cret',
    });
    expect(await lookup('missing.example')).toBeUndefined();
    expect(calls).toEqual([
      'docker-credential-ecr-login ecr.example',
      'docker-credential-desktop registry.example',
      'docker-credential-desktop missing.example',
    ]);
  });

  it('no file means anonymous; a file that is not JSON is an error naming it, never guessed around', async () => {
    expect(await dockerConfigCredentials({ file: join(dir, 'absent.json') })('r.example')).toBeUndefined();
    const bad = file('bad.json', '{ not json');
    await expect(dockerConfigCredentials({ file: bad })('r.example')).rejects.toMatchObject({
      code: 'registry_auth_invalid',
      message: `${bad} is not a JSON auth file`,
    });
  });
});
