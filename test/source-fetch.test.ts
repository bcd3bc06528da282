/**
 * The App's path to a repository's code: a cached bare mirror fetched over HTTP from the GitHub
 * stand-in (real `git http-backend`), authenticated with an installation token, then exported
 * at the pushed SHA and run by the engine. The token must reach the server and nothing else:
 * not the mirror's config or any file of the data directory, not the logs, not the workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { policyOff, RunnerRegistry, type RunSource } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore } from '../engine/index.ts';
import { createSourceFetcher } from '../workspace/index.ts';
import { fetchIntoMirror } from '../workspace/source-mirror.ts';
import { GitHubStandIn, TestRepository } from './github-standin/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

let standin: GitHubStandIn;
let base: string;
let repo: TestRepository;
let first: string;
let second: string;

beforeAll(async () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  standin = new GitHubStandIn({
    appId: '1',
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  base = await standin.start();
  repo = new TestRepository();
  first = repo.commit({
    branch: 'main',
    login: 'octocat',
    files: { 'hello.txt': 'one\n', 'bin/x.sh': 'echo x\n' },
  });
  second = repo.commit({ branch: 'main', login: 'octocat', files: { 'hello.txt': 'two\n' } });
  standin.addRepo({ owner: 'acme', name: 'app', id: 7, bareDir: repo.bareDir, defaultBranch: 'main' });
});
afterAll(() => standin.stop());

/** Every file under `dir` (the mirror's config, FETCH_HEAD, packs, the store, the workspaces). */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stat = lstatSync(full);
    if (stat.isDirectory()) out.push(...allFiles(full));
    else if (stat.isFile()) out.push(full);
  }
  return out;
}

function filesContaining(dir: string, needles: string[]): string[] {
  return allFiles(dir).filter((file) => {
    const text = readFileSync(file).toString('latin1');
    return needles.some((n) => text.includes(n));
  });
}

const forms = (token: string) => [token, Buffer.from(`x-access-token:${token}`).toString('base64')];

