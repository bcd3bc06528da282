// bench/webhooks: signed push deliveries at a steady open-loop rate into `maestro app` (the real
// CLI, embedded SQLite store) against the GitHub stand-in, measuring webhook → first check-run
// write; then GitHub API writes per dispatched run; then the same load into a plain probot peer.
//   node bench/webhooks/run.ts [--rate 100] [--seconds 10]
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { signedDelivery, TestRepository, webhookExample } from '../../test/github-standin/index.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const RATE = Number(args.get('rate') ?? 100);
const SECONDS = Number(args.get('seconds') ?? 10);
const WARMUP = Math.ceil(RATE); // the first second is not measured
const COUNT = RATE * SECONDS + WARMUP;
const SECRET = 'bench-secret';
const OWNER = 'bench';
const NAME = 'repo';
const node = join(process.cwd(), 'node_modules/.bin/node');
const now = () => performance.timeOrigin + performance.now();

const WORKFLOW = (tasks: number) => `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: chain
  namespace: bench
spec:
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
${Array.from({ length: tasks }, (_, i) => `    - id: t${i}\n      run: 'true'\n${i > 0 ? `      needs: [t${i - 1}]\n` : ''}`).join('')}`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function firstLine(child: ChildProcess, contains: string): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if (line.includes(contains)) return line;
  throw new Error(`process exited before printing ${contains}`);
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Records {
  violations: string[];
  writes: number;
  requests: number;
  checkRuns: {
    name: string;
    head_sha: string;
    createdAt: number;
    writes: number;
    conclusion: string | null;
    external_id: string;
  }[];
}

