import type { AttemptImage } from './image-gate.ts';
/**
 * The Runner port: how the engine starts one task attempt somewhere (a local process, a
 * container, a Kubernetes Job) and learns how it ended. Runners know nothing of plans, retries
 * or policy; the engine resolves every expression before calling `start`, and owns retries.
 */
import type { RunSource } from './source.ts';

/** What to execute. Values are already resolved; none of them is ever spliced into shell code. */
export type RunnerCommand =
  | { kind: 'shell'; script: string }
  | { kind: 'argv'; argv: string[] }
  | { kind: 'container'; image: string; command?: string[]; args?: string[] };

export interface AttemptRef {
  runId: string;
  taskId: string;
  /** 1-based attempt number. */
  attempt: number;
  /** Globally unique id of this attempt (used for idempotent re-creation, e.g. a Job name). */
  attemptId: string;
}

/**
 * How far a run is trusted, decided by the surface that submits it: `trusted` (the operator's own
 * CLI run, a push or a same-repository pull request) or `untrusted` (a pull request from a fork).
 * Absent means untrusted: a runner that is not told fails closed.
 */
export type RunTrust = 'trusted' | 'untrusted';

/** Network access of one attempt, resolved by `resolveNetwork` the same way on every runner. */
export type NetworkAccess = 'on' | 'none';

/**
 * The one network rule every runner applies: trusted runs have the network (CI tasks fetch
 * dependencies), untrusted runs have none, and a task (`network: none` in the manifest) or the
 * runner's configuration may only narrow it, never widen it.
 */
export function resolveNetwork(
  request: Pick<RunnerStartRequest, 'trust' | 'network'>,
  configured?: NetworkAccess,
): NetworkAccess {
  if (request.trust !== 'trusted') return 'none';
  if (request.network === 'none' || configured === 'none') return 'none';
  return 'on';
}

export interface RunnerStartRequest extends AttemptRef {
  command: RunnerCommand;
  /** The task's environment (resolved). The runner adds MAESTRO_OUTPUT and MAESTRO_ARTIFACTS. */
  env: Record<string, string>;
  /** Values to redact from logs and errors (the resolved secrets). */
  redact: string[];
  /** Host directory for this attempt's scratch space. */
  workDir: string;
  /** Host directory the task writes artifacts into (mounted where the task runs). */
  artifactsDir: string;
  /**
   * Both directories exist already (the engine made them: engine/attempt-dirs.ts), so a runner
   * that uses them on this host need not make them again. Absent: the runner makes them.
   */
  dirsMade?: true;
  /** Container image for shell/argv commands on runners that need one; ignored by `local`. */
  image?: string;
  /** Resource class name from the manifest (`small`, `large`, ...), mapped by operator config. */
  resources: string;
  /**
   * The capacity flavor price-aware placement chose (ADR-051), when not on-demand (`spot`): the
   * Kubernetes runner maps it to the node selector and tolerations its config gives the flavor.
   */
  flavor?: string;
  /** The manifest's namespace, mapped by operator config for isolating runners. */
  namespace: string;
  timeoutMs?: number;
  /** Declared output names; a runner may use them to collect outputs. */
  outputs: string[];
  /**
   * The run's source. `workDir` already holds it for runners that mount host directories; a
   * runner whose tasks run elsewhere (a Kubernetes pod) fetches this exact commit itself.
   */
  source?: RunSource;
  /**
   * The HTTP header git sends to fetch `source` (the App's installation token), for a runner that
   * fetches the source itself (`fetchesReceived`); absent for an anonymous fetch. A secret: it is
   * in `redact` too, and a runner keeps it out of specs and logs.
   */
  sourceHeader?: string;
  /** The run's trust (see `RunTrust`); absent means untrusted. */
  trust?: RunTrust;
  /** `none` when the task's manifest says `network: none`. */
  network?: 'none';
  /**
   * The task's manifest says `hostAccess: true`: it needs the host. The engine passes it only to
   * a runner whose `grantsHostAccess` is true; the runner checks its own grant again.
   */
  hostAccess?: true;
  /**
   * The checkpoint this attempt starts from (JSON text, already redacted): the last `state`
   * message of this task's previous failed attempt in the same run. The runner hands it to the
   * task as the file `MAESTRO_STATE` names (docs/task-protocol.md).
   */
  state?: string;
  /**
   * The artifacts in `artifactsDir`, each with a credential-free URL that reads it from the
   * operator's object store, for a runner whose tasks do not see the engine's disk (a Kubernetes
   * pod fetches them and checks each digest). Set only when an object store is configured.
   */
  received?: ReceivedArtifact[];
  /**
   * Where a runner whose tasks do not share the engine's disk (`uploadsKept`) hands back the
   * task's declared artifacts: set only when the task declares some and an object store is
   * configured. The engine reads and checks the upload after the attempt ends.
   */
  keep?: KeepUpload;
}

