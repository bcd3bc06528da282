import { spawnSync } from 'node:child_process';

export interface BoundedResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an ES module script in a child Node process that is killed (SIGKILL) after `killAfterMs`.
 * For tests of "this must not hang": a regression fails with a signal instead of hanging the
 * whole suite, because a runaway RegExp cannot be interrupted from inside its own thread.
 */
export function runBounded(script: string, killAfterMs: number, cwd: string): BoundedResult {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    timeout: killAfterMs,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  return { status: child.status, signal: child.signal, stdout: child.stdout, stderr: child.stderr };
}
