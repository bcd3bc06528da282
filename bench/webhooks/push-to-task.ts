// bench/webhooks push-to-task: push → first task running, through the App. Each of N distinct
// commits is made the head of `main` of a real bare repository the GitHub stand-in serves (API
// and git smart HTTP), then delivered as a signed `push` webhook, open loop at a fixed rate, to
// `maestro app` (the real CLI, SQLite stores, the local runner in its bubblewrap sandbox). The App
// stores the delivery, compiles the manifest at that SHA, dispatches the run, fetches the source
// at exactly that SHA with the installation token, and the runner starts the workflow's first
// task, which reports to a witness HTTP server on 127.0.0.1 (outside the engine): the commit it
// was started for (MAESTRO_SOURCE_SHA) and the content of a file of its checkout, so a report
// also proves the source was fetched at that SHA.
//   node bench/webhooks/push-to-task.ts [--rate 10] [--seconds 30] [--warmup 2]
import { execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signedDelivery, TestRepository } from '../../test/github-standin/index.ts';
import { summarize } from '../scheduler/stats.ts';
import {
  appKeys,
  cpuSeconds,
  freePort,
  now,
  pushPayload,
  SECRET,
  spawnMaestroApp,
  spawnStandIn,
} from './common.ts';

const run = promisify(execFile);
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const RATE = Number(args.get('rate') ?? 10);
const SECONDS = Number(args.get('seconds') ?? 30);
const WARMUP = Math.ceil(RATE * Number(args.get('warmup') ?? 2)); // not measured
const COUNT = Math.round(RATE * SECONDS) + WARMUP;
const TARGET_MS = 1000;
const OWNER = 'bench';
const NAME = 'repo';

// The first task tells the witness it is running: the commit it runs and the file it was given.
const WORKFLOW = (witnessPort: number) => `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: push
  namespace: bench
spec:
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
    retry: { limit: 0 }
  tasks:
    - id: first
      run: curl -sf -o /dev/null --data-binary @STAMP "http://127.0.0.1:${witnessPort}/$MAESTRO_SOURCE_SHA"
`;

interface Report {
  at: number;
  stamp: string;
}

