import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
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
 * The fast path: one long-lived `maestro-launcher` child (C, posix_spawn) starts every task, so
 * Node never forks itself per task. The launcher writes each task's stdout and stderr straight
 * into files in `logDir`; this side reads them when the task ends (one read for a quick task)
 * and, while a task runs, tails them every `tailMs` so `logs()` stays live. Protocol: launcher.c.
 */
export interface LauncherSpawnerOptions {
  binary: string;
  logDir: string;
  /** How often a running task's log files are polled for new bytes. */
  tailMs: number;
}

interface Pending {
  sink: SpawnSink;
  resolve: (end: SpawnEnd) => void;
  pid?: number;
  pendingSignal?: NodeJS.Signals;
  signal: (pid: number, signal: NodeJS.Signals) => void;
  done: boolean;
  out: TailedFile;
  err: TailedFile;
  timer?: NodeJS.Timeout;
}

interface TailedFile {
  path: string;
  fd?: number;
  offset: number;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export function createLauncherSpawner(options: LauncherSpawnerOptions): Spawner {
  return new LauncherSpawner(options);
}

class LauncherSpawner implements Spawner {
  readonly kind = 'launcher' as const;
  readonly makesProtocolFiles = true;
  readonly #options: LauncherSpawnerOptions;
  readonly #pending = new Map<string, Pending>();
  #child: ChildProcess | undefined;
  #seq = 0;
  #stdoutText = '';
  #stderrTail = '';
  #closing: Promise<void> | undefined;

  constructor(options: LauncherSpawnerOptions) {
    this.#options = options;
  }

  spawn(spec: SpawnSpec, sink: SpawnSink): SpawnedProcess {
    const id = String(++this.#seq);
    let resolve!: (end: SpawnEnd) => void;
    const ended = new Promise<SpawnEnd>((r) => (resolve = r));
    const entry: Pending = {
      sink,
      resolve,
      done: false,
      signal: groupSignaller(spec),
      out: { path: join(this.#options.logDir, `${id}.out`), offset: 0 },
      err: { path: join(this.#options.logDir, `${id}.err`), offset: 0 },
    };
    const handle: SpawnedProcess = {
      ended,
      signalGroup: (signal) => {
        if (entry.done) return;
        if (entry.pid === undefined) entry.pendingSignal = signal;
        else entry.signal(entry.pid, signal);
      },
    };
    const invalid = invalidSpec(spec);
    if (invalid !== undefined || this.#closing) {
      entry.done = true;
      resolve({
        kind: 'spawn_error',
        code: invalid !== undefined ? 'EINVAL' : 'runner_closed',
        message: invalid ?? 'the local runner is closed',
      });
      return handle;
    }
    const child = this.#ensureChild();
    this.#pending.set(id, entry);
    if (this.#pending.size === 1) this.#ref(true);
    child.stdin?.write(encodeRequest(id, spec));
    return handle;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const child = this.#child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      this.#ref(true);
      child.stdin?.end();
    });
    return this.#closing;
  }

  #ensureChild(): ChildProcess {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) return this.#child;
    // Its own session: a terminal's Ctrl-C reaches Node (which cancels), not the launcher; if Node
    // dies, the launcher sees end of input and kills every running attempt.
    const child = spawn(this.#options.binary, [this.#options.logDir], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.#child = child;
    this.#stdoutText = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => this.#onReplies(text));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => (this.#stderrTail = (this.#stderrTail + text).slice(-2000)));
    child.stdin?.on('error', () => {}); // EPIPE when it died; 'exit' reports that
    child.on('error', (error) => this.#failAll(`the launcher could not run: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      this.#failAll(
        `the launcher exited (${signal ?? `code ${code}`})${this.#stderrTail ? `: ${this.#stderrTail.trim()}` : ''}`,
      );
    });
    return child;
  }

  /** A launcher with no task in flight must not keep the engine's process alive. */
  #ref(on: boolean): void {
    const child = this.#child;
    if (!child) return;
    const method = on ? 'ref' : 'unref';
    child[method]();
    for (const stream of [child.stdin, child.stdout, child.stderr] as Array<{
      ref?: () => void;
      unref?: () => void;
    } | null>)
      stream?.[method]?.();
  }

  #onReplies(text: string): void {
    const all = this.#stdoutText + text;
    const lines = all.split('\n');
    this.#stdoutText = lines.pop() ?? '';
    for (const line of lines) this.#onReply(line.split(' '));
  }

  #onReply(parts: string[]): void {
    const [type, id] = parts;
    const entry = this.#pending.get(id ?? '');
    if (!entry) return;
    if (type === 'S') {
      entry.pid = Number(parts[2]);
      if (entry.pendingSignal) entry.signal(entry.pid, entry.pendingSignal);
      entry.timer = setInterval(() => this.#tail(entry), this.#options.tailMs);
      entry.timer.unref();
    } else if (type === 'E' || type === 'P') {
      const code = errnoNames.get(Number(parts[2])) ?? `errno ${parts[2]}`;
      const message =
        type === 'E' ? `spawn failed: ${code}` : `cannot create the task's protocol files: ${code}`;
      this.#finish(id as string, entry, { kind: 'spawn_error', code, message });
    } else if (type === 'X') {
      const value = Number(parts[3]);
      const signaled = parts[2] === '1';
      this.#drain(entry.out, Number(parts[4]), (c) => entry.sink.stdout(c));
      this.#drain(entry.err, Number(parts[5]), (c) => entry.sink.stderr(c));
      const flags = parts[6] ?? '';
      this.#finish(id as string, entry, {
        kind: 'exited',
        exitCode: signaled ? null : value,
        signal: signaled ? (signalNames.get(value) ?? `SIG${value}`) : null,
        ...(flags === '-' || flags === '' ? {} : { protocolFilesToTake: [...flags].map((f) => f !== '0') }),
      });
    }
  }

