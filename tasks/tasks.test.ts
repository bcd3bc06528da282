// Runs each built-in task as the engine does: a real `node <entry>` process with MAESTRO_* env.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../core/index.ts';
import { loadBuiltinCatalog, loadCatalogEntries, packageDigest, taskDigest } from './index.ts';

const catalog = await loadBuiltinCatalog();
const entryOf = (name: string): CatalogEntry => catalog.versions(name)[0] as CatalogEntry;

async function runTask(
  name: string,
  inputs: unknown,
  extraEnv: Record<string, string> = {},
  files: Record<string, string> = {},
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  artifacts: string;
}> {
  const dir = mkdtempSync(join(tmpdir(), `maestro-task-${name}-`));
  const output = join(dir, 'output');
  const messages = join(dir, 'messages.jsonl');
  writeFileSync(output, '');
  writeFileSync(messages, '');
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [entryOf(name).entry], {
    env: {
      PATH: process.env.PATH ?? '',
      MAESTRO_INPUTS: JSON.stringify(inputs),
      MAESTRO_OUTPUT: output,
      MAESTRO_MESSAGES: messages,
      MAESTRO_ARTIFACTS: dir,
      ...extraEnv,
    },
    cwd: dir,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const outputs = Object.fromEntries(
    readFileSync(output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  // Tasks on the SDK report through the messages file (docs/task-protocol.md).
  for (const line of readFileSync(messages, 'utf8').split('\n').filter(Boolean)) {
    const message = JSON.parse(line) as { type: string; name?: string; value?: string };
    if (message.type === 'output') outputs[message.name as string] = message.value as string;
  }
  return { code, stdout, stderr, outputs, artifacts: dir };
}

describe('built-in catalog', () => {
  it('lists the built-in tasks with entries, input schemas and package digests', () => {
    expect(catalog.names()).toEqual(expect.arrayContaining(['echo', 'http', 'schema-validate', 'wait']));
    for (const name of catalog.names()) {
      const entry = entryOf(name);
      expect(entry.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(entry.entry.endsWith(`/tasks/${name}/index.ts`)).toBe(true);
      expect(entry.inputs.type).toBe('object');
    }
    expect(entryOf('http').targetInputs).toEqual(['url']);
    // An S3-compatible endpoint is a host the task contacts: policy sees it (task.targetHosts).
    expect(entryOf('blob').targetInputs).toEqual(['endpoint']);
  });

  it('the package digest changes when any file of the package changes, and only then', async () => {
    // wait: a task whose catalog digest is its package digest (not on the SDK, no imports).
    const copy = mkdtempSync(join(tmpdir(), 'maestro-pkg-'));
    cpSync(new URL('./wait/', import.meta.url), join(copy, 'wait'), { recursive: true });
    const before = await packageDigest(join(copy, 'wait'));
    expect(before).toBe(entryOf('wait').digest);
    writeFileSync(join(copy, 'wait', 'wait.test.ts'), '// tests are not part of the package');
    expect(await packageDigest(join(copy, 'wait'))).toBe(before);
    writeFileSync(
      join(copy, 'wait', 'index.ts'),
      `${readFileSync(join(copy, 'wait', 'index.ts'), 'utf8')}\n`,
    );
    expect(await packageDigest(join(copy, 'wait'))).not.toBe(before);
    expect((await loadCatalogEntries(copy)).map((e) => e.name)).toEqual(['wait']);
  });
});

describe('the code digest of a task on the SDK', () => {
  it("covers the SDK's code as well as the task's own files", async () => {
    const own = await packageDigest(new URL('./schema-validate/', import.meta.url).pathname);
    expect(entryOf('schema-validate').digest).toBe(
      await taskDigest(new URL('./schema-validate/', import.meta.url).pathname),
    );
    expect(entryOf('schema-validate').digest).not.toBe(own);
    // A task that does not import the SDK keeps its package digest (wait, an engine primitive).
    expect(entryOf('wait').digest).toBe(await packageDigest(new URL('./wait/', import.meta.url).pathname));
  });

  it("covers core/'s own files for a task that runs core's code (notify's loopback check), not for a type import", async () => {
    const folder = (name: string) => new URL(`./${name}/`, import.meta.url).pathname;
    const sdk = await flatDigestOf(new URL('../sdk/', import.meta.url).pathname);
    const core = await flatDigestOf(new URL('../core/', import.meta.url).pathname);
    const of = (...parts: string[]) =>
      `sha256:${createHash('sha256').update(parts.join('\0')).digest('hex')}`;
    const telemetry = await packageDigest(folder('telemetry')); // notify's span helper, a sibling
    expect(entryOf('notify').digest).toBe(of(await packageDigest(folder('notify')), sdk, core, telemetry));
    // http is on the SDK, runs core's loopback check, and its span is telemetry's.
    expect(entryOf('http').digest).toBe(of(await packageDigest(folder('http')), sdk, core, telemetry));
    // schema-validate imports no value from core/ (nor does telemetry, its span helper).
    expect(entryOf('schema-validate').digest).toBe(
      of(await packageDigest(folder('schema-validate')), sdk, telemetry),
    );
  });
});

/** As tasks/index.ts digests a flat folder: its top-level files, tests excluded. */
async function flatDigestOf(root: string): Promise<string> {
  const names = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isFile() && !d.name.endsWith('.test.ts'))
    .map((d) => d.name)
    .sort();
  const hash = createHash('sha256');
  for (const name of names) {
    const bytes = await readFile(join(root, name));
    hash.update(`${name}\0${bytes.byteLength}\0`);
    hash.update(bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}

describe('tasks run as processes', () => {
  it('echo prints its message and writes outputs', async () => {
    const r = await runTask('echo', { message: 'hi there', outputs: { version: '1.2.3', ok: true } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi there\n');
    expect(r.outputs).toEqual({ message: 'hi there', version: '1.2.3', ok: 'true' });
  });

  it('echo refuses an output with a line break', async () => {
    const r = await runTask('echo', { outputs: { bad: 'a\nb' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line break');
  });

  it('wait is an engine primitive: run as a process it refuses (exit 2), it never sleeps', async () => {
    const r = await runTask('wait', { for: '1h' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tasks/wait is run by the engine itself');
  });

  it('schema-validate reports valid and invalid values, from inline data and files', async () => {
    const schema = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };
    expect((await runTask('schema-validate', { schema, value: { id: 'x' } })).outputs).toEqual({
      valid: 'true',
      errors: '0',
      violations: '[]',
    });
    const invalid = await runTask('schema-validate', { schema, value: { id: 1 } });
    expect(invalid.code).toBe(0);
    expect(invalid.outputs).toEqual({
      valid: 'false',
      errors: '1',
      violations: '[{"path":"/id","message":"must be string"}]',
    });
    // Files are workspace-relative (the task's working directory).
    const fromFiles = await runTask(
      'schema-validate',
      { schemaFile: 's.json', file: 'v.json', failOnInvalid: true },
      {},
      { 's.json': JSON.stringify(schema), 'v.json': '{}' },
    );
    expect(fromFiles.code).toBe(1);
    expect(fromFiles.outputs.valid).toBe('false');
    expect(fromFiles.stderr).toContain('schema-validate [value_invalid]');
  });

  describe('http', () => {
    const server = createServer((req, res) => {
      if (req.url === '/missing') {
        res.writeHead(404).end('no');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(`hello ${req.method} ${req.headers.authorization ?? ''}`);
    });
    let base = '';
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fetches, outputs status and body digest, stores the body', async () => {
      const r = await runTask('http', { url: `${base}/ok`, identity: 'tok' });
      expect(r.code).toBe(0);
      const body = readFileSync(join(r.artifacts, 'body'), 'utf8');
      expect(body).toBe('hello GET Bearer tok');
      const { createHash } = await import('node:crypto');
      expect(r.outputs).toEqual({
        status: '200',
        bodyDigest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
      });
    });

    it('fails on an error status unless told not to, and on a bad URL', async () => {
      expect((await runTask('http', { url: `${base}/missing` })).code).toBe(1);
      const tolerant = await runTask('http', { url: `${base}/missing`, failOnStatus: false });
      expect(tolerant.code).toBe(0);
      expect(tolerant.outputs.status).toBe('404');
      const bad = await runTask('http', { url: 'file:///etc/passwd' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('invalid url');
    });
  });

  describe('http redirects: each hop is checked against the egress allow-list', () => {
    // Two servers on the loopback: `first` is asked for as `localhost`, and redirects to
    // `second` by the other name, `127.0.0.1`, a host the allow-list may refuse.
    const secondHits: { url?: string; authorization?: string }[] = [];
    const second = createServer((req, res) => {
      secondHits.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(200).end('second');
    });
    let secondPort = 0;
    const first = createServer((req, res) => {
      if (req.url === '/elsewhere')
        res.writeHead(302, { location: `http://127.0.0.1:${secondPort}/landed` }).end();
      else if (req.url === '/same-host') res.writeHead(301, { location: '/final' }).end();
      else res.writeHead(200).end(`first ${req.url}`);
    });
    let firstUrl = '';
    beforeAll(async () => {
      await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve));
      secondPort = (second.address() as AddressInfo).port;
      await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
      firstUrl = `http://localhost:${(first.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => first.close(() => resolve()));
      await new Promise<void>((resolve) => second.close(() => resolve()));
    });

    it('a redirect to a host the allow-list refuses fails the task, and the host is never contacted', async () => {
      secondHits.length = 0;
      const r = await runTask(
        'http',
        { url: `${firstUrl}/elsewhere`, identity: 'tok' },
        {
          MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(['localhost']),
        },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `redirect from ${firstUrl} to http://127.0.0.1:${secondPort} refused: 127.0.0.1 is not on the outbound allow-list (localhost)`,
      );
      expect(secondHits).toEqual([]);
      expect(r.outputs).toEqual({});
    });

    it('without the allow-list, only the host policy approved (the url’s own) may be redirected to', async () => {
      secondHits.length = 0;
      const refused = await runTask('http', { url: `${firstUrl}/elsewhere` });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('127.0.0.1 is not on the outbound allow-list (localhost)');
      expect(secondHits).toEqual([]);
      const same = await runTask('http', { url: `${firstUrl}/same-host` });
      expect(same.code).toBe(0);
      expect(readFileSync(join(same.artifacts, 'body'), 'utf8')).toBe('first /final');
    });

    it('an allowed hop is followed, without the credential meant for the first origin', async () => {
      secondHits.length = 0;
      const r = await runTask(
        'http',
        { url: `${firstUrl}/elsewhere`, identity: 'tok' },
        {
          MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(['localhost', '127.0.0.1']),
        },
      );
      expect(r.code).toBe(0);
      expect(r.outputs.status).toBe('200');
      expect(secondHits).toEqual([{ url: '/landed', authorization: undefined }]);
    });
  });
});
