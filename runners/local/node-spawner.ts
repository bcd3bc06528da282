import { spawn } from 'node:child_process';
import {
  groupSignaller,
  invalidSpec,
  killGroup,
  type SpawnEnd,
  type SpawnedProcess,
  type Spawner,
  type SpawnSink,
  type SpawnSpec,
} from './spawner.ts';

/**
 * The fallback path: child_process.spawn with `detached: true` (setsid, so the child leads its
 * own process group) and pipes for stdout and stderr. Every spawn forks the whole Node process,
 * which is what makes this path slower than the launcher (see README.md).
 */
export function createNodeSpawner(): Spawner {
  return {
    kind: 'node',
    makesProtocolFiles: false,
    spawn: spawnWithNode,
    close: async () => {},
  };
}

function spawnWithNode(spec: SpawnSpec, sink: SpawnSink): SpawnedProcess {
  let pid: number | undefined;
  let done = false;
  const signal = groupSignaller(spec);
  const ended = new Promise<SpawnEnd>((resolve) => {
    const invalid = invalidSpec(spec);
    if (invalid !== undefined) {
      done = true;
      resolve({ kind: 'spawn_error', code: 'EINVAL', message: invalid });
      return;
    }
    const [file, ...args] = spec.argv as [string, ...string[]];
    let child;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      done = true;
      const code = (error as NodeJS.ErrnoException).code ?? 'spawn_failed';
      resolve({ kind: 'spawn_error', code, message: (error as Error).message });
      return;
    }
    pid = child.pid;
    let exit: SpawnEnd | undefined;
    child.stdout.on('data', (chunk: Buffer) => sink.stdout(chunk));
    child.stderr.on('data', (chunk: Buffer) => sink.stderr(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (exit) return;
      exit = { kind: 'spawn_error', code: error.code ?? 'spawn_failed', message: error.message };
      done = true;
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(exit);
    });
    child.once('exit', (exitCode, signal) => {
      if (exit) return;
      exit = { kind: 'exited', exitCode, signal };
      done = true;
      // Leftovers of the group would hold the pipes open; the attempt is over, so end them.
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    });
    child.once('close', () => {
      if (exit?.kind === 'exited') resolve(exit);
    });
  });
  return {
    ended,
    signalGroup(sig) {
      if (!done && pid !== undefined) signal(pid, sig);
    },
  };
}
