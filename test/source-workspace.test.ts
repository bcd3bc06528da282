/**
 * `maestro run` on a repository's own code: the tasks start in the git repository containing the
 * manifest at HEAD (committed state), each in its own writable workspace, and nothing one task
 * writes there reaches another. `--ref` picks another commit, `--source` another repository;
 * outside git, the directory.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/index.ts';
import { layerWorkspace } from '../engine/workspace-layer.ts';
import { createSourceFetcher } from '../workspace/index.ts';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';

const WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ci, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
    - id: first
      run: |
        echo "first saw $(cat data.txt)"
        echo scratch > scratch.txt
        rm data.txt && echo changed-by-first > data.txt
        echo "sha=$MAESTRO_SOURCE_SHA" >> "$MAESTRO_OUTPUT"
      outputs: [sha]
    - id: second
      needs: [first]
      run: |
        test ! -e scratch.txt && echo "no scratch from first"
        echo "second saw $(cat data.txt)"
        sh tools/hello.sh
`;

async function cli(cwd: string, args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTty: false,
    env: { PATH: process.env.PATH, HOME: cwd, MAESTRO_PROVENANCE: 'off' },
    cwd,
  });
  return { code, stdout, stderr };
}

function logsOf(cwd: string, dataDir: string, out: string): Promise<string> {
  const runId = /run (r-\S+) /.exec(out)![1]!;
  return cli(cwd, ['runs', 'logs', runId, '--data-dir', dataDir]).then((r) => r.stdout);
}

function makeRepo(): { dir: string; commits: string[] } {
  const dir = tempDir('maestro-src-repo-');
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  const commit = (files: Record<string, string>, message: string) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    git(dir, ['add', '-A']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', message]);
    return git(dir, ['rev-parse', 'HEAD']);
  };
  const one = commit(
    {
      'data.txt': 'v1\n',
      'tools/hello.sh': 'echo hello from the repository\n',
      '.maestro/workflows/ci.yaml': WORKFLOW,
    },
    'one',
  );
  const two = commit({ 'data.txt': 'v2\n' }, 'two');
  return { dir, commits: [one, two] };
}

describe('maestro run uses the repository at HEAD', () => {
  it('gives each task its own workspace of the committed source', async () => {
    const { dir, commits } = makeRepo();
    writeFileSync(join(dir, 'data.txt'), 'uncommitted\n');
    const dataDir = tempDir('maestro-src-data-');
    const run = await cli(dir, ['run', '.maestro/workflows/ci.yaml', '--data-dir', dataDir]);
    expect(run.stdout).toContain('succeeded');
    expect(run.stderr).toContain(`source: ${dir} at ${commits[1]!.slice(0, 12)} (HEAD)`);
    expect(run.stderr).toContain('uncommitted changes are not included');
    const logs = await logsOf(dir, dataDir, run.stdout);
    expect(logs).toContain('first saw v2');
    // What `first` wrote and replaced in its workspace never reached `second`'s.
    expect(logs).toContain('no scratch from first');
    expect(logs).toContain('second saw v2');
    expect(logs).toContain('hello from the repository');
    expect(logs).toContain(`source: ${dir} at ${commits[1]}`);
    // Nor the shared export, nor the repository itself.
    const exported = join(dataDir, 'sources', 'exports', commits[1]!);
    expect(readFileSync(join(exported, 'data.txt'), 'utf8')).toBe('v2\n');
    expect(readFileSync(join(dir, 'data.txt'), 'utf8')).toBe('uncommitted\n');
  });

  it('takes --ref, and records the exact commit as MAESTRO_SOURCE_SHA', async () => {
    const { dir, commits } = makeRepo();
    const dataDir = tempDir('maestro-src-data-');
    const run = await cli(dir, [
      'run',
      '.maestro/workflows/ci.yaml',
      '--data-dir',
      dataDir,
      '--ref',
      'HEAD~1',
    ]);
    expect(run.stdout).toContain('succeeded');
    const logs = await logsOf(dir, dataDir, run.stdout);
    expect(logs).toContain('first saw v1');
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const shown = await cli(dir, ['runs', 'show', runId, '--data-dir', dataDir, '--format', 'json']);
    expect(JSON.parse(shown.stdout).source).toEqual({
      kind: 'git',
      repo: dir,
      commit: commits[0],
      ref: 'HEAD~1',
    });
    expect(JSON.parse(shown.stdout).tasks[0].attempts[0].outputs).toEqual({ sha: commits[0] });
    const bad = await cli(dir, ['run', '.maestro/workflows/ci.yaml', '--data-dir', dataDir, '--ref', 'nope']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('"nope" is not a commit');
  });

  it('takes --source: another repository than the one holding the manifest, at its HEAD', async () => {
    const manifests = makeRepo();
    const other = makeRepo();
    // A third commit only the other repository has, then an uncommitted change left out.
    writeFileSync(join(other.dir, 'data.txt'), 'v3 of the other\n');
    git(other.dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'three']);
    const third = git(other.dir, ['rev-parse', 'HEAD']);
    writeFileSync(join(other.dir, 'data.txt'), 'uncommitted in the other\n');
    const dataDir = tempDir('maestro-src-data-');
    const run = await cli(manifests.dir, [
      'run',
      '.maestro/workflows/ci.yaml',
      '--data-dir',
      dataDir,
      '--source',
      other.dir,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const shown = await cli(manifests.dir, [
      'runs',
      'show',
      runId,
      '--data-dir',
      dataDir,
      '--format',
      'json',
    ]);
    expect(JSON.parse(shown.stdout).source).toMatchObject({
      kind: 'git',
      repo: other.dir,
      commit: third,
    });
    expect(JSON.parse(shown.stdout).tasks[0].attempts[0].outputs).toEqual({ sha: third });
    expect(await logsOf(manifests.dir, dataDir, run.stdout)).toContain('first saw v3 of the other');
    expect(
      (
        await cli(manifests.dir, [
          'run',
          '.maestro/workflows/ci.yaml',
          '--data-dir',
          dataDir,
          '--source',
          join(other.dir, 'nope'),
        ])
      ).code,
    ).not.toBe(0);
  });

  it('outside a git repository uses the directory holding .maestro/, and says so', async () => {
    const dir = tempDir('maestro-src-plain-');
    mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
    mkdirSync(join(dir, 'tools'));
    writeFileSync(join(dir, '.maestro', 'workflows', 'ci.yaml'), WORKFLOW);
    writeFileSync(join(dir, 'data.txt'), 'plain\n');
    writeFileSync(join(dir, 'tools', 'hello.sh'), 'echo hello from the directory\n');
    const dataDir = join(dir, 'data');
    const run = await cli(dir, ['run', '.maestro/workflows/ci.yaml', '--data-dir', dataDir]);
    expect(run.stdout).toContain('succeeded');
    expect(run.stderr).toContain(`source: ${dir} (not a git repository`);
    const logs = await logsOf(dir, dataDir, run.stdout);
    expect(logs).toContain('first saw plain');
    expect(logs).toContain('hello from the directory');
  });
});

const bwrap = spawnSync('bwrap', ['--version']).status === 0;
const root = process.getuid?.() === 0;

/** Runs `script` as uid 1000 in its own user namespace with `ws` bound read-write, as the sandbox does. */
function inSandbox(ws: string, script: string): number | null {
  const ro = ['/usr', '/bin', '/lib', '/lib64'].flatMap((p) => ['--ro-bind', p, p]);
  return spawnSync(
    'bwrap',
    [...ro, '--unshare-user', '--uid', '1000', '--bind', ws, '/ws', '--chdir', '/ws', 'sh', '-c', script],
    {
      stdio: 'ignore',
    },
  ).status;
}

