import { accessSync, close, constants, open, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import {
  AttemptOutcome,
  Stream,
  systemClock,
  type AttemptResult,
  type Clock,
  type LogLine,
  type NetworkAccess,
  type Runner,
  type RunnerHandle,
  type RunnerStartRequest,
} from '../../core/index.ts';
import { taskEnv } from './environment.ts';
import { ensureLauncherBinary } from './launcher-build.ts';
import { createLauncherSpawner } from './launcher-spawner.ts';
import { LogBuffer } from './log-buffer.ts';
import { createNodeSpawner } from './node-spawner.ts';
import { outcomeOf, isRetryableSpawnError } from './outcome.ts';
import { protocolFiles } from './protocol-files.ts';
import { makePrivateDir, sweepOnce } from './private-dirs.ts';
import { sandboxedSpec } from './sandboxed-spec.ts';
import { decideIsolation } from './isolation.ts';
import {
  probeSandbox,
  type HostAccessGrant,
  type Isolation,
  type SandboxMode,
  type SandboxProbe,
} from './sandbox.ts';
import type { SpawnedProcess, SpawnEnd, Spawner, SpawnSpec } from './spawner.ts';
import { collectMessages, LineSplitter, parseOutputsFile, takeOutputsFile } from '../shared/index.ts';
import { createRedactor, type Redactor } from '../../core/index.ts';

export interface LocalRunnerOptions {
  /**
   * `auto` (default): the C launcher when it can be built, else child_process. `launcher`: the
   * launcher or a runner_error per attempt saying why not. `node`: always child_process.
   */
  spawn?: 'auto' | 'launcher' | 'node';
  /** PATH, HOME, LANG, TMPDIR for tasks, picked by a surface (see `baseEnvFrom`). */
  baseEnv?: Record<string, string>;
  /** Where the compiled launcher is cached. Default ~/.cache/maestro/launcher. */
  cacheDir?: string;
  /** C compiler for the launcher. Default `cc`. */
  cc?: string;
  /** SIGTERM-to-SIGKILL grace for timeouts, and for cancel when the caller gives none. */
  graceMs?: number;
  /** How often the launcher path polls a running task's output files. Default 200 ms. */
  tailMs?: number;
  /**
   * Where the launcher puts tasks' output files while they run. Default: /dev/shm when it is
   * writable (tmpfs: creating and removing two files per task costs no journal commits, which on
   * ext4 measurably serialised concurrent tasks), else the system temp directory.
   */
  logDir?: string;
  clock?: Clock;
  /** See `SandboxMode`. Default `bwrap`: every attempt in the sandbox, or refused. */
  sandbox?: SandboxMode;
  /** `granted`: tasks that say `hostAccess: true` run on the host. Default `denied`. */
  hostAccess?: HostAccessGrant;
  /** The bubblewrap binary. Default /usr/bin/bwrap. */
  bwrap?: string;
  /**
   * Host paths tasks may read (bound read-only at the same path), besides the system's read-only
   * directories. Default: what catalog tasks need, this installation (their code) and the Node
   * binary running the engine.
   */
  readOnlyPaths?: string[];
  /**
   * Paths never visible, even under a read-only path: give the data directory, the secrets file
   * and the signing keys, in case one of them lies inside this installation.
   */
  hiddenPaths?: string[];
  /** The operator's network setting: `none` narrows every attempt to no network. */
  network?: NetworkAccess;
}

export interface SpawnPathInfo {
  kind: 'launcher' | 'node';
  /** Why the launcher is not used, when it is not. */
  fallbackReason?: string;
}

export interface LocalRunner extends Runner {
  /** Which spawn path this runner uses (building the launcher if needed). */
  spawnPath(): Promise<SpawnPathInfo>;
  /** Whether a sandbox can be made here (probed once), and the configured mode. */
  sandbox(): { mode: SandboxMode; probe: SandboxProbe };
  close(): Promise<void>;
}

type Resolved = { spawner: Spawner; info: SpawnPathInfo } | { spawner: undefined; info: SpawnPathInfo };

export function createLocalRunner(options: LocalRunnerOptions = {}): LocalRunner {
  const clock = options.clock ?? systemClock;
  const graceMs = options.graceMs ?? 5000;
  const mode = options.spawn ?? 'auto';
  const active = new Set<Attempt>();
  let resolved: Promise<Resolved> | undefined;
  let logDir: string | undefined;
  const sandboxMode = options.sandbox ?? 'bwrap';
  let probe: SandboxProbe | undefined;
  // Probed once, on first need: a missing bwrap costs one failed spawn, not one per task.
  const sandboxProbe = (): SandboxProbe =>
    (probe ??=
      sandboxMode === 'none'
        ? { ok: false, reason: 'the runners config says `sandbox: none`' }
        : probeSandbox(options.bwrap ?? '/usr/bin/bwrap'));

  const logRoot = options.logDir ?? defaultLogRoot();
  // Once per process, at the runner's start rather than at a task's: the folders of processes
  // killed without their exit code (kill -9, OOM) are removed (private-dirs.ts).
  sweepOnce(logRoot);
  let protocolDir: string | undefined;
  let protocolSeq = 0;
  /** Where an unsandboxed attempt's protocol files go: see `protocolFiles`. */
  const privateDir = (): { dir: string; seq: number } => ({
    dir: (protocolDir ??= makePrivateDir(logRoot, 'protocol')),
    seq: ++protocolSeq,
  });

  const resolve = (): Promise<Resolved> =>
    (resolved ??= (async (): Promise<Resolved> => {
      if (mode === 'node') return { spawner: createNodeSpawner(), info: { kind: 'node' } };
      const build = await ensureLauncherBinary(
        options.cacheDir ?? join(homedir(), '.cache', 'maestro', 'launcher'),
        options.cc,
      );
      if (build.ok) {
        logDir = makePrivateDir(logRoot, 'launcher');
        const spawner = createLauncherSpawner({ binary: build.path, logDir, tailMs: options.tailMs ?? 200 });
        return { spawner, info: { kind: 'launcher' } };
      }
      const reason = `the launcher is not available: ${build.reason}`;
      if (mode === 'launcher')
        return { spawner: undefined, info: { kind: 'launcher', fallbackReason: reason } };
      return { spawner: createNodeSpawner(), info: { kind: 'node', fallbackReason: reason } };
    })());

  return {
    kind: 'local',
    // A host process, not a container: it has no privileged mode and no network namespace to
    // share; how far it can reach is its sandbox's business, not these two policy inputs.
    posture: () => ({ privileged: false, hostNetwork: false }),
    grantsHostAccess: options.hostAccess === 'granted',
    async spawnPath() {
      return (await resolve()).info;
    },
    sandbox() {
      return { mode: sandboxMode, probe: sandboxProbe() };
    },
    async start(request) {
      const startedAt = clock.now();
      const attempt = new Attempt(request, clock, graceMs, startedAt);
      if (request.command.kind === 'container') {
        attempt.finishEarly('unsupported_command', 'the local runner cannot run container commands');
        return attempt.handle();
      }
      const isolation = decideIsolation(
        sandboxMode,
        sandboxProbe(),
        request,
        options.network,
        options.hostAccess,
      );
      if (isolation instanceof Error) {
        attempt.finishEarly(isolation.code, `${isolation.message}\nhint: ${isolation.hint ?? ''}`);
        return attempt.handle();
      }
      const { spawner, info } = await resolve();
      if (!spawner) {
        attempt.finishEarly('launcher_unavailable', info.fallbackReason ?? 'the launcher is not available');
        return attempt.handle();
      }
      const files = protocolFiles(request, isolation.sandbox === 'none' ? privateDir() : undefined);
      if (!(await prepareFiles(attempt, request, files, spawner.makesProtocolFiles))) return attempt.handle();
      const argv =
        request.command.kind === 'shell' ? ['/bin/sh', '-c', request.command.script] : request.command.argv;
      const env = taskEnv(options.baseEnv ?? {}, request.env, files, request.artifactsDir);
      const plain: SpawnSpec = { argv, env, cwd: request.workDir };
      const spec =
        isolation.sandbox === 'bwrap'
          ? sandboxedSpec(plain, request, isolation, {
              bwrap: options.bwrap ?? '/usr/bin/bwrap',
              readOnly: options.readOnlyPaths ?? defaultReadOnlyPaths(),
              hidden: options.hiddenPaths ?? [],
            })
          : plain;
      if ('code' in spec) {
        attempt.finishEarly(spec.code, spec.message);
        return attempt.handle();
      }
      if (spawner.makesProtocolFiles) spec.protocolFiles = [files.output, files.messages];
      attempt.describeIsolation(isolation);
      active.add(attempt);
      attempt.run(spawner, spec, files, () => active.delete(attempt));
      return attempt.handle();
    },
    async close() {
      await Promise.all([...active].map((attempt) => attempt.cancel('the local runner closed', 0)));
      if (resolved) await (await resolved).spawner?.close();
      if (logDir) rmSync(logDir, { recursive: true, force: true });
      if (protocolDir) rmSync(protocolDir, { recursive: true, force: true });
    },
  };
}

/** This installation (catalog tasks are code in it) and the Node binary that runs them. */
export function defaultReadOnlyPaths(): string[] {
  return [resolvePath(import.meta.dirname, '..', '..'), process.execPath, dirname(process.execPath)];
}

/**
 * The attempt's folders (unless the engine made them) and files; false, the attempt ended early
 * (runner_error), when one cannot be made. Asynchronous: on the thread pool, not the event loop,
 * which serves every other run of the process meanwhile (the sync calls here were 7 % of a busy
 * server's main thread, bench/scheduler/RESULTS.md). A launcher makes the two empty protocol
 * files itself, just before the task starts, and says at the end whether they hold anything: on
 * this side they cost four calls through the thread pool per attempt and a read of each at the
 * end, on the engine's busiest thread (bench/run/RESULTS.md).
 */
async function prepareFiles(
  attempt: Attempt,
  request: RunnerStartRequest,
  files: { output: string; messages: string; state?: string },
  spawnerMakesThem: boolean,
): Promise<boolean> {
  try {
    if (!request.dirsMade) await Promise.all([ensureDir(request.workDir), ensureDir(request.artifactsDir)]);
    const writes = spawnerMakesThem ? [] : [createEmpty(files.output), createEmpty(files.messages)];
    if (files.state !== undefined) writes.push(writeFile(files.state, request.state ?? ''));
    if (writes.length > 0) await Promise.all(writes);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    attempt.finishEarly(code, `cannot prepare the attempt's directories: ${(error as Error).message}`);
    return false;
  }
}

/**
 * For a caller that did not make the folders (the runner used alone; the engine says `dirsMade`):
 * one mkdir, EEXIST when there, where a recursive mkdir costs a mkdir and a stat; parents too.
 */
async function ensureDir(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') await mkdir(path, { recursive: true });
    else if (code !== 'EEXIST') throw error;
  }
}

