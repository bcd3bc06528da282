/**
 * The contenders of bench/run, each a function that runs a scenario's graph once and returns its
 * wall time (seconds) and, for a separate process, its peak RSS (MiB, from `/usr/bin/time`).
 * Setup and cleanup (data dirs, workspaces) are not timed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  attemptLayout,
  baseEnvFrom,
  bwrapArgs,
  createLocalRunner,
  defaultReadOnlyPaths,
} from '../../runners/index.ts';
import { toManifest, toNinja, type BenchTask } from './graph.ts';
import { driveGraph } from './runner-driver.ts';

export const repo = join(import.meta.dirname, '..', '..');
export const node = join(repo, 'node_modules', '.bin', 'node');
export const N = availableParallelism();

export interface Sample {
  seconds: number;
  peakMiB?: number;
}
export type Contender = (dir: string, tasks: BenchTask[]) => Promise<Sample>;

/** Runs `command` under `/usr/bin/time` (wall from here, peak RSS from its report). */
function timedProcess(command: string, argv: string[], cwd: string): Sample {
  const report = join(cwd, `.time-${process.pid}`);
  const t0 = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', report, command, ...argv], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `${command} ${argv.join(' ')} exited ${result.status}: ${(result.stderr || result.stdout).slice(-2000)}`,
    );
  const kib = Number(readFileSync(report, 'utf8').trim().split('\n').at(-1));
  rmSync(report, { force: true });
  return { seconds, peakMiB: kib / 1024 };
}

/** What the sandboxed peer needs of a checkout's runners/ (this one's, or `--base`'s). */
export interface SandboxModule {
  attemptLayout: typeof attemptLayout;
  bwrapArgs: typeof bwrapArgs;
  defaultReadOnlyPaths: typeof defaultReadOnlyPaths;
}
const thisCheckout: SandboxModule = { attemptLayout, bwrapArgs, defaultReadOnlyPaths };

/** Writes the scenario's files: build.ninja, build-bwrap.ninja, manifest.yaml, the runners configs. */
export function prepareScenario(dir: string, name: string, tasks: BenchTask[], base?: SandboxModule): void {
  writeFileSync(join(dir, 'build.ninja'), toNinja(tasks));
  // Maestro's files in a folder of their own: it is the run's source, layered into every
  // workspace, so it must not hold the peer's thousands of sandbox folders or the data dirs.
  const own = join(dir, 'maestro');
  mkdirSync(own);
  writeFileSync(join(own, 'manifest.yaml'), toManifest(name, tasks));
  writeFileSync(join(own, 'one.yaml'), toManifest(`${name}-one`, [{ id: 'one', needs: [] }]));
  writeFileSync(join(dir, 'runners-none.yaml'), 'local:\n  sandbox: none\n');
  const sandboxed = join(dir, 'sandboxed');
  mkdirSync(sandboxed);
  writeFileSync(join(sandboxed, 'build.ninja'), toSandboxedNinja(thisCheckout, tasks, join(sandboxed, 'ws')));
  if (!base) return;
  const old = join(dir, 'sandboxed-base');
  mkdirSync(old);
  writeFileSync(join(old, 'build.ninja'), toSandboxedNinja(base, tasks, join(old, 'ws')));
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * The same graph for ninja with every command in the sandbox a `maestro run` task gets: the
 * runner's own layout (`attemptLayout` + `bwrapArgs`) for a workspace and an inputs directory of
 * the task's own, the network on (a local run is trusted), HOME a tmpfs. The directories are made
 * here, untimed; Maestro makes its own inside the timed run.
 */
function toSandboxedNinja(module: SandboxModule, tasks: BenchTask[], root: string): string {
  const home = baseEnvFrom(process.env).HOME ?? homedir();
  const readOnly = module.defaultReadOnlyPaths();
  const lines = ['rule t', '  command = /usr/bin/bwrap $args /bin/sh -c true', ''];
  for (const task of tasks) {
    const workDir = join(root, task.id);
    const artifactsDir = `${workDir}.in`;
    mkdirSync(workDir, { recursive: true });
    mkdirSync(artifactsDir, { recursive: true });
    const layout = module.attemptLayout(
      { workDir, artifactsDir },
      'on',
      { readOnly, hidden: [] },
      workDir,
      home,
    );
    const args = module.bwrapArgs(layout).map(quote).join(' ').replaceAll('$', '$$');
    lines.push(task.needs.length ? `build ${task.id}: t ${task.needs.join(' ')}` : `build ${task.id}: t`);
    lines.push(`  args = ${args}`);
  }
  return lines.join('\n') + '\n';
}

const ninjaIn =
  (sub: string): Contender =>
  async (dir) => {
    const at = join(dir, sub);
    rmSync(join(at, '.ninja_log'), { force: true });
    return timedProcess('ninja', ['-j', String(N), '-C', at, '--quiet'], at);
  };

/** `ninja -j N`, each command `true` through /bin/sh -c. */
export const ninja: Contender = ninjaIn('.');
/** The same, each command inside the runner's bubblewrap sandbox. */
export const ninjaSandboxed: Contender = ninjaIn('sandboxed');
/** The same in the sandbox layout of the `--base` checkout. */
export const ninjaSandboxedBase: Contender = ninjaIn('sandboxed-base');

/** The real CLI on a fresh data dir: `maestro run <manifest> --concurrency N`. */
export const maestroRun =
  (options: { sandbox: 'bwrap' | 'none'; manifest?: string; checkout?: string }): Contender =>
  async (dir) => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    try {
      const argv = [
        join(options.checkout ?? repo, 'bin', 'maestro.ts'),
        'run',
        join(dir, 'maestro', options.manifest ?? 'manifest.yaml'),
        '--concurrency',
        String(N),
        '--data-dir',
        dataDir,
        ...(options.sandbox === 'none' ? ['--runners', join(dir, 'runners-none.yaml')] : []),
      ];
      return timedProcess(node, argv, dir);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

/** The local runner alone (no engine, no store), driven in dependency order in this process. */
export const runnerAlone =
  (spawn: 'launcher' | 'node', sandbox: 'bwrap' | 'none' = 'bwrap'): Contender =>
  async (dir, tasks) => {
    const runner = createLocalRunner({ spawn, sandbox, baseEnv: baseEnvFrom(process.env) });
    const root = mkdtempSync(join(dir, `attempts-${spawn}-`));
    try {
      const t0 = performance.now();
      await driveGraph(runner, tasks, N, root);
      return { seconds: (performance.now() - t0) / 1000 };
    } finally {
      await runner.close();
      rmSync(root, { recursive: true, force: true });
    }
  };

export function cliHasRun(): boolean {
  const probe = spawnSync(node, [join(repo, 'bin', 'maestro.ts'), 'run', '--help'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.includes('--concurrency');
}
