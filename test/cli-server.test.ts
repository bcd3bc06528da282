/**
 * The CLI against a real `maestro server` (the API harness: the runtime, the worker and Fastify
 * on 127.0.0.1, as `maestro server` wires them): `validate`, `run` and the `runs` commands with
 * `--server` print what the same commands print locally (compared line by line, or shape by
 * shape where run ids, times and the actor differ), exit with the same codes, turn the server's
 * problem+json into the usual `maestro: …` lines, and never print the token.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../api/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { waitFor } from './helpers/wait-for.ts';
import { HELLO, manifest, startApi, type ApiHarness } from './api/api-harness.ts';

let api: ApiHarness;
let dir: string;
let token: string;
const printed: string[] = [];

const FLAKY = manifest('flaky', '    - id: a\n      run: "echo trying; exit 1"\n');
const SLOW = manifest('slow', '    - id: nap\n      run: "sleep 20"\n');
const BROKEN = manifest('broken', '    - id: a\n      run: "true"\n      bogus: 1\n');

beforeAll(async () => {
  api = await startApi();
  token = await api.mint(['workflows:write', 'runs:read', 'runs:write']);
  dir = mkdtempSync(join(tmpdir(), 'maestro-cli-server-'));
  mkdirSync(join(dir, 'wf/.maestro/workflows'), { recursive: true });
  writeFileSync(join(dir, 'wf/.maestro/workflows/hello.yaml'), HELLO);
  writeFileSync(join(dir, 'wf/.maestro/workflows/broken.yaml'), BROKEN);
  writeFileSync(join(dir, 'flaky.yaml'), FLAKY);
  writeFileSync(join(dir, 'slow.yaml'), SLOW);
});
afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const shell = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: dir,
  LANG: 'C.UTF-8',
  USER: 'tester',
});

async function remote(args: string[], env: Record<string, string | undefined> = { MAESTRO_TOKEN: token }) {
  const result = await runCaptured([...args, '--server', api.url], dir, { ...shell(), ...env });
  printed.push(result.stdout, result.stderr);
  return result;
}

async function local(args: string[]) {
  const result = await runCaptured(args, dir, { ...shell(), MAESTRO_DATA_DIR: join(dir, 'local-data') });
  printed.push(result.stdout, result.stderr);
  return result;
}

/** The structure of a JSON value: keys and types, not values. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, shape(v)]),
  );
}

const runIdOf = (stdout: string) => /^run (r-[0-9a-f-]+) /.exec(stdout)?.[1] ?? '';
/** A run's live output without its ids, sorted (log lines and transitions interleave differently). */
const liveLines = (stdout: string, id: string) =>
  stdout.replaceAll(id, '<run>').split('\n').filter(Boolean).sort();

describe('validate --server', () => {
  it('prints exactly what local validate prints (text and JSON), with its exit code, storing nothing', async () => {
    for (const format of ['text', 'json']) {
      const here = await local(['validate', 'wf', '--format', format]);
      const there = await remote(['validate', 'wf', '--format', format]);
      expect(there.stderr).toBe('');
      expect(there.stdout).toBe(here.stdout);
      expect(there.code).toBe(here.code);
      expect(there.code).toBe(1);
    }
    expect((await remote(['validate', 'wf/.maestro/workflows/hello.yaml'])).stdout).toMatch(
      /^ok wf\/\.maestro\/workflows\/hello\.yaml \(Workflow hello, 4 tasks\)/,
    );
    const stored = await api.call('GET', '/v1/workflows');
    expect(stored.body.items).toEqual([]);
  });
});

