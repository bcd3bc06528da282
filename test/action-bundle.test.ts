import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import type { Plan } from '../core/index.ts';
import { captureIo } from './cli-helpers.ts';
import { actionBundle as bundle, repoRoot as root, runActionStep as runStep } from './helpers/action-step.ts';

const broken = 'examples/quickstart/broken/.maestro/workflows/broken.yaml';
const run = promisify(execFile);

async function planOf(file: string): Promise<Plan> {
  const io = captureIo(root);
  expect(await runCli(['compile', file], io)).toBe(0);
  return JSON.parse(io.out()) as Plan;
}

describe('action/dist (the committed bundle)', () => {
  it('is up to date with the sources (rebuild: npm run build:action)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'maestro-build-')), 'index.js');
    await run(process.execPath, ['scripts/build-action.ts', '--outfile', out], { cwd: root });
    const fresh = readFileSync(out, 'utf8');
    const committed = readFileSync(bundle, 'utf8');
    expect(
      committed === fresh,
      'action/dist/index.js is stale: run `npm run build:action` and commit it',
    ).toBe(true);
  });

  it('annotates each problem of a broken manifest on its line and fails the step', async () => {
    const step = await runStep({ path: 'examples/quickstart/broken', mode: 'validate', format: 'text' });
    expect(step.code).toBe(1);
    const lines = readFileSync(join(root, broken), 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('greeet')) + 1;
    const col = lines[line - 1]!.indexOf('greeet') + 1;
    const file = broken.replace(/\./g, '\\.');
    expect(step.stdout).toMatch(
      new RegExp(
        `^::error title=MS2002%3A [^\\n]*,file=${file},line=${line},endLine=${line},col=${col},endColumn=${col + 6}::`,
        'm',
      ),
    );
    expect(step.stdout.match(/^::error title=MS\d{4}/gm)).toHaveLength(4);
    expect(step.stdout).toMatch(/^::error::1 of 1 manifest\(s\) have errors \(4 error\(s\)\)/m);
    expect(step.outputs).toMatchObject({ valid: 'false', errors: '4', warnings: '0', files: '1' });
    expect(step.summary).toContain(`| \`${broken}\` |`);
    expect(step.summary).toContain('❌ invalid');
    expect(step.summary).toMatch(/\*\*error\*\* `MS2002` line \d+/);
  });

  it('passes the valid examples, with each DAG as mermaid and its digest in the summary', async () => {
    const paths = ['examples/ci-build-test-deploy', 'examples/data-pipeline', 'examples/quickstart/.maestro'];
    const step = await runStep({ path: paths.join('\n'), mode: 'validate', format: 'json' });
    expect(step.code).toBe(0);
    expect(step.stdout).not.toMatch(/^::error/m);
    expect(step.outputs).toMatchObject({ valid: 'true', errors: '0', files: '3' });
    const report = JSON.parse(
      step.stdout.slice(step.stdout.indexOf('{'), step.stdout.lastIndexOf('}') + 1),
    ) as {
      files: Array<{ valid: boolean }>;
    };
    expect(report.files.map((f) => f.valid)).toEqual([true, true, true]);
    expect(step.summary.match(/```mermaid\nflowchart/g)).toHaveLength(3);
    // GITHUB_ACTIONS=true: the summary says what local tasks run in on this job (bwrap works here).
    expect(step.summary).toContain('### Sandbox');
    expect(step.summary).toContain('Local runner: tasks on this job run in the bubblewrap sandbox');
    for (const file of [
      'examples/ci-build-test-deploy/.maestro/workflows/build-test-deploy.yaml',
      'examples/data-pipeline/.maestro/workflows/nightly-etl.yaml',
      'examples/quickstart/.maestro/workflows/hello.yaml',
    ]) {
      const plan = await planOf(file);
      expect(step.summary).toContain(`Plan digest: \`${plan.digest}\``);
      expect(step.summary).toContain(
        `| \`${file}\` | Workflow ${plan.workflow.namespace}/${plan.workflow.name} | ✅ valid | ${plan.tasks.length} |`,
      );
    }
  });

  it('fails with a clear message on a bad input or a missing path', async () => {
    const mode = await runStep({ path: 'examples', mode: 'deploy' });
    expect(mode.code).toBe(1);
    expect(mode.stdout).toContain(
      '::error::input "mode" must be one of: validate, run, verify (got "deploy")',
    );
    const missing = await runStep({ path: 'no/such/dir' });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('::error::no such file or directory: no/such/dir');
    expect(missing.outputs).toEqual({});
  });
});
