// The package as a user gets it: `npm pack` (which builds dist/ through `prepack`), installed with
// `npm install <tarball>` into an empty directory, and its `maestro` run from there on Node 24.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFirstEnv as env, packTarball } from './helpers/pack-tarball.ts';

const repo = join(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
let work: string;
let maestro: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'maestro-pack-'));
  const npm = (args: string[], cwd: string) =>
    execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tarball = await packTarball(work);
  const project = join(work, 'project');
  cpSync(join(repo, 'examples', 'quickstart'), join(project, 'examples'), { recursive: true });
  npm(['init', '-y'], project);
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  maestro = join(project, 'node_modules', '.bin', 'maestro');
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(maestro, args, {
    cwd: join(work, 'project'),
    env: { ...env, MAESTRO_DATA_DIR: join(work, 'data') },
    encoding: 'utf8',
  });
}

describe('the packed tarball, installed in an empty directory', () => {
  it('ships JavaScript only, no TypeScript that Node would refuse under node_modules', () => {
    const installed = join(work, 'project', 'node_modules', 'summit-maestro');
    const files = readdirSync(installed, { recursive: true, encoding: 'utf8' });
    expect(files).toContain(join('dist', 'bin', 'maestro.js'));
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files.some((f) => f.includes('.test.'))).toBe(false);
  });

  it('reports the version of its package.json', () => {
    const result = run(['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(version);
  });

  it('validates a manifest: a valid one passes, a broken one fails with its errors', () => {
    const ok = run(['validate', 'examples/.maestro/workflows/hello.yaml']);
    expect(ok.status, ok.stderr).toBe(0);
    const broken = run(['validate', 'examples/broken']);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/4 errors/);
  });

  it('runs the quickstart workflow to success on the embedded defaults', () => {
    const result = run(['run', 'examples/.maestro/workflows/hello.yaml']);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/succeeded/);
    const listed = run(['runs', 'list', '--format', 'json']);
    const runs = JSON.parse(listed.stdout) as { status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['succeeded']);
  });
});
