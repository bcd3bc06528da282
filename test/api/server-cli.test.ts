/**
 * `maestro server` and `maestro tokens` as real processes: the first token is made with no server
 * running, the server finds it in the same data directory, a run posted through the API is
 * executed by the worker role of the same process, and the app role mounts the App's webhook
 * ingress when the App is configured (skipped with a log line otherwise).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/index.ts';
import { DEFAULT_WORKER_RUNS } from '../../runtime/index.ts';
import { captureIo } from '../cli-helpers.ts';

const node = join(process.cwd(), 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'maestro-server-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const baseEnv = { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', LOG_LEVEL: 'info' };
const hello = readFileSync('examples/quickstart/.maestro/workflows/hello.yaml', 'utf8');

function maestro(args: string[], env: Record<string, string | undefined> = baseEnv) {
  return spawnSync(node, ['bin/maestro.ts', ...args], { env, encoding: 'utf8' });
}

async function startServer(args: string[], env: Record<string, string | undefined> = baseEnv) {
  const child = spawn(node, ['bin/maestro.ts', 'server', '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  let url: string | undefined;
  for (let i = 0; i < 600 && !url; i += 1) {
    url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) throw new Error(`the server did not start:\n${output}`);
  return { child, url, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((resolve) => child.on('exit', (c) => resolve(c)));
}

describe('maestro server', () => {
  it('serves tokens made before it started, runs what is posted, and honours a revoke at once', async () => {
    const data = join(dir, 'one');
    const created = maestro([
      'tokens',
      'create',
      '--name',
      'ci',
      '--scope',
      'runs:write,runs:read,workflows:write',
      '--data-dir',
      data,
    ]);
    expect(created.status).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^mst_[0-9A-Za-z]{36}$/);
    expect(created.stderr).toContain('shown once');
    const server = await startServer(['--data-dir', data]);
    try {
      expect(server.output()).toContain('app role skipped: APP_ID is not set');
      const auth = { authorization: `Bearer ${token}` };
      const wf = await fetch(`${server.url}/v1/workflows`, {
        method: 'POST',
        body: hello,
        headers: { ...auth, 'content-type': 'application/yaml' },
      });
      expect(wf.status).toBe(201);
      const { digest } = (await wf.json()) as { digest: string };
      const started = await fetch(`${server.url}/v1/runs`, {
        method: 'POST',
        body: JSON.stringify({ workflow: digest }),
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(started.status).toBe(202);
      const { id } = (await started.json()) as { id: string };
      let status = 'queued';
      while (!['succeeded', 'failed'].includes(status)) {
        await new Promise((r) => setTimeout(r, 100));
        const run = (await (await fetch(`${server.url}/v1/runs/${id}`, { headers: auth })).json()) as {
          run: { status: string };
        };
        status = run.run.status;
      }
      expect(status).toBe('succeeded');
      const listed = maestro(['tokens', 'list', '--format', 'json', '--data-dir', data]);
      const [entry] = JSON.parse(listed.stdout) as { id: string; state: string }[];
      expect(entry!.state).toBe('active');
      expect(listed.stdout).not.toContain(token);
      expect(maestro(['tokens', 'revoke', entry!.id, '--data-dir', data]).status).toBe(0);
      expect((await fetch(`${server.url}/v1/runs/${id}`, { headers: auth })).status).toBe(401);
    } finally {
      expect(await stop(server.child)).toBe(0);
    }
  });

  it('mounts the GitHub App webhook ingress as the app role when the App is configured', async () => {
    const keyPath = join(dir, 'app.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const env = {
      ...baseEnv,
      APP_ID: '12',
      PRIVATE_KEY_PATH: keyPath,
      WEBHOOK_SECRET: 'x',
      GHE_HOST: '127.0.0.1:9',
      GHE_PROTOCOL: 'http',
    };
    const server = await startServer(['--data-dir', join(dir, 'two'), '--role', 'api,app'], env);
    try {
      expect(server.output()).toContain('app role: GitHub webhooks mounted');
      // The App executes the runs it dispatches: a worker's slots, not the CPU count.
      expect(server.output()).toContain(
        `"concurrency":${Math.max(availableParallelism(), DEFAULT_WORKER_RUNS)}`,
      );
      const unsigned = await fetch(`${server.url}/api/github/webhooks`, {
        method: 'POST',
        body: '{}',
        headers: { 'x-github-event': 'push', 'x-github-delivery': 'd1' },
      });
      expect(unsigned.status).toBe(401);
      expect((await fetch(`${server.url}/v1/runs`)).status).toBe(401);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await stop(server.child)).toBe(0);
    }
  });

  it('serves /metrics on a worker-only replica: without a token only with --metrics-public', async () => {
    const data = join(dir, 'metrics');
    const closed = await startServer(['--data-dir', data, '--role', 'worker']);
    try {
      expect((await fetch(`${closed.url}/metrics`)).status).toBe(401);
    } finally {
      expect(await stop(closed.child)).toBe(0);
    }
    const open = await startServer(['--data-dir', data, '--role', 'worker', '--metrics-public']);
    try {
      const metrics = await fetch(`${open.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE maestro_http_request_duration_seconds histogram');
      // The flag opens the metrics, nothing else; and a worker-only replica serves no API.
      expect((await fetch(`${open.url}/v1/runs`)).status).toBe(404);
    } finally {
      expect(await stop(open.child)).toBe(0);
    }
  });
  // In-process (runCli), so the commands count towards cli/'s coverage.
  it('refuses an unknown role, a bad scope and a bad lifetime, naming them; lists and revokes tokens', async () => {
    const data = join(dir, 'three');
    const run = async (args: string[], env: Record<string, string> = {}) => {
      const io = captureIo(dir, { HOME: dir, ...env });
      const code = await runCli(args, io);
      return { code, out: io.out(), err: io.err() };
    };
    const role = await run(['server', '--role', 'api,console', '--data-dir', data]);
    expect(role).toMatchObject({ code: 2 });
    expect(role.err).toContain('--role console is not one of api, worker, app');
    const port = await run(['server', '--port', '99999', '--data-dir', data]);
    expect(port.err).toContain('--port 99999 is not a port');
    const scope = await run(['tokens', 'create', '--name', 'x', '--scope', 'root', '--data-dir', data]);
    expect(scope.code).toBe(2);
    expect(scope.err).toContain('unknown scope root');
    const life = await run([
      'tokens',
      'create',
      '--name',
      'x',
      '--scope',
      'runs:read',
      '--expires',
      'soon',
      '--data-dir',
      data,
    ]);
    expect(life.err).toContain('--expires expects a duration');
    // token:<name> is what a token without a person acts as: no one may claim it as a login.
    const spoof = await run([
      'tokens',
      'create',
      '--name',
      'x',
      '--scope',
      'approvals:write',
      '--user',
      'token:ci',
      '--data-dir',
      data,
    ]);
    expect(spoof.code).toBe(2);
    expect(spoof.err).toContain('token: is reserved');
    // A broken teams file stops the server at start, naming the file.
    writeFileSync(join(dir, 'teams.yaml'), 'teams:\n  ops: alice\n');
    const teams = await run(['server', '--port', '0', '--data-dir', data], {
      MAESTRO_TEAMS_FILE: join(dir, 'teams.yaml'),
    });
    expect(teams.code).toBe(2);
    expect(teams.err).toContain('teams.yaml lists members of ops');
    // So does a broken runbooks allow-list.
    writeFileSync(join(dir, 'runbooks.yaml'), 'namespaces:\n  ops: rollback\n');
    const runbooks = await run(['server', '--port', '0', '--data-dir', data], {
      MAESTRO_RUNBOOKS_FILE: join(dir, 'runbooks.yaml'),
    });
    expect(runbooks.code).toBe(2);
    expect(runbooks.err).toContain('runbooks.yaml lists runbooks of ops that are not a list');
    const made = await run([
      'tokens',
      'create',
      '--name',
      'ns',
      '--scope',
      'runs:read',
      '--namespace',
      'data,ml',
      '--data-dir',
      data,
    ]);
    expect(made.code).toBe(0);
    const text = await run(['tokens', 'list', '--data-dir', data]);
    expect(text.out).toMatch(/^tok-\S+ {2}active {2}ns {2}runs:read {2}data,ml {2}expires /m);
    expect(text.out).not.toContain(made.out.trim());
    const id = text.out.split(' ')[0]!;
    expect((await run(['tokens', 'revoke', id, '--data-dir', data])).code).toBe(0);
    expect((await run(['tokens', 'list', '--data-dir', data])).out).toContain('revoked');
    const again = await run(['tokens', 'revoke', id, '--data-dir', data]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`no active token ${id}`);
  });
});
