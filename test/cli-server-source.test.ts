/**
 * `maestro run --server` from a git checkout: the manifest is posted with its source (`{repo,
 * sha}`: the checkout's remote, without credentials, and its HEAD), which the server records
 * with the stored workflow; a checkout whose run would not be what the recorded commit holds is
 * refused before anything is posted (uncommitted changes, a manifest not committed, a commit on
 * no branch of the remote, no remote at all), naming what and where. Real git repositories (a
 * bare one as the remote), the CLI in-process against the API harness (the real server).
 * Before, nothing was sent: the stored workflow's source was null whatever the checkout held.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withoutCredentials } from '../cli/server-source.ts';
import { runCaptured } from './cli-helpers.ts';
import { manifest, startApi, type ApiHarness } from './api/api-harness.ts';

let api: ApiHarness;
let token: string;
let root: string;
let work: string;
let bare: string;
const FILE = '.maestro/workflows/from-git.yaml';
/** Each test's own workflow (a name of its own), so what one test stored is not another's. */
const workflow = (i: number) => manifest(`from-git-${i}`, '    - id: hi\n      run: "echo from git"\n');

beforeAll(async () => {
  api = await startApi();
  token = await api.mint(['workflows:write', 'runs:read', 'runs:write', 'workflows:read']);
  root = mkdtempSync(join(tmpdir(), 'maestro-cli-source-'));
});
afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: root,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  }).trim();

beforeEach(() => {
  n += 1;
  bare = join(root, `remote-${n}.git`);
  work = join(root, `work-${n}`);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  mkdirSync(join(work, '.maestro/workflows'), { recursive: true });
  git(work, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(work, FILE), workflow(n));
  writeFileSync(join(work, 'README.md'), 'code\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'remote', 'add', 'origin', bare);
  git(work, 'push', '--quiet', '--set-upstream', 'origin', 'main');
});

const run = (cwd = work) =>
  runCaptured(['run', FILE, '--server', api.url], cwd, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    LANG: 'C.UTF-8',
    USER: 'tester',
    MAESTRO_TOKEN: token,
  });

const storedSources = async () =>
  ((await api.call('GET', '/v1/workflows')).body.items as { name: string; source: unknown }[])
    .filter((w) => w.name === `from-git-${n}` || w.name === 'new-one')
    .map((w) => w.source);

describe('run --server from a git checkout', () => {
  it('sends the checkout’s remote and HEAD with the manifest; the server records them with the workflow', async () => {
    const sha = git(work, 'rev-parse', 'HEAD');
    // A remote URL with a credential in it: the credential never leaves the machine.
    git(work, 'remote', 'set-url', 'origin', 'https://ci:s3cr3t-token@git.example.com/acme/app.git');
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^run r-[0-9a-f-]+ succeeded$/);
    const repo = 'https://git.example.com/acme/app.git';
    expect(result.stderr).toContain(`source: ${repo} at ${sha.slice(0, 12)} (HEAD)`);
    expect(await storedSources()).toEqual([{ repo, sha }]);
    const everything =
      JSON.stringify((await api.call('GET', '/v1/workflows')).body) + result.stdout + result.stderr;
    expect(everything).not.toContain('s3cr3t-token');
  });

  it('refuses uncommitted changes to tracked files, naming them, and posts nothing', async () => {
    writeFileSync(join(work, 'README.md'), 'changed\n');
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /has uncommitted changes \(README\.md\): the server would record commit [0-9a-f]{12}/,
    );
    expect(result.stderr).toMatch(/hint: commit and push them/);
    expect(result.stdout).toBe('');
    expect(await storedSources()).toEqual([]);
  });

  it('refuses a manifest that is not committed', async () => {
    writeFileSync(join(work, '.maestro/workflows/new.yaml'), workflow(n).replace(`from-git-${n}`, 'new-one'));
    const result = await runCaptured(['run', '.maestro/workflows/new.yaml', '--server', api.url], work, {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      MAESTRO_TOKEN: token,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('.maestro/workflows/new.yaml is not committed in');
  });

  it('refuses a commit that is on no branch of the remote, and a checkout without a remote', async () => {
    writeFileSync(join(work, 'README.md'), 'later\n');
    git(work, 'commit', '--quiet', '-am', 'not pushed');
    const unpushed = await run();
    expect(unpushed.code).toBe(2);
    expect(unpushed.stderr).toMatch(/commit [0-9a-f]{12} is on no branch of the remote origin/);
    expect(unpushed.stderr).toMatch(/hint: push it first/);
    git(work, 'remote', 'remove', 'origin');
    const alone = await run();
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/has no remote, so the server cannot record where commit/);
    expect(await storedSources()).toEqual([]);
  });
});

describe('run --server with a task of the checkout', () => {
  it('refuses a workflow whose task is a folder of the checkout (the server has no such files)', async () => {
    mkdirSync(join(work, '.maestro/tasks/greet'), { recursive: true });
    writeFileSync(join(work, '.maestro/tasks/greet/task.json'), '{}');
    writeFileSync(
      join(work, FILE),
      manifest(`from-git-${n}`, '    - id: hi\n      uses: ./.maestro/tasks/greet\n'),
    );
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'a repository task');
    git(work, 'push', '--quiet');
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${FILE}: task hi uses ./.maestro/tasks/greet, a task folder of this checkout, which the server does not have`,
    );
    expect(await storedSources()).toEqual([]);
  });
});

describe('withoutCredentials', () => {
  it('drops an URL’s user and password and leaves scp-like remotes as they are', () => {
    expect(withoutCredentials('https://x-access-token:ghs_abc@github.com/acme/app.git')).toBe(
      'https://github.com/acme/app.git',
    );
    expect(withoutCredentials('git@github.com:acme/app.git')).toBe('git@github.com:acme/app.git');
    expect(withoutCredentials('/srv/git/app.git')).toBe('/srv/git/app.git');
  });
});
