/**
 * Real `maestro server` processes on one real PostgreSQL, for the replica drills
 * (test/replicas-*.test.ts): one `--role api` server the test submits runs through, and any number
 * of `--role worker` replicas, each with its own data dir (work dirs, keys, decision log) and the
 * same MAESTRO_DATABASE_URL. Replicas can be killed, stopped, continued and started again.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { waitFor } from './wait-for.ts';

const node = join(process.cwd(), 'node_modules/.bin/node');

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it printed (pino lines). */
  output(): string;
  exited: Promise<void>;
}

export interface Cluster {
  readonly databaseUrl: string;
  /** The `--role api` server's base URL. */
  readonly url: string;
  /** Its data dir (where `maestro tokens create --data-dir` makes a token it accepts). */
  readonly apiDir: string;
  /** Posts the manifest to the API server; returns its digest. */
  postWorkflow(manifest: string): Promise<string>;
  /** Starts a run of the workflow through the API; returns its id. */
  startRun(digest: string): Promise<string>;
  /** Starts (or starts again) the worker replica `name` on its own data dir, `env` added to the cluster's. */
  startWorker(name: string, env?: Record<string, string>): Promise<Replica>;
  query<T>(sql: string, values?: unknown[]): Promise<T[]>;
  /** Statuses of the given runs, by id. */
  statuses(ids: readonly string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  dir: string;
  databaseUrl: string;
  /** Extra environment for every server (MAESTRO_LEASE_TTL, ...). */
  env?: Record<string, string>;
}

function spawnServer(name: string, role: string, dataDir: string, env: Record<string, string>): Replica {
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    node,
    ['bin/maestro.ts', 'server', '--role', role, '--port', '0', '--data-dir', dataDir],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, output: () => text, exited };
}

async function listening(replica: Replica): Promise<string> {
  return waitFor(
    `${replica.name} to listen`,
    () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(replica.output())?.[1],
    { timeoutMs: 90_000, explain: () => replica.output() },
  );
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { dir, databaseUrl } = options;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    LOG_LEVEL: 'info',
    MAESTRO_DATABASE_URL: databaseUrl,
    ...options.env,
  };
  const apiDir = join(dir, 'api');
  mkdirSync(apiDir, { recursive: true });
  const token = spawnSync(
    node,
    [
      'bin/maestro.ts',
      'tokens',
      'create',
      '--name',
      'drill',
      '--scope',
      'runs:write,runs:read,workflows:write',
      '--data-dir',
      apiDir,
    ],
    { env, encoding: 'utf8' },
  );
  if (token.status !== 0) throw new Error(`tokens create failed: ${token.stderr}`);
  const auth = { authorization: `Bearer ${token.stdout.trim()}` };
  const api = spawnServer('api', 'api', apiDir, env);
  const base = await listening(api);
  const replicas = new Map<string, Replica>();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => {});

  const post = async (path: string, body: string, type: string) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      body,
      headers: { ...auth, 'content-type': type },
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`POST ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };

  return {
    databaseUrl,
    url: base,
    apiDir,
    async postWorkflow(manifest) {
      return (await post('/v1/workflows', manifest, 'application/yaml')).digest!;
    },
    async startRun(digest) {
      return (await post('/v1/runs', JSON.stringify({ workflow: digest }), 'application/json')).id!;
    },
    async startWorker(name, extra = {}) {
      const replica = spawnServer(name, 'worker', join(dir, name), { ...env, ...extra });
      replicas.set(name, replica);
      await listening(replica);
      return replica;
    },
    async query<T>(sql: string, values: unknown[] = []) {
      return (await pool.query(sql, values)).rows as T[];
    },
    async statuses(ids) {
      const rows = (await pool.query('SELECT id, status FROM runs WHERE id = ANY ($1::text[])', [ids]))
        .rows as {
        id: string;
        status: string;
      }[];
      return new Map(rows.map((r) => [r.id, r.status]));
    },
    async close() {
      for (const r of [api, ...replicas.values()]) {
        if (r.child.exitCode === null && r.child.signalCode === null) {
          r.child.kill('SIGCONT');
          r.child.kill('SIGKILL');
        }
        await r.exited;
      }
      await pool.end();
    },
  };
}

/** The `engine:<owner>` a transition's `by` names, as the pid of the process that wrote it. */
export function pidOf(by: string): number | undefined {
  const pid = /^engine:[^|]+\|(\d+)\|/.exec(by)?.[1];
  return pid === undefined ? undefined : Number(pid);
}