describe.skipIf(!bwrap || !root)(
  'hard-linked workspaces under a user namespace (needs root and bubblewrap)',
  () => {
    it('a sandboxed task can replace a file of its workspace but not write the shared inode', async () => {
      const { dir, commits } = makeRepo();
      const dataDir = tempDir('maestro-src-data-');
      const exported = await createSourceFetcher({ dataDir }).export({
        kind: 'git',
        repo: dir,
        commit: commits[1]!,
      });
      const ws = join(dataDir, 'ws-a');
      layerWorkspace(exported, ws, 'link');
      expect(inSandbox(ws, 'echo pwned >> data.txt')).not.toBe(0);
      expect(inSandbox(ws, 'chmod u+w data.txt')).not.toBe(0);
      expect(inSandbox(ws, 'rm data.txt && echo mine > data.txt && mkdir -p build && echo o > build/o')).toBe(
        0,
      );
      expect(readFileSync(join(ws, 'data.txt'), 'utf8')).toBe('mine\n');
      expect(readFileSync(join(exported, 'data.txt'), 'utf8')).toBe('v2\n');
    });

    it('the same write goes through when the export is owned by the caller (why a non-root engine copies)', () => {
      const dir = tempDir('maestro-src-owned-');
      writeFileSync(join(dir, 'data.txt'), 'v2\n', { mode: 0o444 });
      const ws = join(tempDir('maestro-src-owned-ws-'), 'ws');
      layerWorkspace(dir, ws, 'link');
      // Owned by us (root), the file is owned by the task's mapped uid: it may chmod it and write.
      expect(inSandbox(ws, 'chmod u+w data.txt && echo pwned >> data.txt')).toBe(0);
      expect(readFileSync(join(dir, 'data.txt'), 'utf8')).toContain('pwned');
    });
  },
);
