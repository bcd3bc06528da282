/**
 * Maestro as users run it: `maestro tokens create`, then `maestro server` (every role) as its own
 * process on a fresh data directory, on SQLite or on PostgreSQL (MAESTRO_DATABASE_URL). Runs are
 * started with `POST /v1/runs`; their stored times are read back through
 * `GET /v1/runs/{id}/transitions` (the same on both stores: no SQL in the bench).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, waitForLine } from './processes.ts';
import type { Started, Target } from './target.ts';

const root = join(import.meta.dirname, '..', '..');
const node = process.execPath;

/** A single task that does nothing, on the default (sandboxed) local runner. */
export const NOOP_WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: noop, namespace: bench }
spec:
  defaults: { runner: local }
  tasks:
    - id: noop
      run: 'true'
`;

export interface MaestroOptions {
  label: string;
  work: string;
  /** postgres://… or undefined for SQLite in the data dir. */
  databaseUrl?: string;
  /** `local: { sandbox }` of the runners config; bwrap is the default users get. */
  sandbox: 'bwrap' | 'none';
  /** Extra node flags for the server (BENCH_PROF: --cpu-prof). */
  nodeFlags?: string[];
  /** CPU of other processes this contender uses (the PostgreSQL server). */
  extraCpuSeconds?: () => number;
  /** `--concurrency` / `--worker-runs` of the server; absent: the server's defaults. */
  concurrency?: number;
  workerRuns?: number;
}

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
  base: string;
}

interface Transition {
  task: string | null;
  to: string;
  time: string;
}

export async function startMaestro(options: MaestroOptions): Promise<Target & { pid(): number }> {
  const dataDir = join(options.work, `data-${options.label}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const runners = join(options.work, `runners-${options.label}.yaml`);
  writeFileSync(runners, `local:\n  sandbox: ${options.sandbox}\n`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: options.work,
    LANG: 'C.UTF-8',
    MAESTRO_RUNNERS_CONFIG: runners,
    ...(options.databaseUrl ? { MAESTRO_DATABASE_URL: options.databaseUrl } : {}),
  };
  // The worker's slots as a user sets them on the command line (docs/server.md); unset: its defaults.
  const slots = [
    ...(options.concurrency ? ['--concurrency', String(options.concurrency)] : []),
    ...(options.workerRuns ? ['--worker-runs', String(options.workerRuns)] : []),
  ];
  const created = spawnSync(
    node,
    [
      'bin/maestro.ts',
      'tokens',
      'create',
      '--name',
      'bench',
      '--scope',
      'runs:write,runs:read,workflows:write',
      '--data-dir',
      dataDir,
    ],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`maestro tokens create failed: ${created.stderr}`);
  const auth = { authorization: `Bearer ${created.stdout.trim()}` };

  const spawnServer = async (name: string, nodeFlags: string[], args: string[]): Promise<Server> => {
    const logFile = join(options.work, `server-${options.label}-${name}.log`);
    const log = openSync(logFile, 'w');
    const child: ChildProcess = spawn(
      node,
      [...nodeFlags, 'bin/maestro.ts', 'server', ...args, '--port', '0', '--data-dir', dataDir],
      { cwd: root, env, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const base = await Promise.race([
      waitForLine(logFile, /"url":"(http:\/\/127\.0\.0\.1:\d+)".*maestro server listening/, 60_000),
      exited.then(() => Promise.reject(new Error(`maestro server exited; see ${logFile}`))),
    ]);
    return { child, exited, base };
  };
  const server = await spawnServer('measured', options.nodeFlags ?? [], slots);
  const base = server.base;
  let reader: Server | undefined;

  const posted = await fetch(`${base}/v1/workflows`, {
    method: 'POST',
    body: NOOP_WORKFLOW,
    headers: { ...auth, 'content-type': 'application/yaml' },
  });
  if (posted.status !== 201 && posted.status !== 200)
    throw new Error(`POST /v1/workflows: ${posted.status} ${await posted.text()}`);
  const { digest } = (await posted.json()) as { digest: string };
  const body = JSON.stringify({ workflow: digest });

  return {
    label: options.label,
    async submit() {
      const response = await fetch(`${base}/v1/runs`, {
        method: 'POST',
        body,
        headers: { ...auth, 'content-type': 'application/json' },
      });
      const text = await response.text();
      if (response.status !== 202) throw new Error(`POST /v1/runs: ${response.status} ${text.slice(0, 200)}`);
      return (JSON.parse(text) as { id: string }).id;
    },
    settle: (_ids, timeoutMs) => waitUntilSettled(base, auth, timeoutMs),
    async collect(ids) {
      // The measured server is killed, not stopped: a clean stop finishes every run it holds,
      // which after an overload is thousands. The store keeps what was committed. A server
      // with only the api role (no worker) then answers the reads, so they neither wait behind
      // the backlog nor add to it.
      // Profiled (BENCH_PROF): stopped cleanly instead, since node writes the profile on exit.
      server.child.kill(options.nodeFlags?.length ? 'SIGTERM' : 'SIGKILL');
      await server.exited;
      reader = await spawnServer('reader', [], ['--role', 'api']);
      const started = new Map<string, Started>();
      await pool(ids, 8, async (id) => {
        const response = await fetch(`${reader!.base}/v1/runs/${id}/transitions`, { headers: auth });
        if (!response.ok) return;
        const { items } = (await response.json()) as { items: Transition[] };
        const accepted = items.find((t) => t.task === null && t.to === 'queued');
        const leased = items.find((t) => t.task !== null && t.to === 'running');
        if (!accepted || !leased) return;
        const final = items.filter((t) => t.task === null).at(-1)!.to;
        started.set(id, {
          acceptedAt: Date.parse(accepted.time),
          startedAt: Date.parse(leased.time),
          ...(final === 'succeeded' ? {} : { error: `run ${final}` }),
        });
      });
      return started;
    },
    cpuSeconds: () => cpuSeconds(server.child.pid!) + (options.extraCpuSeconds?.() ?? 0),
    pid: () => server.child.pid!,
    async close() {
      server.child.kill('SIGKILL');
      await server.exited;
      reader?.child.kill('SIGTERM');
      await reader?.exited;
    },
  };
}

/** Waits until no run is queued or running (or the timeout), polling the API. */
async function waitUntilSettled(
  base: string,
  auth: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${base}/v1/runs?status=queued,running&limit=1`, { headers: auth });
    if (response.ok && ((await response.json()) as { items: unknown[] }).items.length === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
