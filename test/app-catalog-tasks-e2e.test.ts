/**
 * Issue 14's proof line "a repository task and a locked catalog task in an App-dispatched run":
 * a signed `push` to the App over HTTP; the pushed repository (in the GitHub stand-in, served by
 * the real `git http-backend`) has a task of its own (`.maestro/tasks/shout`) and uses a task of
 * a shared catalog (`acme/greet@1`), locked by `maestro tasks lock` into `.maestro/tasks.lock`.
 * The App reads both from the commit's git tree (never a working copy), type-checks `with:`
 * against them, and dispatches the run; the engine fetches the locked catalog commit, checks its
 * digest, and both tasks run and hand their outputs on. The catalog is a public repository on
 * another host (a plain `git http-backend` on 127.0.0.1): the App fetches it anonymously, and the
 * installation token never reaches it.
 *
 * Before this change the App compiled without repository tasks or a lock: `uses:
 * ./.maestro/tasks/shout` was MS4008 and `acme/greet@1` MS4011, and nothing ran.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGitHttp } from './github-standin/git-http.ts';
import { startHarness, type Harness } from './github-standin/app-harness.ts';
import { TestRepository } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';

const GREET = {
  'greet/task.json': JSON.stringify({
    name: 'greet',
    version: '1.2.0',
    description: 'Greets someone.',
    inputs: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string' } },
    },
    outputs: ['greeting'],
  }),
  'greet/index.ts': `import { defineTask, runMain } from '@summit-maestro/sdk';
export const greet = defineTask({
  name: 'greet',
  version: '1.2.0',
  spec: {
    inputs: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    outputs: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  },
  async execute(inputs, ctx) {
    ctx.emit.log('catalog greet ran');
    return { greeting: 'hello ' + inputs.name };
  },
});
if (import.meta.main) await runMain(greet, process.env);
`,
};

const SHOUT = {
  '.maestro/tasks/shout/task.json': JSON.stringify({
    name: 'shout',
    version: '1.0.0',
    description: 'Upper-cases a text.',
    inputs: {
      type: 'object',
      required: ['text'],
      additionalProperties: false,
      properties: { text: { type: 'string' } },
    },
    outputs: ['loud'],
  }),
  '.maestro/tasks/shout/index.ts': `import { defineTask, runMain } from '@summit-maestro/sdk';
export const shout = defineTask({
  name: 'shout',
  version: '1.0.0',
  spec: {
    inputs: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    outputs: { type: 'object', required: ['loud'], properties: { loud: { type: 'string' } } },
  },
  async execute(inputs, ctx) {
    ctx.emit.log('repository shout ran');
    return { loud: inputs.text.toUpperCase() + '!' };
  },
});
if (import.meta.main) await runMain(shout, process.env);
`,
};

const WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: greet, namespace: demo }
spec:
  policy: { purpose: ci, authority: team:ci, license: MIT }
  triggers: { push: { branches: [main] } }
  defaults: { runner: local, retry: { limit: 0 }, timeout: 2m }
  tasks:
    - id: hello
      uses: acme/greet@1
      with: { name: Ada }
    - id: loud
      needs: [hello]
      uses: ./.maestro/tasks/shout
      with: { text: "\${tasks.hello.outputs.greeting}" }
    - id: show
      needs: [loud]
      run: echo "final \${tasks.loud.outputs.loud}"
`;

/** A public catalog on another host: `git http-backend` with no authentication. */
async function serveCatalog(bareDir: string) {
  const authorizations: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/maestro-tasks\.git(\/.*)$/.exec(url.pathname);
    authorizations.push(req.headers.authorization);
    if (!m) return void res.writeHead(404).end();
    void serveGitHttp(req, res, bareDir, m[1]!, url.search.slice(1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/maestro-tasks.git`, authorizations, close: () => server.close() };
}

let h: Harness;
let catalog: Awaited<ReturnType<typeof serveCatalog>>;
beforeAll(async () => {
  h = await startHarness();
  const catalogRepo = new TestRepository();
  catalogRepo.commit({ branch: 'main', login: 'dana', files: GREET });
  catalog = await serveCatalog(catalogRepo.bareDir);
}, 120_000);
afterAll(async () => {
  catalog?.close();
  await h?.runtime.close();
  await h?.standin.stop();
});

/** `maestro tasks lock` in a checkout holding the workflow and catalogs.yaml: the lock to commit. */
async function lockFor(catalogsYaml: string): Promise<string> {
  const dir = tempDir('maestro-app-catalog-lock-');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.maestro', 'catalogs.yaml'), catalogsYaml);
  writeFileSync(join(dir, '.maestro', 'workflows', 'greet.yaml'), WORKFLOW);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
  const result = await runCaptured(['tasks', 'lock', '--data-dir', join(dir, 'data')], dir, env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return readFileSync(join(dir, '.maestro', 'tasks.lock'), 'utf8');
}

describe('an App-dispatched run with a repository task and a locked catalog task', () => {
  it('compiles from the pushed tree and the lock, fetches the locked commit, runs both', async () => {
    const catalogsYaml = `catalogs:\n  acme: { url: "${catalog.url}", ref: main }\n`;
    const lock = await lockFor(catalogsYaml);
    const base = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        ...SHOUT,
        '.maestro/catalogs.yaml': catalogsYaml,
        '.maestro/tasks.lock': lock,
        '.maestro/workflows/greet.yaml': WORKFLOW,
        VERSION: '1\n',
      },
    });
    const sha = h.repo.commit({ branch: 'main', login: 'carol', files: { VERSION: '2\n' } });
    const before = catalog.authorizations.length;
    const status = await h.deliver(
      'push',
      h.pushPayload({
        ref: 'refs/heads/main',
        before: base,
        after: sha,
        pusher: 'carol',
        files: ['VERSION'],
      }),
    );
    expect(status).toBe(202);
    await h.idle();

    const store = h.runtime.engineStore;
    const [record] = await store.listRuns();
    expect(record, 'a run was dispatched').toBeDefined();
    const run = await store.getRun(record!.id);
    const [check] = h.standin.checkRunsNamed('maestro / run demo/greet', sha);
    expect(check?.conclusion, check?.output.summary).toBe('success');
    expect(run.status).toBe('succeeded');
    const hello = run.plan.tasks.find((t) => t.id === 'hello')!.action;
    expect(hello).toMatchObject({
      type: 'catalog',
      name: 'acme/greet',
      version: '1.2.0',
      source: { url: catalog.url, path: 'greet' },
    });
    expect(run.plan.tasks.find((t) => t.id === 'loud')!.action).toMatchObject({
      name: './.maestro/tasks/shout',
    });

    expect(await store.taskOutputs(run.id, 'hello')).toEqual({ greeting: 'hello Ada' });
    expect(await store.taskOutputs(run.id, 'loud')).toEqual({ loud: 'HELLO ADA!' });
    const logs = (await store.listLogs(run.id)).map((l) => l.text);
    expect(logs).toContain('catalog greet ran');
    expect(logs).toContain('repository shout ran');
    expect(logs).toContain('final HELLO ADA!');
    // The App fetched the public catalog, and sent it no credentials.
    expect(catalog.authorizations.length).toBeGreaterThan(before);
    expect(catalog.authorizations.slice(before).every((a) => a === undefined)).toBe(true);
  }, 180_000);

  it('refuses a pushed catalog at a local path of the App’s machine (MS4013 at the uses: line), and runs nothing', async () => {
    // A push may not make the App read a repository on its own disk (another tenant's mirror, a
    // checkout of the App's config): catalogs.yaml and the lock both name a local path.
    const local = '/var/lib/maestro/sources/mirrors/other.git';
    const catalogsYaml = `catalogs:\n  acme: { url: "${local}", ref: main }\n`;
    const lock = JSON.parse(await lockFor(`catalogs:\n  acme: { url: "${catalog.url}", ref: main }\n`));
    lock.catalogs.acme.url = local;
    const runsBefore = (await h.runtime.engineStore.listRuns()).length;
    const sha = h.repo.commit({
      branch: 'feature',
      login: 'carol',
      files: {
        ...SHOUT,
        '.maestro/catalogs.yaml': catalogsYaml,
        '.maestro/tasks.lock': JSON.stringify(lock, null, 2),
        '.maestro/workflows/greet.yaml': WORKFLOW,
      },
    });
    const status = await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/feature', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    expect(status).toBe(202);
    await h.idle();
    const [validate] = h.standin.checkRunsNamed('maestro / validate', sha);
    expect(validate!.conclusion).toBe('failure');
    const placed = validate!.annotations.filter((a) => String(a.title).startsWith('MS40'));
    expect(placed.map((a) => [a.path, a.start_line, a.title])).toEqual([
      ['.maestro/workflows/greet.yaml', 10, 'MS4013'],
    ]);
    expect(String(placed[0]!.message)).toContain('only the CLI reads');
    expect((await h.runtime.engineStore.listRuns()).length).toBe(runsBefore);
  }, 180_000);
});
