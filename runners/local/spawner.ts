import { readFileSync } from 'node:fs';

/**
 * How the local runner starts one process: through the launcher (posix_spawn from a small
 * long-lived process) or through Node's child_process. Both give the same semantics: the process
 * leads a new session and process group, stdin is /dev/null, output reaches `sink`, and when the
 * leader exits whatever remains of its group is SIGKILLed before `ended` resolves.
 */
export interface SpawnSpec {
  /** argv[0]; without a slash it is searched in `env.PATH`, never in the engine's PATH. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /**
   * argv starts bubblewrap: signals then go to the sandbox's own session (see signalSandbox), not
   * to bwrap's monitor, which would die at once on SIGTERM and take the task's grace period with it.
   */
  sandboxed?: boolean;
  /**
   * The task's protocol files ($MAESTRO_OUTPUT, $MAESTRO_MESSAGES), created empty just before the
   * command starts, never through a link. Only a spawner whose `makesProtocolFiles` is true takes
   * them; the caller makes them otherwise.
   */
  protocolFiles?: string[];
}

export interface SpawnSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export type SpawnEnd =
  | {
      kind: 'exited';
      exitCode: number | null;
      signal: string | null;
      /**
       * Per protocol file, whether the caller must take it: false when it is gone or was an empty
       * regular file (already removed). Absent: take every one.
       */
      protocolFilesToTake?: boolean[];
    }
  | { kind: 'spawn_error'; code: string; message: string };

export interface SpawnedProcess {
  /** Resolves once the process has ended and all of its output has reached the sink. */
  readonly ended: Promise<SpawnEnd>;
  /** Signals the whole process group; a no-op once it has ended. */
  signalGroup(signal: NodeJS.Signals): void;
}

export interface Spawner {
  readonly kind: 'launcher' | 'node';
  /** It creates `SpawnSpec.protocolFiles` itself, and says at the end which hold anything. */
  readonly makesProtocolFiles: boolean;
  spawn(spec: SpawnSpec, sink: SpawnSink): SpawnedProcess;
  close(): Promise<void>;
}

/** kill(-pgid): ESRCH only means the group is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left to signal. EPERM cannot happen for our own children's groups.
  }
}

/**
 * Signals a sandboxed attempt whose leader is bwrap's monitor process. Its one child is the
 * sandbox's pid 1, which with `--new-session` leads the session and group every process inside
 * starts in: a signal to that group reaches the task (pid 1 itself ignores what it does not
 * handle). SIGKILL also goes to the monitor's group; when the monitor or pid 1 dies the kernel
 * ends every process in the pid namespace, even one that called setsid to leave the group.
 * Before bwrap has forked (no child yet) the monitor's group is all there is to signal.
 */
export function signalSandbox(leader: number, signal: NodeJS.Signals): void {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${leader}/task/${leader}/children`, 'utf8')
      .split(' ')
      .filter((s) => s.trim() !== '')
      .map(Number);
  } catch {
    // the monitor is gone: nothing inside is left either
  }
  for (const child of children) killGroup(child, signal);
  if (signal === 'SIGKILL' || children.length === 0) killGroup(leader, signal);
}

/** The signal path for a spawn: the sandbox's session, or the plain process group. */
export function groupSignaller(spec: SpawnSpec): (pid: number, signal: NodeJS.Signals) => void {
  return spec.sandboxed ? signalSandbox : killGroup;
}

/** Rejects what no exec can carry, before either path tries. */
export function invalidSpec(spec: SpawnSpec): string | undefined {
  if (spec.argv.length === 0 || spec.argv[0] === '') return 'the command is empty';
  if (spec.argv.some((a) => a.includes('\0'))) return 'an argument contains a NUL byte';
  for (const [key, value] of Object.entries(spec.env)) {
    if (key === '' || key.includes('=') || key.includes('\0'))
      return `environment name ${JSON.stringify(key)} is not valid`;
    if (value.includes('\0')) return `environment variable ${key} contains a NUL byte`;
  }
  if (spec.cwd.includes('\0')) return 'the working directory contains a NUL byte';
  if (spec.protocolFiles?.some((f) => f.includes('\0'))) return 'a protocol file path contains a NUL byte';
  return undefined;
}
