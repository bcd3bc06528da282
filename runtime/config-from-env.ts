/**
 * RuntimeConfig from a surface's environment and flags. Only surfaces read the environment
 * (DESIGN.md): this function never touches process.env; each surface passes its own `env` (the
 * CLI its io.env, the App its process env, the Action its inputs mapped to the same names), so
 * every surface reads the same variables the same way. Flags win over variables.
 *
 * MAESTRO_DATA_DIR, MAESTRO_RUNNERS_CONFIG, DOCKER_HOST (and the default sockets),
 * MAESTRO_CONTAINER_IMAGE, GITHUB_ACTIONS (the local runner's sandbox default), MAESTRO_SIGNING_KEY / MAESTRO_SIGNING=keyless,
 * MAESTRO_APPROVAL_SIGNING_KEY, MAESTRO_POLICY, MAESTRO_DURABILITY, MAESTRO_REATTEMPTS, MAESTRO_PROVENANCE,
 * MAESTRO_LEASE_TTL, MAESTRO_WORKER_RUNS,
 * MAESTRO_OTEL_EXPORTER (with the standard OTEL_EXPORTER_OTLP_* for otlp; unset, OTLP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, for traces and the server's metrics: OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_METRICS_EXPORTER, OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED), MAESTRO_LOG_LEVEL,
 * MAESTRO_SECRET_<NAME>, MAESTRO_ARTIFACT_STORE (with MAESTRO_ARTIFACT_STORE_ENDPOINT and the
 * standard AWS_* credentials: artifact-store-setting.ts).
 */
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/index.ts';
import { parseDuration } from '../compiler/index.ts';
import { credentialHelperEnv, registryAuthFile, signingConfigFromEnv } from '../provenance/index.ts';
import { baseEnvFrom } from '../runners/index.ts';
import { artifactStoreFrom } from './artifact-store-setting.ts';
import { detectedContainerSection, findDockerSocket } from './docker-socket.ts';
import { IMAGE_POLICY_KEY, readRunnersFile } from './runners-file.ts';
import type {
  Durability,
  PolicySetting,
  RunnersSetting,
  RuntimeConfig,
  TraceExporter,
} from './runtime-config.ts';
import { loadSecrets } from './secrets-file.ts';
import { priceTableSetting } from './price-table-file.ts';

export type Env = Record<string, string | undefined>;

/** What a surface's command line may set instead of the variables. */
export interface RuntimeFlags {
  dataDir?: string;
  secrets?: string;
  policy?: string;
  runners?: string;
  concurrency?: number;
  /** `maestro server --worker-runs` (a whole number, as MAESTRO_WORKER_RUNS takes). */
  workerRuns?: string;
  /** `maestro server --public-url` (as MAESTRO_PUBLIC_URL takes). */
  publicUrl?: string;
}

export interface RuntimeConfigSource {
  cwd: string;
  flags?: RuntimeFlags;
  /** Socket check, injectable for tests. */
  socketExists?: (path: string) => boolean;
}

export function runtimeConfigFromEnv(env: Env, source: RuntimeConfigSource): RuntimeConfig {
  const { cwd, flags = {} } = source;
  const dataDir = resolveDataDir(flags.dataDir, env, cwd);
  // The runners file first: a bad one fails before anything else is read or opened.
  const runners = runnersSetting(flags.runners, env, cwd, source.socketExists);
  const prices = priceTableSetting(env.MAESTRO_PRICE_TABLE, cwd);
  const signing = signingConfigFromEnv(env, dataDir);
  const artifactStore = artifactStoreFrom(env);
  return {
    dataDir,
    ...(env.MAESTRO_DATABASE_URL ? { databaseUrl: env.MAESTRO_DATABASE_URL } : {}),
    durability: durabilityFrom(env),
    policy: policySetting(flags.policy, env, cwd),
    provenance: provenanceFrom(env),
    signing,
    runners,
    hiddenPaths: hiddenPaths(dataDir, flags.secrets, env, cwd),
    // Inside GitHub Actions the job's VM is the sandbox (GitHub isolates each job and withholds
    // secrets from forks): bubblewrap when it works there, else none, said in the job summary.
    localSandbox: env.GITHUB_ACTIONS === 'true' ? 'job-vm' : 'bwrap',
    secrets: loadSecrets(flags.secrets, dataDir, env, cwd),
    baseEnv: baseEnvFrom(env),
    tracing: { exporter: traceExporterFrom(env) },
    ...metricsExportFrom(env),
    logLevel: env.MAESTRO_LOG_LEVEL ?? 'silent',
    ...concurrencyFrom(flags.concurrency, env.MAESTRO_CONCURRENCY),
    ...(env.MAESTRO_REATTEMPTS === undefined ? {} : { reattempts: reattemptsFrom(env.MAESTRO_REATTEMPTS) }),
    ...(env.MAESTRO_LEASE_TTL === undefined ? {} : { leaseMs: leaseTtlFrom(env.MAESTRO_LEASE_TTL) }),
    ...workerRunsSetting(flags.workerRuns, env.MAESTRO_WORKER_RUNS),
    ...(artifactStore ? { artifactStore } : {}),
    ...prices,
    ...publicUrlSetting(flags.publicUrl, env.MAESTRO_PUBLIC_URL),
  };
}

