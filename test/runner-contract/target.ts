/**
 * What the runner contract suite (contract.ts) needs from each runner it checks: how to build
 * the runner, how to turn one runner-neutral task "program" into a start request, how to see
 * what an attempt left behind, and what a kill of the engine leads to on this runner.
 */
import type { AttemptRef, KeepUpload, Runner, RunnerStartRequest } from '../../core/index.ts';

/**
 * One task, said twice: as the shell script the executing runners (local, container) really
 * run, and as the kwok simulation (`SIM_*` env, test/setup/kwok-stages.yaml) a runner whose
 * tasks cannot execute here (Kubernetes: kwok plays the kubelet) is given instead.
 */
export interface Program {
  script: string;
  sim: Record<string, string>;
}

/**
 * After the engine holding the runner is SIGKILLed: re-attach, the task died with it, or (a
 * function, which nothing can stop or re-attach to) it runs on until its own timeout ends it.
 */
export type AfterEngineKill = 'reattached' | 'dies-with-engine' | 'runs-to-its-timeout';

export interface ContractTarget {
  kind: string;
  /** False where nothing executes (kwok): the suite states the reduced assertion it makes instead. */
  executes: boolean;
  /**
   * How a task on the SDK (a Node program) runs here: `node` (it runs as itself), `shell` (the
   * test image has no Node: the SDK's own messages, made in the test, are written by the task's
   * shell), `simulated` (nothing executes).
   */
  sdkTask: 'node' | 'shell' | 'simulated';
  /** Whether the runner sets $MAESTRO_MESSAGES (docs/task-protocol.md; not yet on Kubernetes). */
  messagesFile: boolean;
  afterEngineKill: AfterEngineKill;
  /** A secret whose three lines the task prints (kwok's canned container log prints KWOK_PEM). */
  pem: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A runner built through the factory map, as the runtime builds it. */
  runner(): Runner;
  /** The runners-file section the runner is built from (the engine child builds it again). */
  section(): Record<string, unknown>;
  request(program: Program, overrides?: Partial<RunnerStartRequest>): RunnerStartRequest;
  /**
   * Resolves when nothing of the attempt runs on the backend any more: no process, no container,
   * no unfinished Job or live pod (a finished Job stays as a record until its TTL).
   */
  gone(request: RunnerStartRequest): Promise<void>;
  /** Whether the backend still holds the attempt (a container or Job that outlived its engine). */
  alive(ref: AttemptRef): Promise<boolean>;
  /**
   * Where the task shares no disk with the engine and artifacts travel in the invoke's event (a
   * serverless function): the artifacts case checks that, and the refusal without an object store.
   */
  artifactsInEvent?: boolean;
  /** Checks a reduced, named assertion where the task cannot execute (see `executes`). */
  jobSpec?(request: RunnerStartRequest): Promise<Record<string, unknown>>;
  /**
   * Where tasks cannot execute and the runner uploads what a task keeps (Kubernetes): a URL a
   * real object store signed for the attempt, and the Job's keep sidecar run on the host as the
   * kubelet would run it (its command and env from the Job, the URL from the Secret, both read
   * from the API server), with `files` as the task left its workspace; returns what the engine's
   * reading of the upload keeps (path to text).
   */
  keptUpload?: {
    keep(request: RunnerStartRequest, paths: string[]): Promise<KeepUpload>;
    runSidecar(request: RunnerStartRequest, files: Record<string, string>): Promise<Record<string, string>>;
  };
}
