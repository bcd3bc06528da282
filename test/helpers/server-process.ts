/**
 * One real `maestro server` process on a data dir of its own (SQLite), for tests that look at
 * what the process sends out (OTLP to a receiver or a collector): a token with the given scopes
 * made first with `maestro tokens create`, the server started on a free port with exactly the
 * environment given, its output kept.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './wait-for.ts';

const node = join(process.cwd(), 'node_modules/.bin/node');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  auth: { authorization: string };
  /** Everything it printed (pino lines). */
  output(): string;
}

export async function startServerProcess(
  data: string,
  env: Record<string, string | undefined>,
  scopes = 'runs:write,runs:read,workflows:write',
): Promise<ServerProcess> {
  const created = spawnSync(
    node,
    ['bin/maestro.ts', 'tokens', 'create', '--name', 'ci', '--scope', scopes, '--data-dir', data],
    { env: { PATH: env.PATH, HOME: env.HOME, LANG: 'C.UTF-8' }, encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`maestro tokens create failed: ${created.stderr}`);
  const child = spawn(node, ['bin/maestro.ts', 'server', '--port', '0', '--data-dir', data], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = await waitFor(
    'the server to listen',
    () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1],
    {
      timeoutMs: 60_000,
      explain: () => output,
    },
  );
  return { child, url, auth: { authorization: `Bearer ${created.stdout.trim()}` }, output: () => output };
}

/** SIGTERM, and the exit code once it has exited. */
export async function stopServerProcess(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (c) => resolve(c)));
  server.child.kill('SIGTERM');
  return exited;
}
