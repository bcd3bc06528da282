/** What every part of one engine instance shares (passed explicitly; no module state). */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type {
  Attestor,
  BuiltImageRecorder,
  Clock,
  PolicyChoice,
  RandomSource,
  RunnerRegistry,
  SourceFetcher,
  TaskCatalog,
  TelemetrySink,
} from '../core/index.ts';
import type { RemoteArtifacts } from './artifact-store/artifact-store.ts';
import type { CircuitBreaker } from './breaker.ts';
import type { SharedEstimates } from './budget-reads.ts';
import type { PriceTable } from './cost.ts';
import type { EngineEvent } from './events.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { WorkloadIdentityIssuer } from './workload-identity.ts';
import type { HttpProbe } from './wait/http-wait.ts';

export interface EngineContext {
  store: AsyncStore;
  runners: RunnerRegistry;
  catalog: TaskCatalog | undefined;
  policy: PolicyChoice;
  attestor: Attestor | undefined;
  builtImages: BuiltImageRecorder | undefined;
  /** Signs `${workload.identity}` for a task that uses it; undefined: such a task fails (fail closed). */
  workloadIdentity: WorkloadIdentityIssuer | undefined;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  tracer: Tracer;
  dataDir: string;
  secrets: Record<string, string>;
  breaker: CircuitBreaker;
  /** This engine instance, as lease owner: `host|pid|uuid`. */
  owner: string;
  leaseMs: number;
  graceMs: number;
  /** New attempts a task gets after crashes of its engine (EngineOptions.reattempts). */
  reattempts: number;
  nodePath: string;
  taskNodeArgs: string[];
  /** EngineOptions.catalogTaskDigest. */
  catalogTaskDigest: (folder: string) => Promise<string>;
  source: SourceFetcher | undefined;
  emit: (event: EngineEvent) => void;
  redactAll: (text: string) => string;
  /** Key of the HMAC over a task's secrets in its cache key. */
  cacheSecret: Buffer;
  /** The object store artifacts of some runners' tasks move through (artifact-transfer.ts). */
  artifacts: RemoteArtifacts | undefined;
  /** Where the console is reachable (EngineOptions.publicUrl), for the attempt span's URL. */
  publicUrl: string | undefined;
  /** What attempts cost: the operator's price table or the default one (cost.ts). */
  prices: PriceTable;
  /** Task estimates shared by this engine's executions for a few seconds (budget-reads.ts). */
  estimates: SharedEstimates;
  /** Where placement savings and other measurements go (EngineOptions.telemetry). */
  telemetry: TelemetrySink | undefined;
  /** A `wait` task's HTTP request (EngineOptions.httpProbe). */
  httpProbe: HttpProbe | undefined;
}
