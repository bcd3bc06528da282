/**
 * The two blueprints (blueprints/etl, blueprints/ci-cd) compile from every instantiation in
 * examples/blueprints, and run with `maestro run` in a real git repository made from that
 * example: ETL end to end against `maestro sig-dev-server` (what it received read back, a re-run
 * of the partition storing nothing twice); CI/CD's build and test stages (`deploy=false`). CI/CD
 * end to end (image, deploy, promotion, health check, rollback) is test/blueprints/ci-cd-e2e.test.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileManifest } from '../../compiler/index.ts';
import { loadBuiltinCatalog } from '../../tasks/index.ts';
import { runCaptured } from '../cli-helpers.ts';
import { repoRoot } from '../helpers/action-step.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';

const catalog = await loadBuiltinCatalog();
const example = join(repoRoot, 'examples', 'blueprints');
const workflows = readdirSync(join(example, '.maestro', 'workflows')).sort();

/** The example as a committed git repository (maestro run runs the committed HEAD). */
function exampleRepository(): string {
  const dir = tempDir('maestro-blueprints-');
  cpSync(example, dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: dir,
      stdio: 'pipe',
    });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'example');
  return dir;
}

describe('every blueprint compiles', () => {
  it.each(workflows)('examples/blueprints/.maestro/workflows/%s', (file) => {
    const path = join(example, '.maestro', 'workflows', file);
    const result = compileManifest(readFileSync(path, 'utf8'), { file: path, catalog });
    expect(result.diagnostics).toEqual([]);
    const name = file === 'orders-etl.yaml' ? 'etl' : 'ci-cd';
    const entry = catalog.blueprints!.versions(name)[0]!;
    expect(result.plan!.blueprint).toEqual({
      uses: `blueprints/${name}@1`,
      name,
      version: entry.version,
      digest: entry.digest,
    });
  });

  it('etl’s contract stage checks against SIG’s ingest contract as it is (v3 Record), not a stale copy', () => {
    const contract = JSON.parse(
      readFileSync(join(repoRoot, 'schemas', 'sig', 'ingest', 'v3', 'ingest.schema.json'), 'utf8'),
    );
    const stage = (
      catalog.blueprints!.versions('etl')[0]!.workflow.tasks as Array<{
        id: string;
        with?: { schema?: { items?: unknown } };
      }>
    ).find((t) => t.id === 'contract')!;
    expect(stage.with!.schema!.items).toEqual(contract.$defs.Record);
  });

  it('each environment of ci-cd has its own approvals and policy, and its runbooks exist', () => {
    const plans = Object.fromEntries(
      ['dev', 'staging', 'prod'].map((env) => {
        const path = join(example, '.maestro', 'workflows', `shop-${env}.yaml`);
        return [env, compileManifest(readFileSync(path, 'utf8'), { catalog }).plan!];
      }),
    );
    expect(plans.dev!.approvals).toBeUndefined();
    expect(plans.staging!.approvals).toEqual({ required: 1, from: [] });
    expect(plans.prod!.approvals).toEqual({ required: 2, from: ['codeowners'] });
    expect(plans.prod!.policy).toMatchObject({ authority: 'team:release' });
    expect(plans.prod!.tasks.find((t) => t.id === 'deploy')!.env.NAMESPACE).toBe('shop-prod');
    const runbooks = catalog.blueprints!.versions('ci-cd')[0]!.runbooks!;
    expect(Object.keys(runbooks).sort()).toEqual(['promote', 'rollback']);
    for (const file of Object.values(runbooks)) expect(existsSync(join(repoRoot, file)), file).toBe(true);
  });
});

let sig: ChildProcess;
let sigUrl: string;
beforeAll(async () => {
  sig = spawn(process.execPath, ['bin/maestro.ts', 'sig-dev-server', '--port', '0'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
  });
  let out = '';
  sig.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  while (!out.includes('\n')) await once(sig.stdout!, 'data');
  sigUrl = out.split('\n')[0]!;
}, 60_000);
afterAll(async () => {
  sig?.kill('SIGTERM');
  if (sig && sig.exitCode === null) await once(sig, 'exit');
});

