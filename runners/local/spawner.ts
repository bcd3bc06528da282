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
}

export interface SpawnSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export type SpawnEnd =
  | { kind: 'exited'; exitCode: number | null; signal: string | null }
  | { kind: 'spawn_error'; code: string; message: string };

export interface SpawnedProcess {
  /** Resolves once the process has ended and all of its output has reached the sink. */
  readonly ended: Promise<SpawnEnd>;
  /** Signals the whole process group; a no-op once it has ended. */
  signalGroup(signal: NodeJS.Signals): void;
}

export interface Spawner {
  readonly kind: 'launcher' | 'node';
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
  return undefined;
}
