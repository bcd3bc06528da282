/**
 * examples/end-to-end, as its README tells a user to run it: the folder copied out as a repository
 * of its own, its `shop` catalog made by make-catalog.sh, then `maestro validate`, `maestro tasks
 * test` and `maestro run` (local runner, SQLite store, receipts on), offline. What it proves: the
 * committed tasks.lock is what `maestro tasks lock` writes from the example's catalog folder (the
 * same commit and digest; the URL is where the catalog was put); the repository task (TypeScript
 * SDK, its examples passing), the locked catalog task and the three reference tasks
 * (schema-validate, wait, db on SQLite) run with their outputs and artifacts flowing and a param
 * reaching them; and each attempt's receipt names the code that ran.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';

const example = join(import.meta.dirname, '..', 'examples', 'end-to-end');
const committedLock = readFileSync(join(example, '.maestro', 'tasks.lock'), 'utf8');

interface ShownRun {
  id: string;
  status: string;
  tasks: { id: string; state: string; reason: string; attempts: { outputs: Record<string, string> }[] }[];
}
interface Lock {
  catalogs: Record<string, { url: string; ref: string; commit: string }>;
  tasks: Record<string, { commit: string; digest: string }>;
}

const commit = (dir: string) => {
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
};

/** The example as a repository of its own, and its catalog made where `catalogUrl` says. */
function makeRepository(): { dir: string; catalog: string; catalogCommit: string } {
  const root = tempDir('maestro-end-to-end-');
  const dir = join(root, 'shop');
  cpSync(example, dir, { recursive: true });
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  const catalog = join(root, 'shop-catalog.git');
  const made = execFileSync('sh', [join(dir, 'make-catalog.sh'), catalog], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: root },
  });
  // Where this user put the catalog: the one line of catalogs.yaml a user changes.
  const catalogs = join(dir, '.maestro', 'catalogs.yaml');
  writeFileSync(
    catalogs,
    readFileSync(catalogs, 'utf8').replace('/tmp/maestro-end-to-end-catalog.git', catalog),
  );
  return { dir, catalog, catalogCommit: made.trim() };
}

const env = (dir: string) => ({ PATH: process.env.PATH, HOME: dir });

async function run(dir: string, dataDir: string, params: string[]): Promise<ShownRun & { log: string }> {
  const args = ['run', '.maestro/workflows/order-intake.yaml', '--data-dir', dataDir];
  const ran = await runCaptured([...args, ...params.flatMap((p) => ['--param', p])], dir, env(dir));
  expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);
  const id = /run (r-\S+) /.exec(ran.stdout)![1]!;
  const shown = await runCaptured(
    ['runs', 'show', id, '--data-dir', dataDir, '--format', 'json'],
    dir,
    env(dir),
  );
  return { ...(JSON.parse(shown.stdout) as ShownRun), id, log: ran.stdout };
}

const outputs = (run: ShownRun, id: string) => run.tasks.find((t) => t.id === id)!.attempts.at(-1)!.outputs;