/**
 * Creates (or empties) `path`: an open and a close on the thread pool (`fs/promises` writeFile
 * wraps the same two calls in a FileHandle whose close cost the main thread ~0.1 ms per file,
 * bench/run/RESULTS.md). Never through a link (the repository's own, layered into the workspace,
 * would truncate what it points at) and non-blocking (a FIFO cannot hang it): as the launcher does.
 */
const CREATE_EMPTY =
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;
function createEmpty(path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    open(path, CREATE_EMPTY, 0o666, (error, fd) => {
      if (error) return reject(error);
      close(fd, (closing) => (closing ? reject(closing) : resolve()));
    }),
  );
}

function defaultLogRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** One attempt: its logs, its timers, and the single result `wait()` gives. */
class Attempt {
  readonly #request: RunnerStartRequest;
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #startedAt: number;
  readonly #redact: Redactor;
  readonly #logs = new LogBuffer();
  readonly #result: Promise<AttemptResult>;
  #resolve!: (result: AttemptResult) => void;
  #process: SpawnedProcess | undefined;
  #isolation: Isolation | undefined;
  #state: string | undefined;
  #builtImages: string[] | undefined;
  #finished = false;
  #timedOut = false;
  /** We sent SIGKILL: what ended the attempt, even where the sandbox reports it as exit 128+9. */
  #killed = false;
  #cancelled: string | undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(request: RunnerStartRequest, clock: Clock, graceMs: number, startedAt: number) {
    this.#request = request;
    this.#clock = clock;
    this.#graceMs = graceMs;
    this.#startedAt = startedAt;
    this.#redact = createRedactor(request.redact);
    this.#result = new Promise((resolve) => (this.#resolve = resolve));
  }

  handle(): RunnerHandle {
    return {
      logs: () => this.#logs.follow(),
      wait: () => this.#result,
      cancel: (reason, graceMs) => this.cancel(reason, graceMs),
    };
  }

  finishEarly(code: string, message: string): void {
    this.#system(message);
    this.#complete({
      outcome: AttemptOutcome.runnerError,
      exitCode: null,
      retryable: isRetryableSpawnError(code),
      reason: code,
      message: this.#redact(message),
      outputs: {},
    });
  }

  /** Says in the attempt's log what it runs in, and keeps it for the result (and the receipt). */
  describeIsolation(isolation: Isolation): void {
    this.#isolation = isolation;
    if (isolation.hostAccess) this.#system(`host access: granted (${isolation.reason ?? ''}); sandbox: none`);
    else if (isolation.sandbox === 'none')
      this.#system(`sandbox: none (${isolation.reason ?? 'not sandboxed'})`);
  }

  run(
    spawner: Spawner,
    spec: SpawnSpec,
    files: { output: string; messages: string },
    onDone: () => void,
  ): void {
    const now = () => this.#clock.now();
    const push = (line: LogLine) => this.#logs.push(line);
    const out = new LineSplitter(Stream.stdout, this.#redact, push, now);
    const err = new LineSplitter(Stream.stderr, this.#redact, push, now);
    const proc = spawner.spawn(spec, { stdout: (c) => out.write(c), stderr: (c) => err.write(c) });
    this.#process = proc;
    if (this.#cancelled !== undefined) this.#kill(proc);
    const timeoutMs = this.#request.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0)
      this.#timeoutTimer = setTimeout(() => {
        if (this.#finished || this.#cancelled !== undefined) return;
        this.#timedOut = true;
        this.#system(`timed out after ${timeoutMs} ms; stopping the process group`);
        this.#terminate(this.#graceMs);
      }, timeoutMs);
    void proc.ended.then((end: SpawnEnd) => {
      out.end();
      err.end();
      onDone();
      const base = outcomeOf(end, {
        timedOut: this.#timedOut,
        timeoutMs,
        cancelled: this.#cancelled,
        killed: this.#killed,
      });
      let outputs: Record<string, string> = {};
      let ending = base;
      if (end.kind === 'exited') {
        // The launcher already removed what was empty or gone: nothing there to take.
        const [takeOutput = true, takeMessages = true] = end.protocolFilesToTake ?? [];
        if (takeOutput) outputs = this.#takeOutputs(files.output);
        const messages = takeMessages
          ? collectMessages(files.messages, this.#request.outputs, this.#redact, now)
          : { outputs: {}, lines: [] };
        for (const line of messages.lines) push(line);
        outputs = { ...outputs, ...messages.outputs }; // read second: a message wins over a line
        if (messages.state !== undefined) this.#state = messages.state;
        this.#builtImages = messages.images;
        if (messages.refused && base.outcome === AttemptOutcome.succeeded)
          ending = {
            ...base,
            outcome: AttemptOutcome.failed,
            retryable: false,
            reason: 'MessagesFileRefused',
            message: messages.refused,
          };
      } else {
        this.#system(end.message);
      }
      this.#complete({
        ...ending,
        ...(ending.message ? { message: this.#redact(ending.message) } : {}),
        ...(this.#state === undefined ? {} : { state: this.#state }),
        ...(this.#builtImages ? { builtImages: this.#builtImages } : {}),
        outputs,
      });
    });
  }

  #takeOutputs(file: string): Record<string, string> {
    let text = '';
    try {
      text = takeOutputsFile(file); // '' when the task removed it
    } catch (error) {
      this.#system((error as Error).message); // a link or not a regular file: no outputs
    }
    const parsed = parseOutputsFile(text, this.#request.outputs);
    for (const problem of parsed.problems) this.#system(problem);
    return parsed.outputs;
  }

  async cancel(reason: string, graceMs?: number): Promise<void> {
    if (this.#finished) return;
    if (this.#cancelled === undefined && !this.#timedOut) {
      this.#cancelled = reason;
      this.#system(`cancel requested: ${reason}`);
      this.#terminate(graceMs ?? this.#graceMs);
    }
    await this.#result;
  }

  /** SIGTERM to the whole group now, SIGKILL to it after the grace period. */
  #terminate(graceMs: number): void {
    const proc = this.#process;
    if (!proc) return; // not spawned yet: run() kills it on arrival
    if (graceMs <= 0) return this.#kill(proc);
    proc.signalGroup('SIGTERM');
    this.#killTimer ??= setTimeout(() => this.#kill(proc), graceMs);
  }

  #kill(proc: SpawnedProcess): void {
    this.#killed = true;
    proc.signalGroup('SIGKILL');
  }

  #system(text: string): void {
    this.#logs.push({ stream: Stream.system, text: this.#redact(text), time: this.#clock.now() });
  }

  #complete(result: Omit<AttemptResult, 'startedAt' | 'finishedAt'>): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#killTimer);
    this.#logs.close();
    this.#resolve({
      ...result,
      startedAt: this.#startedAt,
      finishedAt: this.#clock.now(),
      ...(this.#isolation ? { isolation: this.#isolation } : {}),
    });
  }
}
