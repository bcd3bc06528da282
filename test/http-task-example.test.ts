/**
 * examples/http-task through `maestro run` (local runner, the real policy) against the sample's
 * own receiver (examples/http-task/receiver.ts), started here on a free loopback port: the copy of
 * the workflow the test runs differs from the sample only in that port. What it proves: a 503 with
 * Retry-After is tried again with the same Idempotency-Key and the API makes one deployment; a 429
 * while it rolls out is waited out; successWhen decides on the JSON answer; a second run with the
 * same key is answered with the same deployment, not a second one.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReceiver } from '../examples/http-task/receiver.ts';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { useLoopbackServer } from './helpers/loopback-http.ts';

const receiver = createReceiver();
let base = '';
useLoopbackServer(receiver.server, (url) => (base = url));

const example = join(import.meta.dirname, '..', 'examples', 'http-task');
const workflow = '.maestro/workflows/deploy-hook.yaml';

interface ShownRun {
  status: string;
  tasks: { id: string; state: string; attempts: { outputs: Record<string, string> }[] }[];
}

async function run(dir: string, dataDir: string): Promise<ShownRun & { log: string }> {
  const env = { PATH: process.env.PATH, HOME: dir };
  const ran = await runCaptured(['run', workflow, '--data-dir', dataDir], dir, env);
  expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);
  const id = /run (r-\S+) /.exec(ran.stdout)![1]!;
  const shown = await runCaptured(['runs', 'show', id, '--data-dir', dataDir, '--format', 'json'], dir, env);
  return { ...(JSON.parse(shown.stdout) as ShownRun), log: ran.stdout };
}

const outputs = (run: ShownRun, id: string) => run.tasks.find((t) => t.id === id)!.attempts.at(-1)!.outputs;

describe('examples/http-task', () => {
  it('retries after Retry-After with one Idempotency-Key, waits out the 429, deploys once across runs', async () => {
    const dir = tempDir('maestro-http-example-');
    cpSync(example, dir, { recursive: true });
    const file = join(dir, workflow);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('http://127.0.0.1:8787/');
    writeFileSync(file, text.replaceAll('http://127.0.0.1:8787', base));
    const dataDir = join(dir, '..', `${dir.split('/').at(-1)}-data`);

    const first = await run(dir, dataDir);
    expect(first.status).toBe('succeeded');
    expect(outputs(first, 'start')).toMatchObject({ status: '201' });
    expect(outputs(first, 'live')).toMatchObject({ status: '200' });
    expect(first.log).toContain('503 from POST');
    expect(first.log).toContain('(Retry-After)');
    expect(first.log).toContain('shop 1.4.0 is live (HTTP 200)');
    const key = '"deploy-shop-1.4.0"';
    expect(receiver.seen.map(({ method, path, key, status }) => [method, path, key, status])).toEqual([
      ['POST', '/deployments', key, 503],
      ['POST', '/deployments', key, 201],
      ['GET', '/deployments/latest', undefined, 429],
      ['GET', '/deployments/latest', undefined, 200],
    ]);
    expect(receiver.created()).toBe(1);

    // The same release again: the key is the input's, so the API answers with the same deployment.
    const second = await run(dir, dataDir);
    expect(second.status).toBe('succeeded');
    expect(receiver.seen.slice(4, 5)).toMatchObject([{ method: 'POST', key, status: 201 }]);
    expect(receiver.created()).toBe(1);
    expect(outputs(second, 'start')['bodyDigest']).toBe(outputs(first, 'start')['bodyDigest']);
  }, 120_000);
});
