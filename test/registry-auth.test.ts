/**
 * Registry credentials from Docker's auth file (docs/supply-chain.md, "Registry credentials"), against
 * a registry that needs them: the test OCI registry (maestro-oci-registry, which has no auth of its
 * own) behind a small proxy that answers 401 with a Basic challenge unless the request carries
 * the right user and password, and that sends blob reads to a second origin (as registries send
 * them to a CDN) which records the headers it gets. Checked: `maestro image sign`/`verify` and
 * `maestro sbom generate --attach`/`add --image` with `REGISTRY_AUTH_FILE`, with a
 * `$DOCKER_CONFIG/config.json` whose credential helper answers, and without credentials (refused,
 * naming why); the runners' image gate (openImageGate, as `maestro run` and the server open it)
 * with the auth file the environment names; and that the password never reaches the other origin.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageGate } from '../runtime/open-image-gate.ts';
import { openAsyncStore } from '../engine/index.ts';
import { runtimeConfigFromEnv } from '../runtime/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { forwardTo, listenLoopback } from './helpers/registry-proxy.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';

const USER = 'robot';
const PASSWORD = 'registry-pass-7f3a9c';
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

let dir: string;
let registry: OciRegistry;
let proxy: Server;
let cdn: Server;
let proxyHost: string;
const cdnHeaders: IncomingHttpHeaders[] = [];

const env = (extra: Record<string, string> = {}) => ({
  PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
  HOME: join(dir, 'home'),
  MAESTRO_DATA_DIR: join(dir, 'data'),
  ...extra,
});
const maestro = (args: string[], extra: Record<string, string> = {}) => runCaptured(args, dir, env(extra));
const authFile = (password: string) => {
  const path = join(dir, `auth-${password.length}-${password.slice(0, 3)}.json`);
  writeFileSync(path, JSON.stringify({ auths: { [proxyHost]: { auth: basic(USER, password) } } }), {
    mode: 0o600,
  });
  return path;
};

let image: { reference: string; digest: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-registry-auth-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'home'));
  registry = await startOciRegistry();
  cdn = createServer((req, res) => {
    cdnHeaders.push(req.headers);
    forwardTo(registry.host, proxyHost, req, res);
  });
  const cdnHost = await listenLoopback(cdn);
  proxy = createServer((req, res) => {
    if (req.headers.authorization !== `Basic ${basic(USER, PASSWORD)}`) {
      req.resume();
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="maestro-test"',
        'content-type': 'application/json',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) {
      req.resume();
      res.writeHead(307, { location: `http://${cdnHost}${req.url}` });
      res.end();
      return;
    }
    forwardTo(registry.host, proxyHost, req, res);
  });
  proxyHost = await listenLoopback(proxy);
  // Pushed to the registry itself; read (and signed) through the proxy, which shares its storage.
  const pushed = registry.pushImage('team/app', 'v1', 'authenticated');
  image = { reference: pushed.reference.replace(registry.host, proxyHost), digest: pushed.digest };
  const keys = freshKeyPairPem();
  writeFileSync(join(dir, 'maestro.pem'), keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'maestro.pub.pem'), keys.publicKeyPem);
  // A credential helper speaking docker-credential-helpers' protocol: the registry on stdin.
  const helper = join(dir, 'bin', 'docker-credential-maestrotest');
  writeFileSync(
    helper,
    `#!/bin/sh\n[ "$1" = get ] || exit 1\nread host\n[ "$host" = "${proxyHost}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
      `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$host"\n`,
  );
  chmodSync(helper, 0o755);
  mkdirSync(join(dir, 'docker'));
  writeFileSync(
    join(dir, 'docker', 'config.json'),
    JSON.stringify({ credHelpers: { [proxyHost]: 'maestrotest' } }),
  );
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await new Promise((resolve) => cdn?.close(resolve));
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('registry credentials from the auth file Docker and Podman write', () => {
  it('without credentials the registry refuses, and maestro says it needs them (the behaviour before: no auth file read)', async () => {
    const r = await maestro(['image', 'verify', image.reference, '--key', 'maestro.pub.pem']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/answered 401 .*needs credentials and none were found/);
    const wrong = await maestro(['image', 'verify', image.reference, '--key', 'maestro.pub.pem'], {
      REGISTRY_AUTH_FILE: authFile('not-the-password'),
    });
    expect(wrong.stderr).toMatch(/answered 401 .*credentials given were refused/);
    expect(wrong.stderr).not.toContain('not-the-password');
  });

  it('signs and verifies with REGISTRY_AUTH_FILE, and sbom generate --attach / add --image store through it', async () => {
    const auth = { REGISTRY_AUTH_FILE: authFile(PASSWORD) };
    const signed = await maestro(['image', 'sign', image.reference, '--signing-key', 'maestro.pem'], auth);
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await maestro(
      ['image', 'verify', image.reference, '--key', 'maestro.pub.pem', '--format', 'json'],
      auth,
    );
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, digest: image.digest });
    // generate reads the image's files with Podman: the local copy under the proxy's name.
    execFileSync('podman', ['tag', registry.host + '/team/app:v1', image.reference], { stdio: 'pipe' });
    const attached = await maestro(
      ['sbom', 'generate', image.reference, '--attach', '--signing-key', 'maestro.pem', '-o', 'app.cdx.json'],
      auth,
    );
    expect(attached.code, attached.stderr).toBe(0);
    const added = await maestro(
      ['sbom', 'add', '--image', image.reference, '--key', 'maestro.pub.pem'],
      auth,
    );
    expect(added.code, added.stderr).toBe(0);
    const refused = await maestro(['sbom', 'add', '--image', image.reference, '--key', 'maestro.pub.pem']);
    expect(refused.stderr).toMatch(/needs credentials/);
  }, 120_000);

  it('asks the credential helper $DOCKER_CONFIG/config.json names for the registry', async () => {
    const r = await maestro(['image', 'verify', image.reference, '--key', 'maestro.pub.pem'], {
      DOCKER_CONFIG: join(dir, 'docker'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`verified ${image.reference.replace(/:v1$/, '')}@${image.digest}`);
  });

  it('the attack: a registry redirecting blob reads to another origin never gets the password there', () => {
    expect(cdnHeaders.length).toBeGreaterThan(0); // blobs (bundles, SBOMs) really went there
    for (const headers of cdnHeaders) expect(headers.authorization).toBeUndefined();
  });

  it("the runners' image gate uses the auth file of the environment it is opened from", async () => {
    writeFileSync(
      join(dir, 'runners.yaml'),
      `imagePolicy:\n  namespaces:\n    "*":\n      mode: enforce\n      rules:\n        - images: "${proxyHost}/team/**"\n          keys: [maestro.pub.pem]\n`,
    );
    const check = async (extra: Record<string, string>) => {
      const config = runtimeConfigFromEnv(env({ MAESTRO_RUNNERS_CONFIG: 'runners.yaml', ...extra }), {
        cwd: dir,
        socketExists: () => false,
      });
      // The gate's decisions go to the decision log in the engine store's database.
      const store = await openAsyncStore({ dataDir: config.dataDir });
      const opened = await openImageGate(
        config.runners,
        { dataDir: config.dataDir, durability: config.durability },
        () => store,
      );
      try {
        return await opened.gate!.check({
          runId: 'r',
          taskId: 't',
          attempt: 1,
          namespace: 'default',
          image: image.reference,
        });
      } finally {
        await opened.close();
        await store.close();
      }
    };
    const allowed = await check({ REGISTRY_AUTH_FILE: authFile(PASSWORD) });
    expect(allowed).toMatchObject({
      allowed: true,
      image: { digest: image.digest, verification: 'verified' },
    });
    expect(allowed.allowed && allowed.pinned).toBe(`${proxyHost}/team/app@${image.digest}`);
    const refused = await check({});
    expect(refused).toMatchObject({ allowed: false, reason: 'ImageRegistryUnavailable' });
    expect(!refused.allowed && refused.message).toMatch(/needs credentials/);
  });
});
