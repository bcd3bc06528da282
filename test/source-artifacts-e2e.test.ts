/**
 * End to end on the CLI: a real git repository whose workflow builds its own small C program with
 * `make`, keeps the binary as an artifact, and tests it in a second task that receives it under
 * $MAESTRO_ARTIFACTS/build/. The build's receipt names the binary's digest as a subject and the
 * test's receipt names it as a resolved dependency, with the source commit; the test's cache key
 * counts both, so a new commit that changes the program misses the cache.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';

const WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ci, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 }, timeout: 2m }
  tasks:
    - id: build
      run: make dist/hello
      artifacts: [dist/hello]
    - id: test
      needs: [build]
      cache: { enabled: true }
      run: make test BIN="$MAESTRO_ARTIFACTS/build/dist/hello"
`;

const MAKEFILE = [
  'VERSION := $(shell cat VERSION)',
  'dist/hello: src/hello.c VERSION',
  '\tmkdir -p dist',
  '\tcc -DVERSION=\'"$(VERSION)"\' -o $@ src/hello.c',
  'test:',
  '\ttest "$$($(BIN))" = "hello $(VERSION)"',
  '\t@echo "tested $(BIN): ok"',
  '',
].join('\n');

const PROGRAM = '#include <stdio.h>\nint main(void) { puts("hello " VERSION); return 0; }\n';

function commitAll(dir: string, files: Record<string, string>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

interface Statement {
  subject: { name: string; digest: { sha256: string } }[];
  predicate: {
    buildDefinition: {
      resolvedDependencies: { name: string; uri?: string; digest: Record<string, string> }[];
    };
  };
}

function statements(dataDir: string, runId: string): Map<string, Statement> {
  const store = openStore({ dataDir });
  try {
    const byTask = new Map<string, Statement>();
    for (const r of store.listReceipts(runId)) {
      const bundle = r.bundle as { dsseEnvelope: { payload: string } };
      byTask.set(r.taskId, JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')));
    }
    return byTask;
  } finally {
    store.close();
  }
}

async function run(dir: string, dataDir: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['run', '.maestro/workflows/ci.yaml', '--data-dir', dataDir], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTty: false,
    env: { PATH: process.env.PATH, HOME: dir },
    cwd: dir,
  });
  return { code, stdout, stderr, runId: /run (r-\S+) /.exec(stdout)?.[1] ?? '' };
}

describe('a repository that builds and tests its own program', () => {
  it('builds with make, hands the binary to the test task, and attests its digest', async () => {
    const dir = tempDir('maestro-e2e-repo-');
    git(dir, ['init', '-q', '--initial-branch', 'main']);
    const commit = commitAll(
      dir,
      {
        Makefile: MAKEFILE,
        VERSION: '1.2.3\n',
        'src/hello.c': PROGRAM,
        '.maestro/workflows/ci.yaml': WORKFLOW,
      },
      'a program and its workflow',
    );
    const dataDir = tempDir('maestro-e2e-data-');
    const first = await run(dir, dataDir);
    expect(first.code, first.stdout + first.stderr).toBe(0);

    const store = openStore({ dataDir });
    const [build] = store.listAttempts(first.runId, 'build');
    const logs = store.listLogs(first.runId, 'test').map((l) => l.text);
    store.close();
    expect(logs.some((l) => /tested .*\/build\/dist\/hello: ok/.test(l))).toBe(true);
    const binary = readFileSync(join(build!.artifactsDir, 'dist', 'hello'));
    const digest = createHash('sha256').update(binary).digest('hex');

    const receipts = statements(dataDir, first.runId);
    expect(receipts.get('build')!.subject).toEqual([
      { name: 'artifacts/dist/hello', digest: { sha256: digest } },
    ]);
    const deps = receipts.get('test')!.predicate.buildDefinition.resolvedDependencies;
    expect(deps).toContainEqual({ name: 'artifacts/build/dist/hello', digest: { sha256: digest } });
    expect(deps).toContainEqual({ name: 'source', uri: `git+file://${dir}`, digest: { gitCommit: commit } });

    // Same commit: the test task's key (source, received artifact digests) is unchanged: cached.
    const again = await run(dir, dataDir);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('test cached');
    // A new commit that changes the program: rebuilt, and the test runs again.
    commitAll(dir, { VERSION: '2.0.0\n' }, 'bump');
    const bumped = await run(dir, dataDir);
    expect(bumped.code, bumped.stdout).toBe(0);
    expect(bumped.stdout).not.toContain('test cached');
    expect(bumped.stdout).toContain('test succeeded');
  });
});