/** Each attempt's receipt (`<task>-<attempt>.sigstore.json`): the task-code digest it names. */
async function taskCodes(dir: string, dataDir: string, runId: string): Promise<Record<string, string>> {
  const out = join(dir, '..', `receipts-${runId}`);
  const listed = await runCaptured(['receipts', runId, '--data-dir', dataDir, '-o', out], dir, env(dir));
  expect(listed.code, listed.stderr).toBe(0);
  const codes: Record<string, string> = {};
  for (const file of readdirSync(out).filter((f) => /^[a-z]+-1\.sigstore\.json$/.test(f))) {
    const bundle = JSON.parse(readFileSync(join(out, file), 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicate: {
        buildDefinition: { resolvedDependencies: { name: string; digest: { sha256?: string } }[] };
      };
    };
    const code = statement.predicate.buildDefinition.resolvedDependencies.find((d) => d.name === 'task-code');
    codes[file.replace('-1.sigstore.json', '')] = `sha256:${code!.digest.sha256}`;
  }
  return codes;
}

describe('examples/end-to-end', () => {
  it('the committed lock is what locking the example’s catalog writes, but for where it lives', async () => {
    const { dir, catalog, catalogCommit } = makeRepository();
    const committed = JSON.parse(committedLock) as Lock;
    // make-catalog.sh's fixed author, committer and date: the same commit on every machine.
    expect(catalogCommit).toBe(committed.catalogs.shop!.commit);
    const locked = await runCaptured(['tasks', 'lock', '--data-dir', join(dir, '..', 'data')], dir, env(dir));
    expect(locked.code, locked.stderr).toBe(0);
    const relocked = readFileSync(join(dir, '.maestro', 'tasks.lock'), 'utf8');
    expect(relocked).toBe(committedLock.replace('/tmp/maestro-end-to-end-catalog.git', catalog));
  }, 60_000);

  it('runs: the repository task, the locked catalog task and three reference tasks, with receipts', async () => {
    const { dir, catalog } = makeRepository();
    const lockPath = join(dir, '.maestro', 'tasks.lock');
    writeFileSync(lockPath, committedLock.replace('/tmp/maestro-end-to-end-catalog.git', catalog));
    commit(dir);
    const validated = await runCaptured(['validate', '.'], dir, env(dir));
    expect(validated.code, validated.stdout + validated.stderr).toBe(0);
    // The repository task's own examples (its documentation and unit tests).
    const tested = await runCaptured(
      ['tasks', 'test', '.maestro/tasks/order-lines', '--format', 'json'],
      dir,
      env(dir),
    );
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(JSON.parse(tested.stdout)).toMatchObject({ task: 'order-lines', passed: 2, failed: 0 });

    const dataDir = join(dir, '..', 'data');
    const ran = await run(dir, dataDir, []);
    expect(ran.status).toBe('succeeded');
    expect(outputs(ran, 'order')).toEqual({ subtotalCents: '3097', lineCount: '2' });
    expect(outputs(ran, 'check')).toMatchObject({ valid: 'true', errors: '0' });
    expect(outputs(ran, 'tax')).toEqual({ taxCents: '619', totalCents: '3716' });
    expect(ran.tasks.find((t) => t.id === 'hold')!.state).toBe('succeeded');
    expect(outputs(ran, 'hold')['waitedMs']).toMatch(/^[0-9]+$/);
    expect(outputs(ran, 'record')).toMatchObject({ rowCount: '1', affected: '1', skipped: 'false' });
    expect(JSON.parse(outputs(ran, 'record')['rows']!)).toEqual([{ id: 'o-1001', total_cents: 3716 }]);
    expect(ran.log).toContain('order o-1001: 2 line(s), subtotal 3097 cents');
    expect(ran.log).toContain('tax at 20% on 3097 cents: 619 cents');

    // Each receipt names the code that ran: the catalog task's is the digest the lock pins, the
    // repository task's the digest its compiled plan carries.
    const compiled = await runCaptured(['compile', '.maestro/workflows/order-intake.yaml'], dir, env(dir));
    const plan = JSON.parse(compiled.stdout) as { tasks: { id: string; action: { digest?: string } }[] };
    const codes = await taskCodes(dir, dataDir, ran.id);
    expect(Object.keys(codes).sort()).toEqual(['check', 'order', 'record', 'tax']);
    expect(codes['tax']).toBe((JSON.parse(committedLock) as Lock).tasks['shop/tax']!.digest);
    expect(codes['order']).toBe(plan.tasks.find((t) => t.id === 'order')!.action.digest);

    // A param reaches the repository task and the database.
    const other = await run(dir, dataDir, ['orderId=o-1002']);
    expect(JSON.parse(outputs(other, 'record')['rows']!)).toEqual([{ id: 'o-1002', total_cents: 3716 }]);
  }, 120_000);
});
