// The http task's redirects are checked against the policy's egress allow-list, end to end:
// `maestro run` with the real OPA bundle, the list carried by the policy decision into the task's
// environment, and two loopback servers where `localhost` redirects to `127.0.0.1`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../cli/index.ts';
import { requireOpa } from './policy-support.ts';

let repo: string;
let firstPort = 0;
let secondPort = 0;
const secondHits: string[] = [];
const second = createServer((req, res) => {
  secondHits.push(req.url ?? '');
  res.writeHead(200).end('second');
});
const first = createServer((req, res) => {
  res.writeHead(302, { location: `http://127.0.0.1:${secondPort}/landed` }).end();
});

async function maestro(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTty: false,
    env: { HOME: process.env.HOME, PATH: process.env.PATH, MAESTRO_OPA: requireOpa() },
    cwd: repo,
  };
  const code = await runCli(args, io);
  return { code, out: stdout + stderr };
}

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

beforeAll(async () => {
  await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve));
  secondPort = (second.address() as AddressInfo).port;
  await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
  firstPort = (first.address() as AddressInfo).port;
  repo = mkdtempSync(join(tmpdir(), 'maestro-egress-'));
  write(
    join(repo, 'fetch.yaml'),
    `apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: fetch }\nspec:\n  tasks:\n    - id: get\n      uses: tasks/http@1\n      with: { url: "http://localhost:${firstPort}/elsewhere" }\n`,
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => first.close(() => resolve()));
  await new Promise<void>((resolve) => second.close(() => resolve()));
});

describe('http redirects under the egress allow-list (maestro run, real policy)', () => {
  it('the default policy allows both loopback names: the redirect is followed', async () => {
    secondHits.length = 0;
    const run = await maestro(['run', 'fetch.yaml', '--data-dir', join(repo, 'data-default')]);
    expect(run.code, run.out).toBe(0);
    expect(secondHits).toEqual(['/landed']);
  });

  it('a repository policy allowing only localhost: the hop to 127.0.0.1 fails the task, never contacted', async () => {
    write(join(repo, '.maestro/policy/config.json'), '{ "allowed_hosts": ["localhost"] }\n');
    const built = await maestro(['policy', 'build', '--format', 'json']);
    expect(built.code, built.out).toBe(0);
    const bundle = (JSON.parse(built.out) as { bundle: string }).bundle;
    secondHits.length = 0;
    const dataDir = join(repo, 'data-narrow');
    const run = await maestro(['run', 'fetch.yaml', '--data-dir', dataDir, '--policy', bundle]);
    expect(run.code).toBe(1);
    expect(secondHits).toEqual([]);
    const runId = /run (r-[0-9a-f-]+)/.exec(run.out)?.[1] as string;
    const logs = await maestro(['runs', 'logs', runId, '--data-dir', dataDir]);
    expect(logs.out).toContain(
      `redirect from http://localhost:${firstPort} to http://127.0.0.1:${secondPort} refused: 127.0.0.1 is not on the outbound allow-list (localhost)`,
    );
  });
});
