// bench/webhooks: signed push deliveries at a steady open-loop rate into `maestro app` (the real
// CLI, embedded SQLite store) against the GitHub stand-in, measuring webhook → first check-run
// write; then GitHub API writes per dispatched run; then the same load into a plain probot peer;
// then the push-to-task scenario (push-to-task.ts: push → first task running at 10 pushes/s).
//   node bench/webhooks/run.ts [--rate 100] [--seconds 10] [--scenario check-run|push-to-task]

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedDelivery, TestRepository } from '../../test/github-standin/index.ts';
import {
  appKeys,
  cpuSeconds,
  firstLine,
  freePort,
  node,
  now,
  pushPayload as commitPush,
  SECRET,
  spawnMaestroApp,
  spawnStandIn,
} from './common.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const SCENARIO = args.get('scenario');
const RATE = Number(args.get('rate') ?? 100);
const SECONDS = Number(args.get('seconds') ?? 10);
const WARMUP = Math.ceil(RATE); // the first second is not measured
const COUNT = RATE * SECONDS + WARMUP;
const OWNER = 'bench';
const NAME = 'repo';

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

async function checkRunScenario(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'maestro-bench-webhooks-'));
  const children: ChildProcess[] = [];
  try {
    const { privatePem } = appKeys(work);
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

    const standin = await spawnStandIn({
      work,
      bareDir: repo.bareDir,
      owner: OWNER,
      name: NAME,
      shasFile: join(work, 'shas.txt'),
    });
    children.push(standin.child);
    const { url, control } = standin;
    const records = async (reset = false): Promise<Records> =>
      (await fetch(`${control}/${reset ? 'reset' : 'records'}`)).json() as Promise<Records>;

    const pushPayload = (ref: string, after: string) =>
      commitPush({ owner: OWNER, name: NAME, ref, before: '0'.repeat(40), after, modified: ['README.md'] });

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
    const started = await spawnMaestroApp({ work, standinUrl: url, port: appPort });
    const app = started.child;
    children.push(app);
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
      console.error(
        `only ${runChecks.length} of ${RUNS} runs reported; app log tail:\n${started.log().slice(-3000)}`,
      );
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
}

if (SCENARIO === undefined || SCENARIO === 'check-run') await checkRunScenario();
// push → first task running, in its own process (its own stand-in, app and data dir).
if (SCENARIO === undefined || SCENARIO === 'push-to-task') {
  const result = spawnSync(node, ['bench/webhooks/push-to-task.ts'], { stdio: 'inherit' });
  if (result.status !== 0) process.exitCode = 1;
}