  #tail(entry: Pending): void {
    if (entry.done) return;
    this.#drain(entry.out, undefined, (c) => entry.sink.stdout(c), true);
    this.#drain(entry.err, undefined, (c) => entry.sink.stderr(c), true);
  }

  /** Reads a log file from where the last read stopped up to `size` (or its current end). */
  #drain(file: TailedFile, size: number | undefined, emit: (chunk: Buffer) => void, keepOpen = false): void {
    if (size === 0 && file.fd === undefined) return; // the launcher removed the empty file
    try {
      file.fd ??= openSync(file.path, 'r');
      const end = size ?? fstatSync(file.fd).size;
      const buffer = Buffer.allocUnsafe(Math.min(Math.max(end - file.offset, 0), 1 << 20));
      while (file.offset < end) {
        const n = readSync(file.fd, buffer, 0, Math.min(buffer.length, end - file.offset), file.offset);
        if (n <= 0) break;
        file.offset += n;
        emit(Buffer.from(buffer.subarray(0, n)));
      }
    } catch {
      // Not created yet (a tail before the launcher opened it); the final read will catch up.
    }
    if (!keepOpen) {
      if (file.fd !== undefined) closeSync(file.fd);
      file.fd = undefined;
      try {
        unlinkSync(file.path);
      } catch {
        // already removed
      }
    }
  }

  #finish(id: string, entry: Pending, end: SpawnEnd): void {
    if (entry.done) return;
    entry.done = true;
    if (entry.timer) clearInterval(entry.timer);
    for (const file of [entry.out, entry.err]) if (file.fd !== undefined) closeSync(file.fd);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#ref(false);
    entry.resolve(end);
  }

  #failAll(message: string): void {
    for (const [id, entry] of [...this.#pending]) {
      if (entry.pid !== undefined) killGroup(entry.pid, 'SIGKILL');
      this.#finish(id, entry, { kind: 'spawn_error', code: 'launcher_exited', message });
    }
  }
}

/**
 * u32 little-endian length, then NUL-terminated fields: id, cwd, argc, argv..., envc, env...,
 * filec, files...
 */
function encodeRequest(id: string, spec: SpawnSpec): Buffer {
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const files = spec.protocolFiles ?? [];
  const fields = [
    id,
    spec.cwd,
    String(spec.argv.length),
    ...spec.argv,
    String(env.length),
    ...env,
    String(files.length),
    ...files,
  ];
  const body = Buffer.from(fields.join('\0') + '\0', 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}
