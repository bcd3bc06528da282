// `maestro policy build|test|eval` and `maestro audit export|verify`, run in-process through the
// real CLI program with real opa, a real manifest and a real SQLite data dir.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../cli/index.ts';
import { createOpaPolicyGate, openDecisionLog, readDefaultBundle } from '../policy/index.ts';
import { counterIds, fixedClock, requireOpa, taskInput } from './policy-support.ts';

let repo: string;

async function maestro(args: string[], cwd = repo) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTty: false,
    env: { HOME: process.env.HOME, PATH: process.env.PATH, MAESTRO_OPA: requireOpa() },
    cwd,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

function write(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

beforeAll(() => {
  requireOpa();
  repo = mkdtempSync(join(tmpdir(), 'policy-cli-test-'));
  write(join(repo, '.maestro/policy/config.json'), '{ "allowed_hosts": ["data.example.org"] }\n');
  write(
    join(repo, '.maestro/policy/hello.rego'),
    'package maestro.repo\n\ndeny contains "no hello tasks here" if input.task.id == "hello"\n',
  );
  write(
    join(repo, 'wf.yaml'),
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: nightly, namespace: data }
spec:
  tasks:
    - id: hello
      run: echo hi
    - id: other
      run: echo there
`,
  );
});

describe('maestro policy', () => {
  it('build reports the bundle digest, and eval explains decisions with it', async () => {
    const built = await maestro(['policy', 'build', '--format', 'json']);
    expect(built.code, built.stderr).toBe(0);
    const report = JSON.parse(built.stdout) as { bundle: string; digest: string; rego: string[] };
    expect(report.rego).toContain('repo/hello.rego');
    expect(report.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const denied = await maestro(['policy', 'eval', '--task', 'hello', '--bundle', report.bundle, 'wf.yaml']);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('decision: DENY');
    expect(denied.stdout).toContain('  - no hello tasks here');
    expect(denied.stdout).toContain(report.digest);

    const allowed = await maestro([
      'policy',
      'eval',
      '--task',
      'other',
      '--bundle',
      report.bundle,
      '--format',
      'json',
      'wf.yaml',
    ]);
    expect(allowed.code).toBe(0);
    const explained = JSON.parse(allowed.stdout);
    expect(explained.result).toMatchObject({ allow: true, reasons: [], unavailable: false });
    expect(explained.input.task).toMatchObject({ id: 'other', kind: 'shell' });

    // Without --bundle, eval uses the default bundle, where the repository rule does not exist.
    expect((await maestro(['policy', 'eval', '--task', 'hello', 'wf.yaml'])).code).toBe(0);
  });

  it('eval --param judges the host the param names, as the run will (not "hosts unknown")', async () => {
    write(
      join(repo, 'pull.yaml'),
      `apiVersion: maestro/v1
kind: Workflow
metadata: { name: pull, namespace: data }
spec:
  params:
    url: { type: string }
  tasks:
    - id: fetch
      uses: tasks/http@1
      with: { url: "\${params.url}" }
`,
    );
    const built = await maestro(['policy', 'build', '--format', 'json']);
    const bundle = (JSON.parse(built.stdout) as { bundle: string }).bundle;
    const evalWith = (url: string) =>
      maestro([
        'policy',
        'eval',
        '--task',
        'fetch',
        '--bundle',
        bundle,
        '--param',
        `url=${url}`,
        'pull.yaml',
      ]);
    const allowed = await evalWith('https://data.example.org/daily.csv');
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('decision: ALLOW');
    const denied = await evalWith('https://evil.example/x');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('task fetch contacts host evil.example');
    const missing = await maestro(['policy', 'eval', '--task', 'fetch', '--bundle', bundle, 'pull.yaml']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('needs the parameter url');
  });

  it('eval names the tasks when the one asked for does not exist', async () => {
    const result = await maestro(['policy', 'eval', '--task', 'nope', 'wf.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no task "nope"');
    expect(result.stderr).toContain('hello, other');
  });

  it('test runs the default and repository Rego tests and fails on a failing one', async () => {
    const passing = await maestro(['policy', 'test']);
    expect(passing.code, passing.stdout).toBe(0);
    expect(passing.stdout).toMatch(/PASS: \d+\/\d+/);
    write(
      join(repo, '.maestro/policy/hello_test.rego'),
      'package maestro.repo_test\n\ntest_nope if {\n\tfalse\n}\n',
    );
    const failing = await maestro(['policy', 'test']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('test_nope: FAIL');
  });
});

describe('maestro audit', () => {
  it('exports the live log as JSON lines and verifies it, then names a tampered line', async () => {
    const dataDir = join(repo, 'data');
    mkdirSync(dataDir, { recursive: true });
    // Where a data dir kept it before it moved into maestro.db: audit still reads it there.
    const log = openDecisionLog(join(dataDir, 'decisions.db'));
    const gate = createOpaPolicyGate({
      bundle: readDefaultBundle(),
      log,
      clock: fixedClock,
      ids: counterIds(),
    });
    for (let i = 0; i < 4; i++)
      await gate.decide(taskInput({ privileged: i === 2 }), { runId: 'r1', taskId: 'build', attempt: i + 1 });
    await log.close();

    const live = await maestro(['audit', 'verify', '--data-dir', dataDir]);
    expect(live.code).toBe(0);
    expect(live.stdout).toContain('4 entries, chain intact');

    const file = join(repo, 'audit.jsonl');
    expect((await maestro(['audit', 'export', '--data-dir', dataDir, '--out', file])).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[2]!)).toMatchObject({ decisionId: 'd-3', allow: false, attempt: 3 });
    expect((await maestro(['audit', 'verify', file])).code).toBe(0);

    lines[2] = lines[2]!.replace('"allow":false', '"allow":true');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const tampered = await maestro(['audit', 'verify', file]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('entry 2 (d-3): edited');
  });

  it('end to end: `maestro run` is stopped by the default policy, and the decision is in the audited log', async () => {
    const dataDir = join(repo, 'run-data');
    write(
      join(repo, 'denied.yaml'),
      'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: demo, namespace: data }\nspec:\n  policy: { license: WTFPL }\n  tasks:\n    - id: hello\n      run: echo hi\n',
    );
    const run = await maestro(['run', 'denied.yaml', '--data-dir', dataDir]);
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain('blocked_by_policy');
    const exported = await maestro(['audit', 'export', '--data-dir', dataDir]);
    const [entry, ...rest] = exported.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rest).toHaveLength(0);
    expect(entry).toMatchObject({ taskId: 'hello', attempt: 1, allow: false });
    expect(entry.reasons[0]).toContain('license "WTFPL" is not on the allow-list');
    expect((await maestro(['audit', 'verify', '--data-dir', dataDir])).stdout).toContain(
      '1 entries, chain intact',
    );
  });

  it('says which data dir has no database', async () => {
    const result = await maestro(['audit', 'export', '--data-dir', join(repo, 'empty')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no policy decision log in');
  });
});
