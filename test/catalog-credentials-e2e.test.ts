/**
 * A private catalog: `maestro tasks lock` and `maestro run` fetch it from a real git server over
 * HTTP (`git http-backend` behind a node:http server that wants HTTP Basic), with the token from
 * the environment (`MAESTRO_CATALOG_TOKEN_<host>`) or from the user's git credential helper.
 *
 * The attacks: the token must never be in `.maestro/tasks.lock`, the cached mirror (its config or
 * any file of the data dir), the repository, the output or an error (a wrong URL, a wrong token);
 * it is offered to the host it is named for only; and never over plain http to a non-loopback
 * host (the server there sees no request at all).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { git } from './github-standin/index.ts';
import { serveGitHttp } from './github-standin/git-http.ts';
import { filesHolding } from './helpers/find-secret.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';

const TOKEN = 'mct_catalog_s3cr3t_9f8e7d6c';
const USER = 'catalog-bot';

const TASK_JSON = {
  name: 'greet',
  version: '1.0.0',
  description: 'Greets someone.',
  inputs: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  outputs: ['greeting'],
};
const TASK_TS = `import { defineTask, runMain } from '@summit-maestro/sdk';
export const greet = defineTask({
  name: 'greet',
  version: '1.0.0',
  spec: {
    inputs: ${JSON.stringify(TASK_JSON.inputs)},
    outputs: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  },
  async execute(inputs) {
    return { greeting: 'private hello ' + inputs.name };
  },
} as const);
if (import.meta.main) await runMain(greet, process.env);
`;

function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function commitAll(dir: string): void {
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
}

interface Seen {
  path: string;
  authorization: string | undefined;
  from: string | undefined;
}

/** A private git server: `/acme/tasks.git` for `USER`/`TOKEN` (Basic) only, 401 otherwise. */
async function servePrivateCatalog(bareDir: string, host: string) {
  const seen: Seen[] = [];
  const expected = `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}`;
  const helperUser = `Basic ${Buffer.from(`helper-user:${TOKEN}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      path: url.pathname,
      authorization: req.headers.authorization,
      from: req.socket.localAddress,
    });
    if (req.headers.authorization !== expected && req.headers.authorization !== helperUser)
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="catalog"' }).end();
    const m = /^\/acme\/tasks\.git(\/.*)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    void serveGitHttp(req, res, bareDir, m[1]!, url.search.slice(1));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return { port, seen, close: () => server.close() };
}

let root: string;
let server: Awaited<ReturnType<typeof servePrivateCatalog>>;
/** The machine's own non-loopback IPv4 address: a host plain http must not carry a token to. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

beforeAll(async () => {
  root = tempDir('maestro-private-catalog-');
  const work = join(root, 'catalog');
  mkdirSync(work);
  git(work, ['init', '-q', '--initial-branch', 'main']);
  write(work, { 'greet/task.json': JSON.stringify(TASK_JSON), 'greet/index.ts': TASK_TS });
  commitAll(work);
  git(work, ['tag', 'v1']);
  git(root, ['clone', '-q', '--bare', work, join(root, 'tasks.git')]);
  // On every address: the loopback URL reaches it, and so would the outside one if it were used.
  server = await servePrivateCatalog(join(root, 'tasks.git'), '0.0.0.0');
}, 60_000);
afterAll(() => server?.close());

function makeRepo(url: string): string {
  const dir = tempDir('maestro-private-catalog-user-');
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  write(dir, {
    '.maestro/catalogs.yaml': `catalogs:\n  acme: { url: "${url}", ref: v1 }\n`,
    '.maestro/workflows/greet.yaml': `apiVersion: maestro/v1
kind: Workflow
metadata: { name: greet, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
    - id: hello
      uses: acme/greet@1
      with: { name: Ada }
`,
  });
  commitAll(dir);
  return dir;
}

const loopbackUrl = () => `http://127.0.0.1:${server.port}/acme/tasks.git`;
const withToken = (dir: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH,
  HOME: dir,
  MAESTRO_PROVENANCE: 'off',
  MAESTRO_CATALOG_TOKEN_127_0_0_1: TOKEN,
  MAESTRO_CATALOG_USER_127_0_0_1: USER,
  ...extra,
});
const basic = (user: string) => Buffer.from(`${user}:${TOKEN}`).toString('base64');

/** Every place the token could have been written: nowhere. */
function expectNowhere(dirs: string[], texts: string[]): void {
  for (const dir of dirs)
    for (const secret of [TOKEN, basic(USER), basic('helper-user')])
      expect(filesHolding(dir, secret)).toEqual([]);
  for (const text of texts) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(basic(USER));
  }
}

