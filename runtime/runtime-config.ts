/**
 * The one configuration every surface hands to openRuntime: plain data, read once by the surface
 * (runtimeConfigFromEnv, or built by hand in a test), so the CLI, the App, the Action and the
 * server cannot wire the same parts differently.
 */
import type { PriceTable, S3ArtifactStoreOptions } from '../engine/index.ts';
import type { SigningConfig } from '../provenance/index.ts';

export type Durability = 'normal' | 'full';

/**
 * `default`: the built-in bundle. `bundle`: an operator's bundle.tar.gz. `off`: policy turned
 * off on purpose; `source` says where (`MAESTRO_POLICY=off`, `--policy off`) for the log,
 * check runs and receipts.
 */
export type PolicySetting =
  /**
   * `path`: where the built-in bundle is when it is not beside policy/ (the bundled Action runs
   * from action/dist and reads its checkout's policy/default/bundle.tar.gz); still evaluated inline.
   */
  { kind: 'default'; path?: string } | { kind: 'bundle'; path: string } | { kind: 'off'; source: string };

export type TraceExporter = 'console' | 'otlp' | 'none';

export interface RunnersSetting {
  /** The runners file the sections came from (named in errors), when there is one. */
  file?: string;
  /** One section per runner kind (RUNNER_FACTORIES); `local` is always there. */
  sections: Record<string, Record<string, unknown>>;
  /** How sections not from the file came to be (e.g. a detected Docker socket), for the log. */
  notes: string[];
  /** The file's `imagePolicy` section, as written (parsed by openImageGate). */
  imagePolicy?: unknown;
  /** Where the image gate reads registry credentials (provenance registryAuthFile). */
  registryAuthFile?: string;
  /** The environment credential helpers run with (provenance credentialHelperEnv: minimal). */
  registryHelperEnv?: Record<string, string>;
}

export interface RuntimeConfig {
  dataDir: string;
  /** MAESTRO_DATABASE_URL: unset for SQLite in the data dir; `postgres://…` (engine/store/README.md). */
  databaseUrl?: string;
  durability: Durability;
  policy: PolicySetting;
  /** `off`: no receipts (MAESTRO_PROVENANCE=off). */
  provenance: 'on' | 'off';
  /**
   * How receipts are signed (keyless, an operator key, else the development receipt key) and
   * approval attestations (MAESTRO_APPROVAL_SIGNING_KEY, else the development approval key).
   */
  signing: SigningConfig;
  runners: RunnersSetting;
  /** Paths no task may see: the data directory, the secrets files, the signing keys and their folders. */
  hiddenPaths: string[];
  /** The local runner's sandbox unless its section says otherwise: `job-vm` inside GitHub Actions. */
  localSandbox: 'bwrap' | 'job-vm';
  /** Secrets trusted runs may use. */
  secrets: Record<string, string>;
  /** PATH, HOME, LANG, TMPDIR for tasks on the local runner. */
  baseEnv: Record<string, string>;
  tracing: { exporter: TraceExporter };
  /**
   * OTLP export of `maestro server`'s metrics: on when OTEL_EXPORTER_OTLP_ENDPOINT (or
   * OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) is set and OTEL_METRICS_EXPORTER is not `none`; every
   * OTEL_METRIC_EXPORT_INTERVAL ms (default 60 000). Absent: /metrics only.
   */
  metrics?: { exporter: 'otlp'; intervalMs: number; timeoutMs: number };
  /** pino level for the engine's log (default silent for the CLI). */
  logLevel: string;
  /** Concurrent attempts (default: CPU count). */
  concurrency?: number;
  /**
   * MAESTRO_REATTEMPTS: new attempts a task gets after its attempt was lost to a crash of the
   * engine or worker running it, apart from its retry limit (engine default 3; 0: never).
   */
  reattempts?: number;
  /** MAESTRO_LEASE_TTL: the engine's lease time to live in ms (engine default 15 s). */
  leaseMs?: number;
  /** --worker-runs or MAESTRO_WORKER_RUNS: runs the server's worker role executes at once (default 32). */
  workerRuns?: number;
  /**
   * MAESTRO_ARTIFACT_STORE=s3://…: the bucket container and Kubernetes tasks' artifacts move
   * through (credentials as a function, never a plain value). Unset: the data dir.
   */
  artifactStore?: S3ArtifactStoreOptions;
  /** MAESTRO_PRICE_TABLE: the operator's price table over the default one (docs/budgets.md). */
  prices?: PriceTable;
  /**
   * MAESTRO_PUBLIC_URL (`maestro server --public-url`): where the console is reachable, an
   * absolute http(s) URL without a trailing slash; attempt spans link to their task's page there.
   */
  publicUrl?: string;
}