/** The declared artifact paths of a task, and the one upload the runner may make of them. */
export interface KeepUpload {
  /** The task's `artifacts:` paths, relative to its workspace. */
  paths: string[];
  /**
   * A time-limited URL that accepts one PUT of a tar of those paths (a bearer capability: runners
   * keep it out of specs and logs, as the received URLs).
   */
  url: string;
  /** The largest upload the engine reads (bytes); the runner should refuse to send more. */
  maxBytes: number;
}

/** One artifact a task receives: `<task>/<path>` under $MAESTRO_ARTIFACTS, its digest, its URL. */
export interface ReceivedArtifact {
  path: string;
  /** `sha256:<hex>` of the bytes the producer kept. */
  digest: string;
  executable: boolean;
  /** A time-limited URL of that object (a bearer capability: runners keep it out of specs and logs). */
  url: string;
}

export const Stream = { stdout: 'stdout', stderr: 'stderr', system: 'system' } as const;
export type Stream = (typeof Stream)[keyof typeof Stream];

export interface LogLine {
  stream: Stream;
  /** One line of text, without its newline, already redacted by the runner. */
  text: string;
  /** Milliseconds since the epoch. */
  time: number;
}

/** How an attempt ended, in runner-neutral terms; the engine maps it to a task state. */
export const AttemptOutcome = {
  succeeded: 'succeeded',
  failed: 'failed',
  timedOut: 'timed_out',
  cancelled: 'cancelled',
  /** The runner could not start or track the attempt (spawn failure, API error, image missing). */
  runnerError: 'runner_error',
} as const;
export type AttemptOutcome = (typeof AttemptOutcome)[keyof typeof AttemptOutcome];

/**
 * What an attempt ran in, as the runner reports it, so its log and receipt can state it: `bwrap`
 * (the local runner's sandbox), `container`, `pod`, or `none` (no sandbox: an operator's
 * `sandbox: none`, or a GitHub Actions job VM), with the network access it had.
 */
export interface AttemptIsolation {
  sandbox: 'bwrap' | 'container' | 'pod' | 'none';
  network: NetworkAccess;
  /** Why there is no sandbox, when there is none. */
  reason?: string;
  /** The task asked for host access (`hostAccess: true`) and the runner's config granted it. */
  hostAccess?: true;
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  exitCode: number | null;
  signal?: string;
  /** Whether retrying could help: set by the runner from the failure's class, never from text. */
  retryable: boolean;
  /** A short machine reason such as `OOMKilled`, `DeadlineExceeded`, `ENOENT`. */
  reason?: string;
  message?: string;
  /** Outputs the task wrote (`key=value` lines in $MAESTRO_OUTPUT, or the runner's equivalent). */
  outputs: Record<string, string>;
  startedAt: number;
  finishedAt: number;
  /** What the attempt ran in, when it got as far as starting. */
  isolation?: AttemptIsolation;
  /** The attempt's last checkpoint (`state` message) as JSON text, redacted; absent when none. */
  state?: string;
  /** The image the attempt ran (or was refused), by digest, when an image policy checked it. */
  image?: AttemptImage;
  /**
   * Images the task built and pushed (its `image` messages, docs/task-protocol.md), each
   * `registry/repository@sha256:…`: the engine stores an SBOM for each when the attempt succeeds.
   */
  builtImages?: string[];
}

/**
 * What the resuming engine still knows of an attempt it re-attaches to, so the runner keeps its
 * promises for it: log lines redacted before they leave the runner, only declared outputs kept.
 */
