import type { Logger } from 'pino';
import type { Clock } from '../core/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { ApiStore } from './api-store.ts';
import type { PlanLayouts } from './plan-layout.ts';

/** What every route handler is given: one object per server, passed explicitly. */
export interface ApiContext {
  runtime: Runtime;
  apiStore: ApiStore;
  /** MAESTRO_TEAMS_FILE: the teams `from: [team:…]` names (teams-file.ts); unset: no teams. */
  teamsFile?: string;
  /** MAESTRO_RUNBOOKS_FILE: the runbooks SIG may trigger, per namespace (runbooks-file.ts); unset: none. */
  runbooksFile?: string;
  /** MAESTRO_APPROVAL_TTL_HOURS: an approval counts this long after it was given (default 7 days, as on GitHub). */
  approvalTtlMs?: number;
  /** The DAG layouts by plan digest (GET /v1/runs/{id}/graph), warmed when a workflow is stored. */
  layouts: PlanLayouts;
  clock: Clock;
  logger: Logger;
  /** Tells the worker role a run is queued (a no-op when this process has no worker role). */
  wake(runId: string): void;
}