/** `--public-url`, else MAESTRO_PUBLIC_URL; neither: no public URL. */
function publicUrlSetting(flag: string | undefined, value: string | undefined): { publicUrl?: string } {
  if (flag !== undefined) return { publicUrl: publicUrlFrom(flag, '--public-url ') };
  return value === undefined || value === '' ? {} : { publicUrl: publicUrlFrom(value) };
}

/**
 * Where the console is reachable: an absolute http(s) URL, kept without a trailing slash. No
 * user or password (it is copied into every attempt's span, so into the trace backend), no query
 * or fragment (task pages are paths and queries under it).
 */
export function publicUrlFrom(value: string, name = 'MAESTRO_PUBLIC_URL='): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const why = !url
    ? 'is not an absolute URL'
    : !['http:', 'https:'].includes(url.protocol)
      ? 'is not an http or https URL'
      : url.username || url.password
        ? 'holds a user or password (it is copied into every trace)'
        : url.search || url.hash
          ? 'has a query or fragment'
          : undefined;
  if (why || !url)
    throw new UsageError(
      `${name}${url && (url.username || url.password) ? '<redacted>' : value} ${why} (where the console is reachable, such as https://maestro.example.com)`,
    );
  return url.href.replace(/\/+$/, '');
}

/** MAESTRO_REATTEMPTS=n: new attempts a task gets after crashes of its engine (EngineOptions.reattempts). */
export function reattemptsFrom(value: string): number {
  if (/^\d{1,3}$/.test(value)) return Number(value);
  throw new UsageError(
    `MAESTRO_REATTEMPTS=${value} is not a whole number from 0 to 999 (how many times a task interrupted by a crash of its engine is run again; default 3)`,
  );
}

/**
 * MAESTRO_LEASE_TTL=15s: how long a run's or an attempt's lease lives without a renewal (renewed
 * at a third of it), so how long a dead worker's runs wait before another worker resumes them.
 * A duration (`500ms`, `15s`, `1m`) from 300 ms to 10 minutes.
 */
export function leaseTtlFrom(value: string): number {
  let ms: number | undefined;
  try {
    ms = parseDuration(value);
  } catch {
    ms = undefined;
  }
  if (ms !== undefined && ms >= 300 && ms <= 600_000) return ms;
  throw new UsageError(
    `MAESTRO_LEASE_TTL=${value} is not a duration from 300ms to 10m (how long a worker's leases live without a renewal; default 15s)`,
  );
}

/** `--worker-runs`, else MAESTRO_WORKER_RUNS; neither: the worker's default. */
function workerRunsSetting(flag: string | undefined, value: string | undefined): { workerRuns?: number } {
  if (flag !== undefined) return { workerRuns: workerRunsFrom(flag, '--worker-runs ') };
  return value === undefined ? {} : { workerRuns: workerRunsFrom(value) };
}

/** MAESTRO_WORKER_RUNS=n: runs one worker executes at once (default 32), so other workers get the rest. */
export function workerRunsFrom(value: string, what = 'MAESTRO_WORKER_RUNS='): number {
  if (/^\d{1,4}$/.test(value) && Number(value) >= 1) return Number(value);
  throw new UsageError(
    `${what}${value} is not a whole number from 1 to 9999 (runs one worker executes at once; default 32)`,
  );
}

/**
 * The command line's `--concurrency`, else MAESTRO_CONCURRENCY: tasks one process runs at once
 * (EngineOptions.concurrency; unset: the CPU count). A server whose tasks run on Kubernetes or in
 * containers waits on them rather than computing, so it wants far more than its CPUs
 * (bench/scheduler: 2 slots capped a no-op run at ~15 runs/s on 2 cores).
 */
function concurrencyFrom(flag: number | undefined, value: string | undefined): { concurrency?: number } {
  if (flag !== undefined) return { concurrency: flag };
  if (value === undefined) return {};
  if (/^\d{1,5}$/.test(value) && Number(value) >= 1) return { concurrency: Number(value) };
  throw new UsageError(
    `MAESTRO_CONCURRENCY=${value} is not a whole number from 1 to 99999 (tasks this process runs at once; default: the CPU count)`,
  );
}

/**
 * What no task may see even under the read-only installation it reads catalog tasks from: the
 * data directory (stores, development keys), the secrets files, the operator's keys and their folders.
 */
