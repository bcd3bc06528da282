// What the bench/webhooks scenarios share: ports, child processes, the stand-in in its own
// process, `maestro app` started as a user starts it, and GitHub's push payload for a commit.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { webhookExample, type Payload } from '../../test/github-standin/index.ts';

export const SECRET = 'bench-secret';
export const node = join(process.cwd(), 'node_modules/.bin/node');
/** Wall-clock milliseconds with sub-millisecond resolution (comparable across processes). */
export const now = (): number => performance.timeOrigin + performance.now();

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function firstLine(child: ChildProcess, contains: string): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if (line.includes(contains)) return line;
  throw new Error(`process exited before printing ${contains}`);
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export function cpuSeconds(pid: number, options: { children?: boolean } = {}): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime + stime; with `children`, also cutime + cstime: the children it has waited for (git).
  const own = Number(fields[11]) + Number(fields[12]);
  return (options.children ? own + Number(fields[13]) + Number(fields[14]) : own) / 100;
}

/** The App's RSA key pair, written as `app.pem` (PKCS#1) and `app.pub.pem` under `work`. */
export function appKeys(work: string): { privatePem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  writeFileSync(join(work, 'app.pem'), privatePem);
  writeFileSync(join(work, 'app.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePem };
}

/**
 * The GitHub stand-in (test/github-standin) in its own process, serving `owner/name` from
 * `bareDir` (API and git smart HTTP), with the trees of the SHAs in `shasFile` read ahead.
 */
export async function spawnStandIn(options: {
  work: string;
  bareDir: string;
  owner: string;
  name: string;
  shasFile: string;
}): Promise<{ child: ChildProcess; url: string; control: string }> {
  const prof = process.env.BENCH_PROF;
  const child = spawn(
    node,
    [
      ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof + '/standin'] : []),
      'bench/webhooks/standin-server.ts',
      '1',
      join(options.work, 'app.pub.pem'),
      options.bareDir,
      options.owner,
      options.name,
      options.shasFile,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const { url, control } = JSON.parse(await firstLine(child, '"url"')) as { url: string; control: string };
  return { child, url, control };
}

/**
 * `maestro app` as a user runs it (the CLI, stores in `--data-dir`, `GHE_HOST` at the stand-in),
 * ready (`/readyz`) when this resolves. Its pino log is drained; `log()` is the last 20 kB.
 */
export async function spawnMaestroApp(options: {
  work: string;
  standinUrl: string;
  port: number;
  env?: Record<string, string>;
}): Promise<{ child: ChildProcess; log: () => string }> {
  const prof = process.env.BENCH_PROF;
  const child = spawn(
    node,
    [
      ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
      'bin/maestro.ts',
      'app',
      '--data-dir',
      join(options.work, 'data'),
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: options.work,
        APP_ID: '1',
        PRIVATE_KEY_PATH: join(options.work, 'app.pem'),
        WEBHOOK_SECRET: SECRET,
        PORT: String(options.port),
        HOST: '127.0.0.1',
        GHE_HOST: new URL(options.standinUrl).host,
        GHE_PROTOCOL: 'http',
        LOG_LEVEL: 'warn',
        MAESTRO_RUN_UPDATE_INTERVAL_MS: '1000',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let log = '';
  // BENCH_APP_LOG=<file> keeps the app's whole log (with MAESTRO_OTEL_EXPORTER=console, its spans).
  const keep = process.env.BENCH_APP_LOG ? createWriteStream(process.env.BENCH_APP_LOG) : undefined;
  child.stdout!.on('data', (c: Buffer) => {
    keep?.write(c);
    log = (log + c.toString()).slice(-20_000);
  });
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 300; i += 1) {
    const ok = await fetch(`http://127.0.0.1:${options.port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`maestro app exited (${child.exitCode}):\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, log: () => log };
}

/** GitHub's example `push` payload (@octokit/webhooks-examples) made about one pushed commit. */
export function pushPayload(options: {
  owner: string;
  name: string;
  ref: string;
  before: string;
  after: string;
  modified: string[];
  cloneUrl?: string;
}): Payload {
  const p = webhookExample('push');
  p.ref = options.ref;
  p.after = options.after;
  p.before = options.before;
  p.created = false;
  p.deleted = false;
  p.repository = {
    ...p.repository,
    name: options.name,
    full_name: `${options.owner}/${options.name}`,
    default_branch: 'main',
    owner: { ...p.repository.owner, login: options.owner },
    ...(options.cloneUrl ? { clone_url: options.cloneUrl } : {}),
    pushed_at: Math.floor(Date.now() / 1000), // ingress refuses pushes older than its retention
  };
  p.installation = { id: 1, node_id: 'x' };
  p.commits = [{ ...p.commits[0], id: options.after, added: [], removed: [], modified: options.modified }];
  p.head_commit = p.commits[0];
  return p;
}
