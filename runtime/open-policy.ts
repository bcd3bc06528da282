/**
 * The policy choice every engine of a runtime gets: the OPA gate over the default or an
 * operator's bundle, with decisions logged in the engine's own database (SQLite's
 * <data-dir>/maestro.db, through its group commit; or the PostgreSQL database of
 * MAESTRO_DATABASE_URL, one chain for every replica); or the explicit `off`.
 */
import { policyOff, systemClock, type Clock, type PolicyChoice } from '../core/index.ts';
import {
  databaseKind,
  openPostgresDecisionLog,
  sqliteDecisionLog,
  type AsyncSqliteStore,
  type AsyncStore,
} from '../engine/index.ts';
import { createOpaPolicyGate, defaultBundlePath, type DecisionLog } from '../policy/index.ts';
import type { Durability, PolicySetting } from './runtime-config.ts';

export interface OpenedPolicy {
  choice: PolicyChoice;
  /** Where the gate records its decisions; undefined with the policy off. */
  log?: DecisionLog;
  close(): Promise<void>;
}

export interface DecisionLogSetting {
  dataDir: string;
  durability: Durability;
  /** MAESTRO_DATABASE_URL: PostgreSQL when it names one, else the engine's SQLite store. */
  databaseUrl?: string | undefined;
}

/**
 * The decision log the settings name: PostgreSQL's, or on SQLite the one in `store`'s database
 * (its durability, its group commit: sqlite-decision-log.ts, which also takes over an older data
 * dir's `decisions.db`). On SQLite the store is required: a second connection to `maestro.db` in
 * this process would wait for the write lock the store's open batch holds.
 */
export async function openPolicyLog(setting: DecisionLogSetting, store?: AsyncStore): Promise<DecisionLog> {
  if (databaseKind(setting.databaseUrl) === 'postgres') return openPostgresDecisionLog(setting.databaseUrl!);
  if (!store || !('sync' in store))
    throw new Error('the SQLite decision log needs the engine store it lives in');
  return sqliteDecisionLog(store as AsyncSqliteStore, setting.dataDir);
}

export async function openPolicy(
  setting: PolicySetting,
  logSetting: DecisionLogSetting,
  store: AsyncStore,
  clock: Clock = systemClock,
): Promise<OpenedPolicy> {
  if (setting.kind === 'off') return { choice: policyOff(setting.source), close: async () => undefined };
  const bundle = setting.kind === 'default' ? (setting.path ?? defaultBundlePath) : setting.path;
  const log = await openPolicyLog(logSetting, store);
  // The built-in bundle is our own trusted Rego (bounded: no recursion, iterates only over the
  // input's lists), so it is evaluated inline, saving a worker round trip per attempt; an
  // operator's bundle keeps the worker's hard deadline (docs/policy.md "Deadline").
  const isolation = setting.kind === 'default' ? 'inline' : 'worker';
  const gate = createOpaPolicyGate({ bundle, log, clock, isolation });
  return { choice: gate, log, close: () => log.close() };
}
