/**
 * The http task through `maestro run` (local runner, sandboxed, the real policy) against a local
 * server started here: what the engine tells the task about its attempt (MAESTRO_DEADLINE,
 * MAESTRO_RUN_ID, MAESTRO_TASK_ID) reaches it, and what the task does with it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { useLoopbackServer } from './helpers/loopback-http.ts';

const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];
const charged = new Set<string>();
const server = createServer((req, res) => {
  seen.push({ url: req.url, headers: req.headers });
  req.resume();
  // The charge is made, then the connection drops before any answer: the first try of each key
  // fails after the server acted on it, as a timeout after the work would.
  if (req.url === '/charge') {
    const key = String(req.headers['idempotency-key']);
    if (!charged.has(key)) return void (charged.add(key), req.socket.destroy());
    return void res.writeHead(200).end('charged once');
  }
  // Busy for an hour: only a task that knows its deadline can tell it cannot wait that long.
  if (req.url === '/busy') return void res.writeHead(503, { 'retry-after': '3600' }).end('busy');
  res.writeHead(200).end('ok');
});
let base = '';
useLoopbackServer(server, (url) => (base = url));
beforeEach(() => void (seen.length = 0));

function workspaceWith(workflow: string): string {
  const dir = tempDir('maestro-http-e2e-');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.maestro', 'workflows', 'flow.yaml'), workflow);
  return dir;
}

async function maestroRun(dir: string, dataDir: string) {
  const env = { PATH: process.env.PATH, HOME: dir };
  const run = await runCaptured(['run', '.maestro/workflows/flow.yaml', '--data-dir', dataDir], dir, env);
  const show = await runCaptured(['runs', 'list', '--data-dir', dataDir, '--format', 'json'], dir, env);
  const [last] = JSON.parse(show.stdout) as { id: string }[];
  const detail = await runCaptured(
    ['runs', 'show', last!.id, '--data-dir', dataDir, '--format', 'json'],
    dir,
    env,
  );
  return { ...run, id: last!.id, shown: JSON.parse(detail.stdout) as ShownRun };
}
interface ShownRun {
  status: string;
  tasks: {
    id: string;
    state: string;
    reason: string;
    attempts: { outcome: string; reason?: string; message?: string }[];
  }[];
}

describe('the http task in a run', () => {
  it('knows its deadline: a Retry-After past the task’s timeout fails at once, not at the timeout', async () => {
    const dir = workspaceWith(`apiVersion: maestro/v1
kind: Workflow
metadata: { name: flow, namespace: demo }
spec:
  defaults: { runner: local }
  tasks:
    - id: call
      uses: tasks/http@1
      timeout: 20s
      with:
        url: "${base}/busy"
        retry: { maxDelayMs: 86400000, maxWaitMs: 86400000 }
`);
    const run = await maestroRun(dir, join(dir, 'data'));
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    const call = run.shown.tasks.find((t) => t.id === 'call')!;
    expect(call.state).toBe('failed');
    expect(run.stdout + run.stderr).toContain('retry_after_too_long');
    expect(seen).toHaveLength(1);
  }, 120_000);

  it('sends one Idempotency-Key on both attempts of a task in a run, and another in the next run', async () => {
    const dir = workspaceWith(`apiVersion: maestro/v1
kind: Workflow
metadata: { name: flow, namespace: demo }
spec:
  defaults: { runner: local }
  tasks:
    - id: charge
      uses: tasks/http@1
      retry: { limit: 1, backoff: { initial: 1s } }
      with: { url: "${base}/charge", method: POST, body: '{"cents":1250}' }
`);
    const dataDir = join(dir, 'data');
    const first = await maestroRun(dir, dataDir);
    const second = await maestroRun(dir, dataDir);
    for (const run of [first, second]) {
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const charge = run.shown.tasks.find((t) => t.id === 'charge')!;
      // The engine's retry, not the task's: attempt 1 failed (the answer never came), 2 succeeded.
      expect(charge.attempts.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    }
    const keys = seen.map((s) => s.headers['idempotency-key']);
    expect(seen.map((s) => s.url)).toEqual(Array(4).fill('/charge'));
    expect(keys[0]).toMatch(/^"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[3]).toBe(keys[2]);
    expect(charged.size).toBe(2); // one charge per run, each re-sent once under its key
  }, 120_000);
});
