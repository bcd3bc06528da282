import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialHelperEnv,
  dockerConfigCredentials,
  registryAuthFile,
  type HelperRunner,
} from './registry-auth.ts';

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

  it('the attack: a helper that prints its secret as invalid JSON; the error says only that it was invalid', async () => {
    const secret = 'ghp_helper-secret-9f2c';
    const lookup = dockerConfigCredentials({
      file: file('invalid-helper.json', { credsStore: 'broken' }),
      runHelper: async () => `Secret=${secret}\n`,
    });
    const error = await lookup('registry.example').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'registry_helper_invalid',
      message: 'docker-credential-broken answered for registry.example with output that is not JSON',
    });
    const everything = JSON.stringify([error, String(error), (error as Error).stack, (error as Error).cause]);
    expect(everything).not.toContain(secret);
  });

  it('the attack: a helper inherits the server’s secrets; it gets PATH, HOME and its store’s variables only', async () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const seen = join(bin, 'env.txt');
    const helper = join(bin, 'docker-credential-envdump');
    writeFileSync(
      helper,
      `#!/bin/sh\ncat > /dev/null\nenv > ${seen}\necho '{"Username":"u","Secret":"s"}'\n`,
    );
    chmodSync(helper, 0o755);
    const lookup = dockerConfigCredentials({
      file: file('envdump.json', { credsStore: 'envdump' }),
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: '/home/maestro',
        DOCKER_CONFIG: '/home/maestro/.docker',
        AWS_PROFILE: 'ecr',
        MAESTRO_CREDENTIAL_HELPER_ENV: 'AWS_PROFILE, MAESTRO_SIGNING_KEY',
        MAESTRO_SIGNING_KEY: '/etc/maestro/receipts.pem',
        MAESTRO_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----',
        GITHUB_TOKEN: 'ghs_server-token',
        AWS_SECRET_ACCESS_KEY: 'artifact-store-secret',
      },
    });
    expect(await lookup('registry.example')).toEqual({ username: 'u', password: 's' });
    const names = readFileSync(seen, 'utf8')
      .split('\n')
      .map((line) => line.slice(0, line.indexOf('=')))
      .filter((n) => n !== '' && n !== 'PWD' && n !== 'SHLVL' && n !== '_');
    // AWS_PROFILE only because the operator named it; a MAESTRO_ name is never passed.
    expect(names.sort()).toEqual(['AWS_PROFILE', 'DOCKER_CONFIG', 'HOME', 'PATH']);
  });

  it('failures are not cached: a helper that failed, or a file that was broken, is asked again', async () => {
    let calls = 0;
    const flaky = dockerConfigCredentials({
      file: file('flaky.json', { credsStore: 'flaky' }),
      runHelper: async () => {
        calls++;
        if (calls === 1) throw new Error('helper timed out');
        if (calls === 2) return 'not json';
        return JSON.stringify({ Username: 'u', Secret: 's' });
      },
    });
    expect(await flaky('registry.example')).toBeUndefined(); // anonymous this time
    await expect(flaky('registry.example')).rejects.toMatchObject({ code: 'registry_helper_invalid' });
    expect(await flaky('registry.example')).toEqual({ username: 'u', password: 's' });
    expect(await flaky('registry.example')).toEqual({ username: 'u', password: 's' });
    expect(calls).toBe(3); // the answer is cached; the two failures were not
    const path = file('fixed-later.json', '{ broken');
    const lookup = dockerConfigCredentials({ file: path });
    await expect(lookup('r.example')).rejects.toMatchObject({ code: 'registry_auth_invalid' });
    writeFileSync(path, JSON.stringify({ auths: { 'r.example': { username: 'u', password: 'p' } } }));
    expect(await lookup('r.example')).toEqual({ username: 'u', password: 'p' });
  });
});

describe('credentialHelperEnv', () => {
  it('keeps the helpers’ names and the operator’s extra ones, never MAESTRO_ ones', () => {
    expect(
      credentialHelperEnv({
        PATH: '/bin',
        HOME: '/h',
        XDG_RUNTIME_DIR: '/run/user/1000',
        DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
        MAESTRO_DATABASE_URL: 'postgres://u:pw@db/m',
        GOOGLE_APPLICATION_CREDENTIALS: '/sa.json',
      }),
    ).toEqual({
      PATH: '/bin',
      HOME: '/h',
      XDG_RUNTIME_DIR: '/run/user/1000',
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
    });
    expect(
      credentialHelperEnv({
        GOOGLE_APPLICATION_CREDENTIALS: '/sa.json',
        MAESTRO_CREDENTIAL_HELPER_ENV: 'GOOGLE_APPLICATION_CREDENTIALS',
      }),
    ).toEqual({ GOOGLE_APPLICATION_CREDENTIALS: '/sa.json' });
  });
});