describe('run --server', () => {
  it('runs on the server and shows it as a local run does: first line, live lines, last line, exit code', async () => {
    const file = 'wf/.maestro/workflows/hello.yaml';
    const here = await local(['run', file, '--param', 'who=cli']);
    const there = await remote(['run', file, '--param', 'who=cli']);
    expect(here.code).toBe(0);
    expect(there.code).toBe(0);
    const id = runIdOf(there.stdout);
    expect(there.stdout).toMatch(/^run r-[0-9a-f-]+ \(quickstart\/hello\)\n/);
    expect(there.stdout.trimEnd().split('\n').at(-1)).toBe(`run ${id} succeeded`);
    expect(liveLines(there.stdout, id)).toEqual(liveLines(here.stdout, runIdOf(here.stdout)));
    expect(liveLines(there.stdout, id)).toContain('report | Hello, cli! (11 characters)');
    // The run is the server's: the API knows it, started by the token's user.
    const onServer = await api.call('GET', '/v1/runs/{id}', { params: { id } });
    expect(onServer.body.run).toMatchObject({ status: 'succeeded', actor: 'tester' });
  });

  it('prints an invalid manifest’s diagnostics as a local run does, and starts nothing', async () => {
    const here = await local(['run', 'wf/.maestro/workflows/broken.yaml']);
    const there = await remote(['run', 'wf/.maestro/workflows/broken.yaml']);
    expect(there.code).toBe(1);
    expect(there.stderr).toBe(here.stderr);
    expect(there.stdout).toBe('');
  });

  it('Ctrl-C asks the server to cancel the run, as it cancels a local one', async () => {
    const child = spawn(
      join(process.cwd(), 'node_modules/.bin/node'),
      [join(process.cwd(), 'bin/maestro.ts'), 'run', 'slow.yaml', '--server', api.url],
      { cwd: dir, env: { ...shell(), MAESTRO_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor('the task to run', () => (out.includes('nap running') ? true : undefined), {
      explain: () => out,
    });
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const id = runIdOf(out);
    expect(out.trimEnd().split('\n').at(-1)).toBe(`run ${id} cancelled`);
    printed.push(out);
  });

  it('ends with the unreachable error, not a hang, when the server dies during the run', async () => {
    const node = join(process.cwd(), 'node_modules/.bin/node');
    const maestro = join(process.cwd(), 'bin/maestro.ts');
    const data = join(dir, 'dying-server');
    const env = { ...shell(), LOG_LEVEL: 'info' as const };
    const made = spawnSync(
      node,
      [
        maestro,
        'tokens',
        'create',
        '--name',
        'd',
        '--scope',
        'workflows:write,runs:write,runs:read',
        '--data-dir',
        data,
      ],
      { env, encoding: 'utf8' },
    );
    const dyingToken = made.stdout.trim();
    const server = spawn(
      node,
      [maestro, 'server', '--port', '0', '--data-dir', data, '--role', 'api,worker'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    server.stdout.on('data', (c: Buffer) => (log += c.toString()));
    server.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const url = await waitFor('the server to listen', () => /"url":"(http:[^"]+)"/.exec(log)?.[1], {
      explain: () => log,
    });
    const cli = spawn(node, [maestro, 'run', 'slow.yaml', '--server', url], {
      cwd: dir,
      env: { ...shell(), MAESTRO_TOKEN: dyingToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
    cli.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', resolve));
    await waitFor('the task to run', () => (out.includes('nap running') ? true : undefined), {
      explain: () => out,
    });
    server.kill('SIGKILL');
    expect(await exited).toBe(3);
    // Refused when the CLI was between polls, reset when the kill cut its open log stream.
    expect(out).toMatch(
      /maestro: cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \((ECONNREFUSED|ECONNRESET)\)/,
    );
    expect(out).not.toContain(dyingToken);
  });
});

describe('runs … --server', () => {
  it('list, show and logs print the local shapes', async () => {
    const here = { list: await local(['runs', 'list', '--format', 'json']) };
    const there = { list: await remote(['runs', 'list', '--format', 'json', '--workflow', 'hello']) };
    const localRuns = JSON.parse(here.list.stdout) as { id: string }[];
    const serverRuns = JSON.parse(there.list.stdout) as { id: string }[];
    expect(serverRuns.length).toBe(1);
    expect(shape(serverRuns)).toEqual(shape(localRuns));
    const [localId, serverId] = [localRuns.find((r) => r)!.id, serverRuns[0]!.id];
    const text = await remote(['runs', 'list']);
    expect(text.stdout).toMatch(new RegExp(`^${serverId}  succeeded  quickstart/hello  \\d{4}-`, 'm'));

    const showHere = JSON.parse((await local(['runs', 'show', localId, '--format', 'json'])).stdout);
    const showThere = JSON.parse((await remote(['runs', 'show', serverId, '--format', 'json'])).stdout);
    // The local run's source is its directory; the server's run was posted without one.
    expect(showThere.source).toBeNull();
    expect(shape({ ...showThere, source: null })).toEqual(shape({ ...showHere, source: null }));
    const outputs = (d: { tasks: { id: string; state: string; attempts: { outputs: unknown }[] }[] }) =>
      d.tasks.map((t) => [t.id, t.state, t.attempts.map((a) => a.outputs)]);
    expect(outputs(showThere)).toEqual(outputs(showHere));
    const textHere = (await local(['runs', 'show', localId])).stdout.replaceAll(localId, '<run>');
    const textThere = (await remote(['runs', 'show', serverId])).stdout.replaceAll(serverId, '<run>');
    expect(textThere).toBe(textHere.replace(/^ {2}source .*\n/m, ''));

    const logsHere = await local(['runs', 'logs', localId, '--task', 'report']);
    const logsThere = await remote(['runs', 'logs', serverId, '--task', 'report']);
    expect(logsThere.stdout).toBe(logsHere.stdout);
    expect(logsThere.stdout).toBe('report#1 stdout: Hello, cli! (11 characters)\n');
    const jsonHere = JSON.parse((await local(['runs', 'logs', localId, '--format', 'json'])).stdout);
    const jsonThere = JSON.parse((await remote(['runs', 'logs', serverId, '--format', 'json'])).stdout);
    expect(shape(jsonThere)).toEqual(shape(jsonHere));
  });

  it('retry re-runs the failed part and follows it as the local retry does', async () => {
    const here = await local(['run', 'flaky.yaml']);
    const there = await remote(['run', 'flaky.yaml']);
    expect([here.code, there.code]).toEqual([1, 1]);
    const [localId, serverId] = [runIdOf(here.stdout), runIdOf(there.stdout)];
    const retryHere = await local(['runs', 'retry', localId]);
    const retryThere = await remote(['runs', 'retry', serverId]);
    expect(retryThere.code).toBe(retryHere.code);
    expect(retryThere.code).toBe(1);
    expect(liveLines(retryThere.stdout, serverId)).toEqual(liveLines(retryHere.stdout, localId));
    expect(retryThere.stdout).toContain('a | trying\n');
    expect(retryThere.stdout.match(/a \| trying/g)).toHaveLength(1); // the first attempt's line is not replayed
    const json = await remote(['runs', 'retry', serverId, '--format', 'json']);
    const jsonHere = await local(['runs', 'retry', localId, '--format', 'json']);
    expect(shape(JSON.parse(json.stdout))).toEqual(shape(JSON.parse(jsonHere.stdout)));
  });

  it('cancel asks the server to cancel a running run, printing the local line and JSON shape', async () => {
    const { body: wf } = await api.call('POST', '/v1/workflows', {
      raw: SLOW,
      contentType: 'application/yaml',
    });
    const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    for (let i = 0; i < 200; i++) {
      const now = await api.call('GET', '/v1/runs/{id}', { params: { id: run.id } });
      if (now.body.tasks[0].state === 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const there = await remote(['runs', 'cancel', run.id]);
    expect(there).toMatchObject({ code: 0, stdout: `run ${run.id}: cancel requested\n` });
    expect((await api.settle(run.id)).body.run.status).toBe('cancelled');
    const json = JSON.parse((await remote(['runs', 'cancel', run.id, '--format', 'json'])).stdout);
    const localId = JSON.parse((await local(['runs', 'list', '--format', 'json'])).stdout)[0].id;
    const jsonHere = JSON.parse((await local(['runs', 'cancel', localId, '--format', 'json'])).stdout);
    expect(Object.keys(json).sort()).toEqual(Object.keys(jsonHere).sort());
    expect(json.cancelRequestedBy).toBe('tester');
  });
});

describe('errors', () => {
  it('a missing MAESTRO_TOKEN is a usage error naming the variable', async () => {
    for (const args of [
      ['runs', 'list'],
      ['run', 'flaky.yaml'],
      ['validate', 'wf'],
    ]) {
      const result = await remote(args, {});
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^maestro: --server needs a token in MAESTRO_TOKEN, which is not set\n/);
    }
  });

  it('the server’s problems become the usual error lines and exit codes', async () => {
    const unknown = mintToken().token;
    const refused = await remote(['runs', 'list'], { MAESTRO_TOKEN: unknown });
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^maestro: the token is unknown, revoked or expired\nhint: /);
    expect(refused.stderr).not.toContain(unknown);
    const readOnly = await api.mint(['runs:read']);
    const scoped = await remote(['run', 'flaky.yaml'], { MAESTRO_TOKEN: readOnly });
    expect(scoped.code).toBe(1);
    expect(scoped.stderr).toMatch(/^maestro: this route needs the scope workflows:write\n/);
    const here = await local(['runs', 'show', 'r-nope']);
    const there = await remote(['runs', 'show', 'r-nope']);
    expect([here.code, there.code]).toEqual([1, 1]);
    expect(there.stderr).toMatch(/^maestro: no run r-nope\nhint: /);
    const someRun = JSON.parse((await remote(['runs', 'list', '--format', 'json'])).stdout)[0].id;
    const localRun = JSON.parse((await local(['runs', 'list', '--format', 'json'])).stdout)[0].id;
    const noTask = await remote(['runs', 'logs', someRun, '--task', 'nope']);
    const noTaskHere = await local(['runs', 'logs', localRun, '--task', 'nope']);
    expect(noTask.code).toBe(noTaskHere.code);
    expect(noTask.stderr).toBe(noTaskHere.stderr.replaceAll(localRun, someRun));
    const inUrl = await runCaptured(['runs', 'list', '--server', 'http://ci:s3cret-pw@127.0.0.1:8080'], dir, {
      ...shell(),
      MAESTRO_TOKEN: token,
    });
    expect(inUrl.code).toBe(2);
    expect(inUrl.stderr).toMatch(/^maestro: --server must not carry credentials\n/);
    expect(inUrl.stderr).not.toContain('s3cret-pw');
    const flag = await remote(['runs', 'list', '--data-dir', dir]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^maestro: --data-dir does not apply with --server/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const away = await runCaptured(['runs', 'list', '--server', `http://127.0.0.1:${port}`], dir, {
      ...shell(),
      MAESTRO_TOKEN: token,
    });
    expect(away.code).toBe(3);
    expect(away.stderr).toContain(
      `maestro: cannot reach the server at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });

  it('never printed the token', () => {
    expect(printed.length).toBeGreaterThan(20);
    for (const text of printed) expect(text).not.toContain(token);
  });
});
