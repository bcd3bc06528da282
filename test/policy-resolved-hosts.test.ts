// The egress policy sees the hosts a task will really contact: an http task's `url` from a param,
// a secret or an earlier task's output is resolved (the same resolution the attempt dispatches)
// before policy is asked. `maestro run` with the real OPA wasm bundle, against a loopback receiver.
// The attack: with require_known_hosts off and an allow-list that does not name the receiver, a
// URL that came through an expression reached it anyway, because the policy saw no host at all.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBundlePath } from '../policy/index.ts';
import { untarGz } from '../policy/bundle/untar.ts';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { filesHolding } from './helpers/find-secret.ts';

const hits: string[] = [];
const receiver = createServer((req, res) => {
  hits.push(req.url ?? '');
  res.writeHead(200).end('ok');
});
let port = 0;
const repo = tempDir('maestro-resolved-hosts-');
let openBundle = '';

/** The default bundle's wasm with other config data: real OPA, no rebuild needed. */
function bundleWith(config: Record<string, unknown>): string {
  const files = untarGz(readFileSync(defaultBundlePath));
  const data = JSON.parse(new TextDecoder().decode(files.get('data.json'))) as {
    maestro: { config: Record<string, unknown> };
  };
  Object.assign(data.maestro.config, config);
  const dir = tempDir('maestro-resolved-hosts-bundle-');
  writeFileSync(join(dir, 'policy.wasm'), files.get('policy.wasm')!);
  writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
  execFileSync('tar', ['czf', join(dir, 'bundle.tar.gz'), '-C', dir, 'policy.wasm', 'data.json']);
  return join(dir, 'bundle.tar.gz');
}

function workflow(name: string, tasks: string): string {
  const file = join(repo, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ${name} }
spec:
  params:
    target: { type: string, default: "none" }
  tasks:
${tasks}`,
  );
  return file;
}

const paramTask = `    - id: get\n      uses: tasks/http@1\n      with: { url: "\${params.target}" }\n`;
const secretTask = `    - id: get\n      uses: tasks/http@1\n      with: { url: "\${secrets.TARGET_URL}" }\n`;
const outputTask = `    - id: pick
      run: echo "url=$TARGET" >> "$MAESTRO_OUTPUT"
      env: { TARGET: "\${params.target}" }
      outputs: [url]
    - id: get
      needs: [pick]
      uses: tasks/http@1
      with: { url: "\${tasks.pick.outputs.url}" }
`;

async function run(file: string, dataDir: string, extra: string[], env: Record<string, string> = {}) {
  const out = await runCaptured(['run', file, '--data-dir', dataDir, ...extra], repo, {
    PATH: process.env.PATH,
    HOME: repo,
    ...env,
  });
  return { code: out.code, out: `${out.stdout}\n${out.stderr}` };
}

async function logsOf(runOut: string, dataDir: string): Promise<string> {
  const runId = /run (r-[0-9a-f-]+)/.exec(runOut)?.[1] as string;
  const logs = await runCaptured(['runs', 'logs', runId, '--data-dir', dataDir], repo, {
    PATH: process.env.PATH,
    HOME: repo,
  });
  return logs.stdout + logs.stderr;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
  mkdirSync(repo, { recursive: true });
  openBundle = bundleWith({ require_known_hosts: false, allowed_hosts: ['allowed.example'] });
});

afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('the egress policy sees resolved hosts (maestro run, real OPA)', () => {
  it('the attack (a): require_known_hosts off, a param URL to a host off the allow-list is refused, never contacted', async () => {
    hits.length = 0;
    const dataDir = join(repo, 'data-a');
    const file = workflow('param-open', paramTask);
    const target = `http://127.0.0.1:${port}/from-param`;
    const ran = await run(file, dataDir, ['--policy', openBundle, '--param', `target=${target}`]);
    expect(ran.code, ran.out).toBe(1);
    expect(hits, 'the receiver was contacted').toEqual([]);
    expect(await logsOf(ran.out, dataDir)).toContain(
      'task get contacts host 127.0.0.1, which is not on the outbound allow-list',
    );
  });

  it('the attack (b): the same with the URL in a secret; only its host reaches the decision, nothing of the secret is stored', async () => {
    hits.length = 0;
    const dataDir = join(repo, 'data-b');
    const file = workflow('secret-open', secretTask);
    const secret = `http://127.0.0.1:${port}/p-s3cr3t-path?q=s3cr3t-query`;
    const ran = await run(file, dataDir, ['--policy', openBundle], { MAESTRO_SECRET_TARGET_URL: secret });
    expect(ran.code, ran.out).toBe(1);
    expect(hits, 'the receiver was contacted').toEqual([]);
    const logs = await logsOf(ran.out, dataDir);
    expect(logs).toContain('task get contacts host 127.0.0.1, which is not on the outbound allow-list');
    // The decision log records the decision's reasons (the host, no more) and the input's digest.
    const audit = await runCaptured(['audit', 'export', '--data-dir', dataDir], repo, {
      PATH: process.env.PATH,
    });
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toContain('contacts host 127.0.0.1');
    for (const part of [secret, 'p-s3cr3t-path', 's3cr3t-query']) {
      // The data dir holds the store, the decision log (in maestro.db), the logs and stored inputs.
      expect(filesHolding(dataDir, part), `${part} reached the data dir`).toEqual([]);
      expect(ran.out + logs + audit.stdout).not.toContain(part);
    }
  });

  it('the attack (b): the same with the URL in an earlier task’s output', async () => {
    hits.length = 0;
    const dataDir = join(repo, 'data-b-output');
    const file = workflow('output-open', outputTask);
    const target = `http://127.0.0.1:${port}/from-output`;
    const ran = await run(file, dataDir, ['--policy', openBundle, '--param', `target=${target}`]);
    expect(ran.code, ran.out).toBe(1);
    expect(hits, 'the receiver was contacted').toEqual([]);
  });

  it('(c) the default policy: a param URL to an allowed host runs (the old engine refused it as unknown)', async () => {
    hits.length = 0;
    const dataDir = join(repo, 'data-c');
    const file = workflow('param-default', paramTask);
    const ran = await run(file, dataDir, ['--param', `target=http://127.0.0.1:${port}/allowed`]);
    expect(ran.code, ran.out).toBe(0);
    expect(hits).toEqual(['/allowed']);
  });

  it('the default policy: a secret URL to an allowed host runs, and no part of the secret is stored', async () => {
    hits.length = 0;
    const dataDir = join(repo, 'data-c-secret');
    const file = workflow('secret-default', secretTask);
    const secret = `http://127.0.0.1:${port}/hook/t0k3n-in-path`;
    const ran = await run(file, dataDir, [], { MAESTRO_SECRET_TARGET_URL: secret });
    expect(ran.code, ran.out).toBe(0);
    expect(hits).toEqual(['/hook/t0k3n-in-path']);
    expect(filesHolding(dataDir, 't0k3n-in-path'), 'the secret reached the data dir').toEqual([]);
    expect(ran.out + (await logsOf(ran.out, dataDir))).not.toContain('t0k3n-in-path');
  });

  it('the default policy: a resolved value that is not a URL is unknown, so refused (fail closed)', async () => {
    const dataDir = join(repo, 'data-invalid');
    const file = workflow('param-invalid', paramTask);
    const ran = await run(file, dataDir, ['--param', 'target=not a url']);
    expect(ran.code, ran.out).toBe(1);
    expect(await logsOf(ran.out, dataDir)).toContain(
      'task get is an HTTP task whose target hosts are unknown: the outbound allow-list cannot be checked',
    );
  });
});
