/**
 * The policy choice every engine of a runtime gets: the OPA gate over the default or an
 * operator's bundle, with decisions logged in <data-dir>/decisions.db, or in the PostgreSQL
 * database of MAESTRO_DATABASE_URL (one chain for every replica); or the explicit `off`.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  ensurePrivateDatabaseFile,
  policyOff,
  systemClock,
  type Clock,
  type PolicyChoice,
} from '../core/index.ts';
import { databaseKind, openPostgresDecisionLog } from '../engine/index.ts';
import {
  createOpaPolicyGate,
  defaultBundlePath,
  openDecisionLog,
  type DecisionLog,
} from '../policy/index.ts';
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
  /** MAESTRO_DATABASE_URL: PostgreSQL when it names one, else `<dataDir>/decisions.db`. */
  databaseUrl?: string | undefined;
}

/** The decision log the settings name (PostgreSQL, or the data dir's SQLite file). */
export async function openPolicyLog(setting: DecisionLogSetting): Promise<DecisionLog> {
  if (databaseKind(setting.databaseUrl) === 'postgres') return openPostgresDecisionLog(setting.databaseUrl!);
  // The decision log gets the store's durability: WAL, and an fsync per commit only with `full`.
  // Created 0600 before SQLite opens it (secrets at rest: the log holds inputs).
  const file = join(setting.dataDir, 'decisions.db');
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${setting.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  const log = openDecisionLog(db);
  return {
    ...log,
    close: async () => {
      if (db.isOpen) db.close();
    },
  };
}

export async function openPolicy(
  setting: PolicySetting,
  logSetting: DecisionLogSetting,
  clock: Clock = systemClock,
): Promise<OpenedPolicy> {
  if (setting.kind === 'off') return { choice: policyOff(setting.source), close: async () => undefined };
  const bundle = setting.kind === 'default' ? (setting.path ?? defaultBundlePath) : setting.path;
  const log = await openPolicyLog(logSetting);
  // The built-in bundle is our own trusted Rego (bounded: no recursion, iterates only over the
  // input's lists), so it is evaluated inline, saving a worker round trip per attempt; an
  // operator's bundle keeps the worker's hard deadline (docs/policy.md "Deadline").
  const isolation = setting.kind === 'default' ? 'inline' : 'worker';
  const gate = createOpaPolicyGate({ bundle, log, clock, isolation });
  return { choice: gate, log, close: () => log.close() };
}