describe('remote sources through the stand-in', () => {
  it('fetches the pushed SHA with the token in a header only, and exports it read-only', async () => {
    const dataDir = tempDir('maestro-source-');
    const { token } = standin.issueInstallationToken(42);
    const fetcher = createSourceFetcher({ dataDir, tokenFor: async () => token });
    const dir = await fetcher.export({ kind: 'git', repo: `${base}/acme/app.git`, commit: first });
    expect(readFileSync(join(dir, 'hello.txt'), 'utf8')).toBe('one\n');
    expect(statSync(join(dir, 'hello.txt')).mode & 0o222).toBe(0);
    // The server saw the token (so it was sent), and every fetch request carried it.
    expect(standin.gitRequests.length).toBeGreaterThan(0);
    expect(standin.gitRequests.every((r) => r.token === token && r.status === 200)).toBe(true);
    // A second commit reuses the mirror; an export already made costs nothing.
    const again = await fetcher.export({ kind: 'git', repo: `${base}/acme/app.git`, commit: second });
    expect(readFileSync(join(again, 'hello.txt'), 'utf8')).toBe('two\n');
    expect(filesContaining(dataDir, forms(token))).toEqual([]);
  });

  it('runs started together share one new mirror: every export of the same and other commits succeeds', async () => {
    // Two workflows of one push start at once on a fresh data directory. Before: the second
    // `git init` into the same mirror failed ("cannot copy ... hooks: File exists") and so did
    // the run, with runner_error, before its first attempt.
    const dataDir = tempDir('maestro-source-');
    const { token } = standin.issueInstallationToken(42);
    const repoUrl = `${base}/acme/app.git`;
    const fetchers = [0, 1, 2, 3].map(() => createSourceFetcher({ dataDir, tokenFor: async () => token }));
    const dirs = await Promise.all(
      fetchers.map((fetcher, i) =>
        fetcher.export({ kind: 'git', repo: repoUrl, commit: i % 2 ? second : first }),
      ),
    );
    expect(dirs.map((dir) => readFileSync(join(dir, 'hello.txt'), 'utf8'))).toEqual([
      'one\n',
      'two\n',
      'one\n',
      'two\n',
    ]);
    // One mirror, no temporary directory left beside it.
    expect(readdirSync(join(dataDir, 'sources', 'mirrors'))).toHaveLength(1);
  });

  it('commits wanted while a fetch runs are fetched together, each exported at its own SHA', async () => {
    // Pushes at 10/s each want a new commit; before, each waited for the previous fetch and ran
    // its own (one `info/refs` per commit): first tasks started at 3.6/s (bench/webhooks).
    const commits = [3, 4, 5, 6, 7].map((n) =>
      repo.commit({ branch: `batch-${n}`, from: second, login: 'octocat', files: { 'hello.txt': `${n}\n` } }),
    );
    const dataDir = tempDir('maestro-source-');
    const { token } = standin.issueInstallationToken(42);
    const fetcher = createSourceFetcher({ dataDir, tokenFor: async () => token });
    const before = standin.gitRequests.length;
    const dirs = await Promise.all(
      commits.map((commit) => fetcher.export({ kind: 'git', repo: `${base}/acme/app.git`, commit })),
    );
    expect(dirs.map((dir) => readFileSync(join(dir, 'hello.txt'), 'utf8'))).toEqual([
      '3\n',
      '4\n',
      '5\n',
      '6\n',
      '7\n',
    ]);
    const requests = standin.gitRequests.slice(before);
    expect(requests.every((r) => r.token === token && r.status === 200)).toBe(true);
    expect(requests.filter((r) => r.method === 'GET' && r.path.endsWith('/info/refs'))).toHaveLength(1);
  });

  it('a commit wanted with a refused token is never fetched with another run’s token', async () => {
    // Attack: run B's token is refused (another installation's repository, or expired); run A's
    // fetch of the same mirror is running. B must fail, not ride along in A's batch.
    const [a, b] = [8, 9].map((n) =>
      repo.commit({ branch: `batch-${n}`, from: second, login: 'octocat', files: { 'hello.txt': `${n}\n` } }),
    );
    const dataDir = tempDir('maestro-source-');
    const { token } = standin.issueInstallationToken(42);
    const bad = 'ghs_refused-token-000000000000';
    const fetcher = createSourceFetcher({
      dataDir,
      tokenFor: async (_repo, context) => (context?.runId === 'b' ? bad : token),
    });
    const source = (commit: string) => ({ kind: 'git' as const, repo: `${base}/acme/app.git`, commit });
    const [okA, failB] = await Promise.allSettled([
      fetcher.export(source(a!), { runId: 'a' }),
      fetcher.export(source(b!), { runId: 'b' }),
    ]);
    expect(okA.status).toBe('fulfilled');
    expect(failB).toMatchObject({ status: 'rejected', reason: { code: 'source_fetch_failed' } });
  });

  it('packs a mirror’s pins every 100 fetches, apart from them (git’s own auto-maintenance is off)', async () => {
    const dataDir = tempDir('maestro-source-');
    const { token } = standin.issueInstallationToken(42);
    const want = (commit: string) =>
      fetchIntoMirror({ dataDir, url: `${base}/acme/app.git`, want: commit, token });
    const { dir } = await want(first);
    const loose = join(dir, 'refs', 'maestro', 'commits', first);
    // 97 fetches of a commit the mirror holds (no network) and one of another: 99 in all, the
    // pins are still loose refs.
    for (let i = 2; i < 99; i++) await want(first);
    await want(second);
    expect(existsSync(loose)).toBe(true);
    expect(existsSync(join(dir, 'packed-refs'))).toBe(false);
    // The 100th queues the upkeep behind it; the next fetch waits for it in the mirror's queue.
    await want(first);
    await want(first);
    expect(existsSync(loose)).toBe(false);
    const packed = readFileSync(join(dir, 'packed-refs'), 'utf8');
    expect(packed).toContain(`${first} refs/maestro/commits/${first}`);
    expect(packed).toContain(`${second} refs/maestro/commits/${second}`);
  });

  it('refuses without a valid token, without echoing the token', async () => {
    const dataDir = tempDir('maestro-source-');
    const bad = 'ghs_not-a-real-token-000000';
    const fetcher = createSourceFetcher({ dataDir, tokenFor: async () => bad });
    const error = await fetcher
      .export({ kind: 'git', repo: `${base}/acme/app.git`, commit: first })
      .catch((e: unknown) => e as Error & { code: string });
    expect(error).toMatchObject({ code: 'source_fetch_failed' });
    expect(JSON.stringify(error)).not.toContain(bad);
    expect((error as Error).message).not.toContain(forms(bad)[1]!);
    expect(filesContaining(dataDir, forms(bad))).toEqual([]);
  });

  it('refuses plain HTTP to a remote host and credentials in the URL', async () => {
    const fetcher = createSourceFetcher({ dataDir: tempDir('maestro-source-') });
    const at = (repoUrl: string) =>
      fetcher.export({ kind: 'git', repo: repoUrl, commit: first }).catch((e: unknown) => e as Error);
    expect(await at('http://example.com/acme/app.git')).toMatchObject({ code: 'source_refused' });
    const withUser = (await at(`https://x-access-token:ghs_secret123@example.com/acme/app.git`)) as Error;
    expect(withUser).toMatchObject({ code: 'source_refused' });
    expect(withUser.message).not.toContain('ghs_secret123');
    expect(await at('ext::sh -c touch% /tmp/pwned')).toMatchObject({ code: 'source_fetch_failed' });
  });

  it('runs a task on the exported commit; the token is in no file, log or workspace', async () => {
    const dataDir = tempDir('maestro-source-');
    const { token } = standin.issueInstallationToken(42);
    const logs: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }),
    );
    const runner = recordingLocalRunner();
    const store = openStore({ dataDir });
    const engine = createEngine({
      policy: policyOff('source test: checkout, not policy'),
      store: asyncSqliteStore(store),
      dataDir,
      logger,
      runners: new RunnerRegistry().register(runner),
      source: createSourceFetcher({ dataDir, tokenFor: async () => token }),
    });
    const source: RunSource = {
      kind: 'git',
      repo: `${base}/acme/app.git`,
      commit: first,
      ref: 'refs/heads/main',
    };
    const plan = planOf([
      shellTask(
        'show',
        'cat hello.txt; sh bin/x.sh; echo "sha=$MAESTRO_SOURCE_SHA repo=$MAESTRO_SOURCE_REPO"; env',
      ),
    ]);
    const runId = await engine.submit(plan, { source });
    const run = await engine.execute(runId);
    await runner.close();
    expect(run.status).toBe('succeeded');
    expect(store.getRun(runId).source).toEqual(source);
    const lines = store.listLogs(runId).map((l) => l.text);
    expect(lines).toContain('one');
    expect(lines).toContain('x');
    expect(lines).toContain(`sha=${first} repo=${base}/acme/app.git`);
    store.close();
    expect(filesContaining(dataDir, forms(token))).toEqual([]);
    expect(logs.join('').includes(token)).toBe(false);
  });
});
