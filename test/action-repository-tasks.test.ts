/**
 * The bundled Action over a user's repository with tasks of its own: examples/end-to-end copied
 * out as a checkout (a repository task on the TypeScript SDK, `uses: ./.maestro/tasks/order-lines`,
 * and a catalog task pinned in .maestro/tasks.lock, `uses: shop/tax@1`). Mode `validate` must
 * agree with `maestro validate` in the same checkout: clean, with the same plan digest as
 * `maestro compile` (the repository task's digest covers the SDK, which the bundle does not hold).
 * A stale or missing lock is still its diagnostic, annotated at the `uses:` line.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { git } from './github-standin/index.ts';
import { sdkDigest } from '../tasks/index.ts';
import { actionBundle, runActionStep } from './helpers/action-step.ts';
import { tempDir } from './helpers/engine-fixtures.ts';

const example = join(import.meta.dirname, '..', 'examples', 'end-to-end');
const workflow = '.maestro/workflows/order-intake.yaml';

/** The example as actions/checkout leaves a repository: a git work tree at a commit. */
function checkout(): string {
  const dir = join(tempDir('maestro-action-tasks-'), 'shop');
  cpSync(example, dir, { recursive: true });
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
  return dir;
}

/** `maestro validate . --format json` in `dir`: each diagnostic as `code@line`. */
async function cliVerdict(dir: string): Promise<string[]> {
  const validated = await runCaptured(['validate', '.', '--format', 'json'], dir, {
    PATH: process.env.PATH,
    HOME: dir,
  });
  const report = JSON.parse(validated.stdout) as {
    files: { diagnostics: { code: string; line: number }[] }[];
  };
  return report.files.flatMap((f) => f.diagnostics.map((d) => `${d.code}@${d.line}`));
}

/** The Action's error annotations as `code@line`. */
const annotated = (stdout: string) =>
  [...stdout.matchAll(/^::error title=(MS\d{4})%3A [^\n]*?,line=(\d+),/gm)].map((m) => `${m[1]}@${m[2]}`);

/** The 1-based line and column of `text` in the workflow. */
function positionOf(dir: string, text: string): { line: number; col: number } {
  const lines = readFileSync(join(dir, workflow), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(text));
  return { line: index + 1, col: lines[index]!.indexOf(text) + 1 };
}

describe('the Action over a repository with its own tasks and a locked catalog', () => {
  it('validates clean, with the plan digest `maestro compile` gives in the same checkout', async () => {
    const dir = checkout();
    const step = await runActionStep({ path: '.', mode: 'validate', format: 'text' }, { workspace: dir });
    expect(step.stdout).not.toMatch(/^::(error|warning)/m);
    expect(step.code, step.stdout).toBe(0);
    expect(step.outputs).toMatchObject({ valid: 'true', errors: '0', warnings: '0', files: '1' });
    const compiled = await runCaptured(['compile', workflow], dir, { PATH: process.env.PATH, HOME: dir });
    expect(compiled.code, compiled.stderr).toBe(0);
    const plan = JSON.parse(compiled.stdout) as {
      digest: string;
      tasks: { id: string; action: { digest?: string } }[];
    };
    // The repository task imports @summit-maestro/sdk: its digest, and so the plan's, covers sdk/.
    expect(plan.tasks.find((t) => t.id === 'order')!.action.digest).toMatch(/^sha256:/);
    expect(step.summary).toContain(`Plan digest: \`${plan.digest}\``);
  }, 60_000);

  it('carries the digest of sdk/ as it is now (the bundle has no sdk/ to digest)', () => {
    const digest = sdkDigest();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(actionBundle, 'utf8')).toContain(JSON.stringify(digest));
  });

  it('annotates a stale lock at the catalog task’s uses: line', async () => {
    const dir = checkout();
    const catalogs = join(dir, '.maestro', 'catalogs.yaml');
    writeFileSync(catalogs, readFileSync(catalogs, 'utf8').replace('ref: v1', 'ref: v2'));
    const step = await runActionStep({ path: '.', mode: 'validate' }, { workspace: dir });
    expect(step.code).toBe(1);
    const { line, col } = positionOf(dir, 'shop/tax@1');
    const file = workflow.replace(/\./g, '\\.');
    expect(step.stdout).toMatch(
      new RegExp(
        `^::error title=MS4013%3A [^\\n]*,file=${file},line=${line},endLine=${line},col=${col},`,
        'm',
      ),
    );
    // And what follows from it (tax's outputs are then unknown), as `maestro validate` says.
    expect(annotated(step.stdout)).toEqual(await cliVerdict(dir));
    expect(annotated(step.stdout)[0]).toBe(`MS4013@${line}`);
    expect(step.outputs).toMatchObject({ valid: 'false' });
  }, 60_000);

  it('annotates a missing lock at the catalog task’s uses: line', async () => {
    const dir = checkout();
    rmSync(join(dir, '.maestro', 'tasks.lock'));
    const step = await runActionStep({ path: '.', mode: 'validate' }, { workspace: dir });
    expect(step.code).toBe(1);
    const { line } = positionOf(dir, 'shop/tax@1');
    expect(step.stdout).toMatch(
      new RegExp(
        `^::error title=MS4012%3A [^\\n]*,file=${workflow.replace(/\./g, '\\.')},line=${line},`,
        'm',
      ),
    );
    expect(annotated(step.stdout)).toEqual(await cliVerdict(dir));
  }, 60_000);
});