describe('maestro tasks lock and run with a private catalog', () => {
  it('locks and runs with the token from the environment, which is written nowhere', async () => {
    const dir = makeRepo(loopbackUrl());
    const dataDir = join(dir, '..', `data-${Date.now()}`);
    // Anonymous: the server wants credentials.
    const anonymous = await runCaptured(['tasks', 'lock', '--data-dir', dataDir], dir, {
      PATH: process.env.PATH,
      HOME: dir,
    });
    // A fetch that fails is a failure outside the input: exit 3, naming the catalog.
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain(loopbackUrl());

    const locked = await runCaptured(['tasks', 'lock', '--data-dir', dataDir], dir, withToken(dir));
    expect(locked.stderr).toBe('');
    expect(locked.code).toBe(0);
    const lockText = readFileSync(join(dir, '.maestro/tasks.lock'), 'utf8');
    expect(lockText).toContain(loopbackUrl());
    expect(server.seen.some((s) => s.authorization === `Basic ${basic(USER)}`)).toBe(true);
    // The mirror's own config: no remote, no header, no credential.
    const mirrors = join(dataDir, 'sources', 'mirrors');
    for (const mirror of readdirSync(mirrors))
      expect(readFileSync(join(mirrors, mirror, 'config'), 'utf8')).not.toMatch(
        /extraheader|Authorization|url\s*=/i,
      );
    commitAll(dir);

    // A run with a fresh data dir fetches the locked commit again, with the same credential.
    const runData = join(dir, '..', `run-${Date.now()}`);
    const ran = await runCaptured(
      ['run', '.maestro/workflows/greet.yaml', '--data-dir', runData],
      dir,
      withToken(dir),
    );
    expect(ran.stderr).not.toMatch(/error/i);
    expect(ran.code).toBe(0);
    const runId = /run (r-\S+) /.exec(ran.stdout)![1]!;
    const logs = await runCaptured(['runs', 'logs', runId, '--data-dir', runData], dir, withToken(dir));
    expect(ran.stdout).toContain('hello');
    expectNowhere([dataDir, runData, dir], [locked.stdout, ran.stdout, ran.stderr, logs.stdout]);
  }, 120_000);

  it('uses the git credential helper when the environment names no token, and stores nothing', async () => {
    const dir = makeRepo(loopbackUrl());
    const home = tempDir('maestro-git-home-');
    const store = join(home, 'credentials');
    writeFileSync(store, `http://helper-user:${TOKEN}@127.0.0.1%3a${server.port}\n`);
    writeFileSync(join(home, '.gitconfig'), `[credential]\n\thelper = store --file=${store}\n`);
    const dataDir = join(dir, '..', `data-${Date.now()}`);
    const locked = await runCaptured(['tasks', 'lock', '--data-dir', dataDir], dir, {
      PATH: process.env.PATH,
      HOME: home,
    });
    expect(locked.stderr).toBe('');
    expect(locked.code).toBe(0);
    expect(server.seen.some((s) => s.authorization === `Basic ${basic('helper-user')}`)).toBe(true);
    expect(readFileSync(store, 'utf8')).toBe(`http://helper-user:${TOKEN}@127.0.0.1%3a${server.port}\n`);
    expectNowhere([dataDir, dir], [locked.stdout]);
  }, 60_000);

  it('keeps the token out of the error for a wrong URL and for a refused token', async () => {
    for (const [url, env] of [
      [`http://127.0.0.1:${server.port}/acme/missing.git`, {}],
      [loopbackUrl(), { MAESTRO_CATALOG_USER_127_0_0_1: 'someone-else' }],
    ] as const) {
      const dir = makeRepo(url);
      const dataDir = join(dir, '..', `data-${Date.now()}`);
      const failed = await runCaptured(['tasks', 'lock', '--data-dir', dataDir], dir, withToken(dir, env));
      expect(failed.stderr).toContain('MAESTRO_CATALOG_TOKEN_127_0_0_1');
      expect(failed.code).toBe(3);
      expect(failed.stderr).toContain('127.0.0.1');
      expect(failed.stderr).not.toContain(TOKEN);
      expect(failed.stderr).not.toContain(basic(USER));
      expect(failed.stderr).not.toContain(basic('someone-else'));
      expectNowhere([dataDir, dir], [failed.stdout]);
    }
  }, 60_000);

  it('offers the token only to the host it is named for', async () => {
    // The same server as `localhost`: a token for 127.0.0.1 is not offered there.
    const dir = makeRepo(`http://localhost:${server.port}/acme/tasks.git`);
    const before = server.seen.length;
    const locked = await runCaptured(
      ['tasks', 'lock', '--data-dir', join(dir, '..', 'd')],
      dir,
      withToken(dir),
    );
    expect(locked.code).toBe(3);
    const asked = server.seen.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((s) => s.authorization === undefined)).toBe(true);
  }, 60_000);

  it('never sends it over plain http to a host that is not loopback', async () => {
    expect(outside, 'this machine needs a non-loopback IPv4 address').toBeDefined();
    const dir = makeRepo(`http://${outside}:${server.port}/acme/tasks.git`);
    const before = server.seen.length;
    const variable = `MAESTRO_CATALOG_TOKEN_${outside!.replaceAll('.', '_')}`;
    const locked = await runCaptured(['tasks', 'lock', '--data-dir', join(dir, '..', 'd')], dir, {
      ...withToken(dir),
      [variable]: TOKEN,
    });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('plain HTTP is allowed only to a loopback address');
    expect(locked.stderr).not.toContain(TOKEN);
    // Nothing reached the server at that address: no request, so no header.
    expect(server.seen.slice(before)).toEqual([]);
  }, 60_000);
});
