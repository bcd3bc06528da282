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
const server = createServer((req, res) => {
  seen.push({ url: req.url, headers: req.headers });
  req.resume();
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
  tasks: { id: string; state: string; reason: string; attempts: { reason?: string; message?: string }[] }[];
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
});