export interface ReattachKnown {
  /** Values to redact (every secret of the run: the engine no longer knows which the task had). */
  redact: string[];
  /** Declared output names. */
  outputs: string[];
  /** Where the attempt was placed, as recorded when it started (the cluster to look on). */
  placement?: RunnerPlacement;
}

/**
 * Where a runner that chooses among places (the Kubernetes runner's clusters) puts an attempt:
 * recorded with the attempt before it starts, named in its receipt, and the place a resuming
 * engine re-attaches on.
 */
export interface RunnerPlacement {
  /** The operator's name for the cluster (a key of the runner's `clusters`, or `default`). */
  cluster: string;
  /** The backend's namespace the attempt runs in (a Kubernetes namespace). */
  namespace?: string;
}

/** A placement, or why the task cannot be placed (a stable reason, and a message naming what). */
export type PlacementAnswer =
  { placement: RunnerPlacement } | { refused: { reason: string; message: string } };

export interface RunnerHandle {
  /** Log lines as they arrive; ends when the attempt ends. */
  logs(): AsyncIterable<LogLine>;
  /** Resolves when the attempt has ended and its resources are released. Never rejects. */
  wait(): Promise<AttemptResult>;
  /** Ask the attempt to stop (SIGTERM or equivalent), then force it after `graceMs`. */
  cancel(reason: string, graceMs?: number): Promise<void>;
}

/**
 * What this runner's configuration grants a task, for the policy input: read from the operator's
 * real settings, never guessed. `privileged`: the task's container runs privileged.
 * `hostNetwork`: the task's container or pod shares the host's network namespace (Docker
 * `--network host`, a pod's `hostNetwork`). A runner that cannot be configured either way says false.
 */
export interface RunnerPosture {
  privileged: boolean;
  hostNetwork: boolean;
  /** The cluster the task would run on, for runners that place work (see `RunnerPlacement`). */
  cluster?: string;
}

export interface Runner {
  /** Registry name: `local`, `container`, `kubernetes`, ... */
  readonly kind: string;
  /**
   * True when its tasks run away from the engine's disk and fetch what they receive themselves
   * (a Kubernetes pod): only such a runner gets `request.received`, the presigned URLs, and
   * `request.sourceHeader`, the credential of the run's source.
   */
  readonly fetchesReceived?: boolean;
  /**
   * True when its tasks' workspaces stay where they ran (a pod's emptyDir): such a runner gets
   * `request.keep` and uploads the declared paths itself; the engine keeps what was uploaded.
   */
  readonly uploadsKept?: boolean;
  /**
   * True only when the operator granted this runner host access in the runners config
   * (`local: { hostAccess: granted }`). Absent means refuse: a task that says `hostAccess: true`
   * never starts on a runner without it.
   */
  readonly grantsHostAccess?: boolean;
  /** The posture a task with this resource class and namespace gets (for policy, before it starts). */
  posture(task: { resources: string; namespace: string }): RunnerPosture;
  /**
   * Where a task of this resource class and namespace would run, for runners that choose among
   * places. The engine asks before a run is stored (a refusal refuses the run, as an unknown
   * runner does) and records the answer with each attempt before it starts.
   */
  place?(task: { resources: string; namespace: string }): PlacementAnswer;
  start(request: RunnerStartRequest): Promise<RunnerHandle>;
  /**
   * Re-attach to an attempt started before a crash, if the backend can (a Kubernetes Job can,
   * a local child process cannot). Returns undefined when there is nothing to attach to.
   */
  reattach?(ref: AttemptRef, known?: ReattachKnown): Promise<RunnerHandle | undefined>;
  close?(): Promise<void>;
}

/** A registry of runners by kind, so manifests pick by name and operators plug in more. */
export class RunnerRegistry {
  readonly #runners = new Map<string, Runner>();

  register(runner: Runner): this {
    this.#runners.set(runner.kind, runner);
    return this;
  }

  get(kind: string): Runner | undefined {
    return this.#runners.get(kind);
  }

  kinds(): string[] {
    return [...this.#runners.keys()].sort();
  }
}