function hiddenPaths(dataDir: string, secretsFlag: string | undefined, env: Env, cwd: string): string[] {
  const keys = [env.MAESTRO_SIGNING_KEY, env.MAESTRO_APPROVAL_SIGNING_KEY]
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .map((p) => resolve(cwd, p));
  return [
    dataDir,
    join(dataDir, 'secrets.env'),
    ...(secretsFlag ? [resolve(cwd, secretsFlag)] : []),
    ...keys,
    ...keys.map((k) => dirname(k)),
  ];
}

/** `--data-dir`, else MAESTRO_DATA_DIR, else $XDG_DATA_HOME/maestro, else ~/.local/share/maestro. */
export function resolveDataDir(flag: string | undefined, env: Env, cwd: string): string {
  const chosen = flag ?? env.MAESTRO_DATA_DIR;
  if (chosen !== undefined && chosen !== '') return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'maestro');
  return join(env.HOME ?? homedir(), '.local', 'share', 'maestro');
}

/** MAESTRO_DURABILITY=normal (default: survives kill -9) or full (also power loss; fsync per commit). */
export function durabilityFrom(env: Env): Durability {
  const value = env.MAESTRO_DURABILITY ?? 'normal';
  if (value === 'normal' || value === 'full') return value;
  throw new UsageError(`MAESTRO_DURABILITY=${value} is not one of normal, full`);
}

/** `--policy`, else MAESTRO_POLICY: `default`, `off`, or a bundle.tar.gz path. */
function policySetting(flag: string | undefined, env: Env, cwd: string): PolicySetting {
  const choice = flag ?? env.MAESTRO_POLICY ?? 'default';
  if (choice === 'default' || choice === '') return { kind: 'default' };
  if (choice === 'off')
    return { kind: 'off', source: flag !== undefined ? '--policy off' : 'MAESTRO_POLICY=off' };
  return { kind: 'bundle', path: resolve(cwd, choice) };
}

function provenanceFrom(env: Env): 'on' | 'off' {
  const value = env.MAESTRO_PROVENANCE ?? 'on';
  if (value === 'on' || value === 'off') return value;
  throw new UsageError(`MAESTRO_PROVENANCE=${value} is not one of on, off`);
}

/** True when the standard variables ask for OTLP export of this signal (and the SDK is not disabled). */
function otlpWanted(env: Env, signal: 'TRACES' | 'METRICS'): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env[`OTEL_${signal}_EXPORTER`] === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
}

function traceExporterFrom(env: Env): TraceExporter {
  // MAESTRO_OTEL_EXPORTER wins; else an OTLP endpoint means OTLP, as every OpenTelemetry SDK does.
  const value = env.MAESTRO_OTEL_EXPORTER ?? (otlpWanted(env, 'TRACES') ? 'otlp' : 'none');
  if (value === 'console' || value === 'otlp' || value === 'none') return value;
  throw new UsageError(`MAESTRO_OTEL_EXPORTER=${value} is not one of console, otlp, none`);
}

function metricsExportFrom(env: Env): Pick<RuntimeConfig, 'metrics'> {
  if (!otlpWanted(env, 'METRICS')) return {};
  const ms = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value > 0) return value;
    throw new UsageError(`${name}=${raw} is not a positive whole number of milliseconds`);
  };
  return {
    metrics: {
      exporter: 'otlp',
      intervalMs: ms('OTEL_METRIC_EXPORT_INTERVAL', 60_000),
      timeoutMs: ms('OTEL_METRIC_EXPORT_TIMEOUT', 30_000),
    },
  };
}

/**
 * The file named by the flag, else MAESTRO_RUNNERS_CONFIG; `local` is always there; `container`
 * is there when the file has it, else whenever a Docker Engine API socket is found.
 */
function runnersSetting(
  flag: string | undefined,
  env: Env,
  cwd: string,
  socketExists?: (path: string) => boolean,
): RunnersSetting {
  const chosen = flag ?? env.MAESTRO_RUNNERS_CONFIG;
  const file = chosen === undefined || chosen === '' ? undefined : resolve(cwd, chosen);
  const { [IMAGE_POLICY_KEY]: imagePolicy, ...sections } = file ? readRunnersFile(file) : {};
  const notes: string[] = [];
  sections.local ??= {};
  if (!sections.container) {
    const { found, note } = findDockerSocket(env, socketExists);
    if (note) notes.push(note);
    if (found) {
      sections.container = detectedContainerSection(found, env);
      notes.push(`container runner on ${found.socketPath} (${found.from}), with the safe defaults`);
    }
  }
  return {
    ...(file ? { file } : {}),
    sections,
    notes,
    ...(imagePolicy ? { imagePolicy } : {}),
    // The registry credentials of the image gate and of built images' SBOMs: the auth file Docker
    // and Podman write for this user.
    registryAuthFile: registryAuthFile(env, env.HOME || homedir()),
    // Its credential helpers get only what they need, never the server's secrets.
    registryHelperEnv: credentialHelperEnv(env),
  };
}