/** The witness: records when each commit's first task reported, and what its checkout held. */
async function startWitness(): Promise<{ port: number; reports: Map<string, Report>; close: () => void }> {
  const reports = new Map<string, Report>();
  const server = createServer((req, res) => {
    const at = now();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const sha = (req.url ?? '/').slice(1);
      if (!reports.has(sha)) reports.set(sha, { at, stamp: body.trim() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, reports, close: () => server.close() };
}

const work = mkdtempSync(join(tmpdir(), 'maestro-bench-push-'));
const children: ChildProcess[] = [];
const witness = await startWitness();
const repo = new TestRepository('main');
try {
  appKeys(work);
  const base = repo.commit({
    branch: 'main',
    login: 'dev',
    files: { '.maestro/workflows/push.yaml': WORKFLOW(witness.port), STAMP: 'base\n' },
  });
  // Commit i writes `line i` to STAMP (TestRepository.fastCommits); they are published one by one.
  const shas = repo.fastCommits({ branch: 'pending', from: base, count: COUNT, path: 'STAMP', login: 'dev' });
  const stampOf = new Map(shas.map((sha, i) => [sha, `line ${i}`]));
  writeFileSync(join(work, 'shas.txt'), [base, ...shas].join('\n'));
  const standin = await spawnStandIn({
    work,
    bareDir: repo.bareDir,
    owner: OWNER,
    name: NAME,
    shasFile: join(work, 'shas.txt'),
  });
  children.push(standin.child);
  const cloneUrl = `${standin.url}/${OWNER}/${NAME}.git`;
  const appPort = await freePort();
  const app = await spawnMaestroApp({
    work,
    standinUrl: standin.url,
    port: appPort,
    ...(process.env.BENCH_APP_ENV
      ? { env: JSON.parse(process.env.BENCH_APP_ENV) as Record<string, string> }
      : {}),
  });
  children.push(app.child);

  const cpuBefore = cpuSeconds(app.child.pid!);
  const cpuAllBefore = cpuSeconds(app.child.pid!, { children: true });
  const sentAt = new Map<string, number>();
  const statuses: Promise<number>[] = [];
  const interval = 1000 / RATE;
  const start = now() + 50;
  let late = 0;
  for (let i = 0; i < COUNT; i += 1) {
    const due = start + i * interval;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -interval) late += 1;
    const sha = shas[i]!;
    const before = i === 0 ? base : shas[i - 1]!;
    // As on GitHub, the branch moves first, then the webhook is sent.
    await run('git', ['update-ref', 'refs/heads/main', sha, before], { cwd: repo.bareDir });
    const payload = pushPayload({
      owner: OWNER,
      name: NAME,
      ref: 'refs/heads/main',
      before,
      after: sha,
      modified: ['STAMP'],
      cloneUrl,
    });
    const delivery = signedDelivery(SECRET, 'push', payload, randomUUID());
    if (i >= WARMUP) sentAt.set(sha, now());
    statuses.push(
      fetch(`http://127.0.0.1:${appPort}/api/github/webhooks`, {
        method: 'POST',
        body: delivery.body,
        headers: delivery.headers,
      })
        .then(async (r) => (await r.text(), r.status))
        .catch(() => 0),
    );
  }
  const lastSent = now();
  const codes = await Promise.all(statuses);
  const deadline = now() + 120_000;
  while (now() < deadline && [...sentAt.keys()].some((sha) => !witness.reports.has(sha)))
    await new Promise((r) => setTimeout(r, 100));
  const cpuMs = ((cpuSeconds(app.child.pid!) - cpuBefore) * 1000) / COUNT;
  const cpuAllMs = ((cpuSeconds(app.child.pid!, { children: true }) - cpuAllBefore) * 1000) / COUNT;
  const records = (await (await fetch(`${standin.control}/records`)).json()) as { violations: string[] };

  const measured = [...sentAt];
  const latencies = measured
    .filter(([sha]) => witness.reports.has(sha))
    .map(([sha, t]) => witness.reports.get(sha)!.at - t);
  const wrongSource = measured.filter(
    ([sha]) => witness.reports.has(sha) && witness.reports.get(sha)!.stamp !== stampOf.get(sha),
  ).length;
  const firstMeasured = measured[0]?.[1] ?? 0;
  const ends = measured.map(([sha]) => witness.reports.get(sha)?.at ?? 0).filter((t) => t > 0);
  const s = summarize(latencies);
  const rejected = codes.filter((c) => c < 200 || c >= 300).length;
  const missing = measured.length - latencies.length;
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  console.log(
    `push → first task running: open-loop ${RATE} pushes/s to main for ${SECONDS} s (+${WARMUP} warm-up pushes), ${measured.length} measured, ${late} sent late`,
  );
  console.log(
    `sent ${(measured.length / ((lastSent - firstMeasured) / 1000)).toFixed(1)}/s, first tasks ${(ends.length / ((Math.max(...ends) - firstMeasured) / 1000)).toFixed(1)}/s; maestro app CPU ${cpuMs.toFixed(1)} ms per push (${cpuAllMs.toFixed(1)} ms with the child processes it reaped: git)`,
  );
  console.log(
    `delivery sent → first task running p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`,
  );
  console.log(
    `errors: ${rejected} deliveries refused, ${missing} first tasks never reported, ${wrongSource} reported another commit's source, ${records.violations.length} stand-in violations`,
  );
  if (missing > 0 || rejected > 0) console.error(`app log tail:\n${app.log().slice(-3000)}`);
  if (records.violations.length > 0) console.error(records.violations.slice(0, 3).join('\n'));
  const ok = s.p95 <= TARGET_MS && missing === 0 && rejected === 0 && wrongSource === 0;
  console.log(
    `target p95 ≤ 1 s at 10 pushes/s: ${ok && RATE >= 10 ? 'met' : 'MISSED'} (p95 ${ms(s.p95)} at ${RATE}/s)`,
  );
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  witness.close();
  repo.remove();
  rmSync(work, { recursive: true, force: true });
}