const work = mkdtempSync(join(tmpdir(), 'maestro-bench-webhooks-'));
const children: ChildProcess[] = [];
try {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  writeFileSync(join(work, 'app.pem'), privatePem);
  writeFileSync(join(work, 'app.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  const repo = new TestRepository('main');
  const base = repo.commit({
    branch: 'main',
    login: 'dev',
    files: { '.maestro/workflows/chain.yaml': WORKFLOW(20), 'README.md': 'x' },
  });
  const shas = repo.fastCommits({
    branch: 'bench',
    from: base,
    count: COUNT * 2,
    path: 'README.md',
    login: 'dev',
  });
  writeFileSync(join(work, 'shas.txt'), shas.join('\n'));

  const standin = spawn(
    node,
    [
      ...(process.env.BENCH_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF + '/standin']
        : []),
      'bench/webhooks/standin-server.ts',
      '1',
      join(work, 'app.pub.pem'),
      repo.bareDir,
      OWNER,
      NAME,
      join(work, 'shas.txt'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(standin);
  const { url, control } = JSON.parse(await firstLine(standin, '"url"')) as { url: string; control: string };
  const records = async (reset = false): Promise<Records> =>
    (await fetch(`${control}/${reset ? 'reset' : 'records'}`)).json() as Promise<Records>;

  const pushPayload = (ref: string, after: string) => {
    const p = webhookExample('push');
    p.ref = ref;
    p.after = after;
    p.before = '0'.repeat(40);
    p.created = false;
    p.deleted = false;
    p.repository = {
      ...p.repository,
      name: NAME,
      full_name: `${OWNER}/${NAME}`,
      default_branch: 'main',
      owner: { ...p.repository.owner, login: OWNER },
      pushed_at: Math.floor(Date.now() / 1000), // ingress refuses pushes older than its retention
    };
    p.installation = { id: 1, node_id: 'x' };
    p.commits = [{ ...p.commits[0], id: after, added: [], removed: [], modified: ['README.md'] }];
    return p;
  };

  async function load(
    label: string,
    port: number,
    offset: number,
    pid: number,
  ): Promise<{
    p50: number;
    p95: number;
    p99: number;
    max: number;
    accepted: number;
    lost: number;
    rejected: number;
    cpuMs: number;
  }> {
    await records(true);
    const cpuBefore = cpuSeconds(pid);
    const sentAt = new Map<string, number>();
    const statuses: Promise<number>[] = [];
    const interval = 1000 / RATE;
    const start = now() + 50;
    for (let i = 0; i < COUNT; i += 1) {
      const due = start + i * interval;
      const wait = due - now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const sha = shas[offset + i]!;
      const delivery = signedDelivery(
        SECRET,
        'push',
        pushPayload(`refs/heads/b${i % 50}`, sha),
        randomUUID(),
      );
      if (i >= WARMUP) sentAt.set(sha, now());
      statuses.push(
        fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
          method: 'POST',
          body: delivery.body,
          headers: delivery.headers,
        })
          .then(async (r) => (await r.text(), r.status))
          .catch(() => 0),
      );
    }
    const codes = await Promise.all(statuses);
    let seen: Records;
    const deadline = now() + 60_000;
    for (;;) {
      seen = await records();
      const done = new Set(seen.checkRuns.map((r) => r.head_sha));
      if ([...sentAt.keys()].every((sha) => done.has(sha)) || now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (seen.violations.length > 0)
      throw new Error(`${label}: stand-in violations: ${seen.violations.slice(0, 3).join('; ')}`);
    const cpuMs = ((cpuSeconds(pid) - cpuBefore) * 1000) / COUNT;
    const first = new Map<string, number>();
    for (const run of seen.checkRuns)
      if (!first.has(run.head_sha) || first.get(run.head_sha)! > run.createdAt)
        first.set(run.head_sha, run.createdAt);
    const latencies = [...sentAt]
      .filter(([sha]) => first.has(sha))
      .map(([sha, t]) => first.get(sha)! - t)
      .sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1)!,
      accepted: codes.filter((c) => c >= 200 && c < 300).length,
      lost: sentAt.size - latencies.length,
      rejected: codes.filter((c) => c < 200 || c >= 300).length,
      cpuMs,
    };
  }

  // 1. The Maestro app, started as users start it.
  const appPort = await freePort();
  const host = new URL(url).host;
  const app = spawn(
    node,
    [
      ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []),
      'bin/maestro.ts',
      'app',
      '--data-dir',
      join(work, 'data'),
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: work,
        APP_ID: '1',
        PRIVATE_KEY_PATH: join(work, 'app.pem'),
        WEBHOOK_SECRET: SECRET,
        PORT: String(appPort),
        HOST: '127.0.0.1',
        GHE_HOST: host,
        GHE_PROTOCOL: 'http',
        LOG_LEVEL: 'warn',
        MAESTRO_RUN_UPDATE_INTERVAL_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(app);
  // The app logs (pino) to stdout: keep it drained, and keep the last lines for a failure report.
  let appLog = '';
  app.stdout!.on('data', (c: Buffer) => (appLog = (appLog + c.toString()).slice(-20_000)));
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 100; i += 1) {
    const ok = await fetch(`http://127.0.0.1:${appPort}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const maestro = await load('maestro', appPort, 0, app.pid!);

  // 2. Writes per run: pushes to main dispatch a 20-task workflow; count run check-run writes.
  await records(true);
  const RUNS = 5;
  for (let i = 0; i < RUNS; i += 1) {
    const sha = shas[COUNT + i]!;
    const d = signedDelivery(SECRET, 'push', pushPayload('refs/heads/main', sha));
    await fetch(`http://127.0.0.1:${appPort}/api/github/webhooks`, {
      method: 'POST',
      body: d.body,
      headers: d.headers,
    });
  }
  let runRecords: Records;
  const until = now() + 120_000;
  for (;;) {
    runRecords = await records();
    const runs = runRecords.checkRuns.filter((r) => r.external_id.startsWith('run:'));
    if ((runs.length === RUNS && runs.every((r) => r.conclusion)) || now() > until) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const runChecks = runRecords.checkRuns.filter((r) => r.external_id.startsWith('run:'));
  if (runChecks.length < RUNS)
    console.error(`only ${runChecks.length} of ${RUNS} runs reported; app log tail:\n${appLog.slice(-3000)}`);
  const runWrites = runChecks.reduce((s, r) => s + r.writes, 0) / Math.max(1, runChecks.length);
  const deliveryWrites = runRecords.writes / RUNS;
  app.kill('SIGTERM');

  // 3. The peer: a plain probot app, one write per delivery, same stand-in, same load.
  const peerPort = await freePort();
  const peer = spawn(node, ['bench/webhooks/peer-app.ts'], {
    env: {
      PATH: process.env.PATH,
      APP_ID: '1',
      PRIVATE_KEY: privatePem,
      WEBHOOK_SECRET: SECRET,
      PORT: String(peerPort),
      BASE_URL: url,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(peer);
  await firstLine(peer, 'listening');
  const plain = await load('peer', peerPort, COUNT * 2 - COUNT, peer.pid!);

  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `open-loop ${RATE} deliveries/s for ${SECONDS} s (+1 s warm-up), signed push events, ${COUNT - WARMUP} measured`,
  );
  console.log(
    `maestro app : webhook → first check-run write p50 ${ms(maestro.p50)}  p95 ${ms(maestro.p95)}  p99 ${ms(maestro.p99)}  max ${ms(maestro.max)}  (accepted ${maestro.accepted}, rejected ${maestro.rejected}, no write ${maestro.lost})`,
  );
  console.log(
    `plain probot: webhook → first check-run write p50 ${ms(plain.p50)}  p95 ${ms(plain.p95)}  p99 ${ms(plain.p99)}  max ${ms(plain.max)}  (accepted ${plain.accepted}, rejected ${plain.rejected}, no write ${plain.lost})`,
  );
  console.log(
    `CPU per delivery (server process, from /proc): maestro ${maestro.cpuMs.toFixed(2)} ms, plain probot ${plain.cpuMs.toFixed(2)} ms (${(maestro.cpuMs / plain.cpuMs).toFixed(2)}×)`,
  );
  console.log(
    `ratio maestro/peer: p50 ${(maestro.p50 / plain.p50).toFixed(2)}×  p95 ${(maestro.p95 / plain.p95).toFixed(2)}×`,
  );
  console.log(
    `GitHub API writes per dispatched 20-task run: ${runWrites.toFixed(1)} on the run's check run; ${deliveryWrites.toFixed(1)} in total per push to main (validate + run)`,
  );
  console.log(`target p95 ≤ 1000 ms at 100/s: ${maestro.p95 <= 1000 && RATE >= 100 ? 'met' : 'NOT met'}`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