interface Received {
  records: Array<{ record: { id: string; labels?: Record<string, string>; producer?: { name: string } } }>;
  batches: Array<{ idempotencyKey: string; answer: { replayed?: boolean } }>;
  violations: unknown[];
}

describe('blueprints run end to end', () => {
  it('etl: ingest -> validate -> enrich -> SIG contract check -> hand-off, against maestro sig-dev-server; a re-run stores nothing twice', async () => {
    const dir = exampleRepository();
    const env = { PATH: process.env.PATH, HOME: dir, MAESTRO_SECRET_SIG_INGEST_URL: sigUrl };
    const args = [
      'run',
      '.maestro/workflows/orders-etl.yaml',
      '--data-dir',
      join(dir, '.data'),
      '--param',
      'partition=2026-02-01',
    ];
    const run = await runCaptured(args, dir, env);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const first = (await (await fetch(`${sigUrl}/_dev/received`)).json()) as Received;
    expect(first.violations).toEqual([]);
    const orders = first.records.filter((r) => r.record.id.startsWith('order-'));
    expect(orders.map((r) => r.record.id).sort()).toEqual(['order-1001', 'order-1002', 'order-1003']);
    expect(orders[0]!.record).toMatchObject({
      labels: { dataset: 'orders' },
      producer: { name: 'maestro/etl/orders' },
    });
    expect(first.batches.map((b) => b.idempotencyKey)).toContain('etl.orders.2026-02-01.0');
    const again = await runCaptured(args, dir, env);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    const second = (await (await fetch(`${sigUrl}/_dev/received`)).json()) as Received;
    expect(second.records.filter((r) => r.record.id.startsWith('order-'))).toHaveLength(3);
  }, 240_000);

  it('etl: a record that breaks SIG’s contract stops the run at the contract stage, before the hand-off', async () => {
    const dir = exampleRepository();
    const broken = JSON.parse(readFileSync(join(dir, 'data', 'orders.json'), 'utf8')) as Array<
      Record<string, unknown>
    >;
    broken[1]!.kind = 'purchase'; // the dataset's schema allows it; SIG's ingest contract does not
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'data', 'orders.json'), JSON.stringify(broken));
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'broken'], {
      cwd: dir,
    });
    const before = ((await (await fetch(`${sigUrl}/_dev/received`)).json()) as Received).batches.length;
    const run = await runCaptured(
      [
        'run',
        '.maestro/workflows/orders-etl.yaml',
        '--data-dir',
        join(dir, '.data'),
        '--param',
        'partition=2026-02-02',
      ],
      dir,
      { PATH: process.env.PATH, HOME: dir, MAESTRO_SECRET_SIG_INGEST_URL: sigUrl },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/contract\s.*failed/);
    expect(((await (await fetch(`${sigUrl}/_dev/received`)).json()) as Received).batches.length).toBe(before);
  }, 240_000);

  it('ci-cd: the build and test stages run (deploy=false); image, deploy, verify, health and rollback are skipped', async () => {
    const dir = exampleRepository();
    const data = join(dir, '.data');
    const run = await runCaptured(
      ['run', '.maestro/workflows/shop-dev.yaml', '--data-dir', data, '--param', 'deploy=false'],
      dir,
      {
        PATH: process.env.PATH,
        HOME: dir,
      },
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const list = await runCaptured(['runs', 'list', '--data-dir', data, '--format', 'json'], dir, {
      PATH: process.env.PATH,
      HOME: dir,
    });
    const [summary] = JSON.parse(list.stdout) as Array<{ id: string }>;
    const show = await runCaptured(
      ['runs', 'show', summary!.id, '--data-dir', data, '--format', 'json'],
      dir,
      { PATH: process.env.PATH, HOME: dir },
    );
    const shown = JSON.parse(show.stdout) as { tasks: Array<{ id: string; state: string }> };
    expect(Object.fromEntries(shown.tasks.map((t) => [t.id, t.state]))).toEqual({
      build: 'succeeded',
      test: 'succeeded',
      image: 'skipped',
      deploy: 'skipped',
      verify: 'skipped',
      health: 'skipped',
      rollback: 'skipped',
    });
  }, 240_000);
});
