/**
 * The policy choice every engine of a runtime gets: the OPA gate over the default or an
 * operator's bundle, with decisions logged in <data-dir>/decisions.db; or the explicit `off`.
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
import { createOpaPolicyGate, defaultBundlePath, openDecisionLog } from '../policy/index.ts';
import type { Durability, PolicySetting } from './runtime-config.ts';

export interface OpenedPolicy {
  choice: PolicyChoice;
  close(): void;
}

export function openPolicy(
  setting: PolicySetting,
  dataDir: string,
  durability: Durability,
  clock: Clock = systemClock,
): OpenedPolicy {
  if (setting.kind === 'off') return { choice: policyOff(setting.source), close: () => undefined };
  const bundle = setting.kind === 'default' ? (setting.path ?? defaultBundlePath) : setting.path;
  // The decision log gets the store's durability: WAL, and an fsync per commit only with `full`.
  // Created 0600 before SQLite opens it (secrets at rest: the log holds inputs).
  ensurePrivateDatabaseFile(join(dataDir, 'decisions.db'));
  const db = new DatabaseSync(join(dataDir, 'decisions.db'), { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  // The built-in bundle is our own trusted Rego (bounded: no recursion, iterates only over the
  // input's lists), so it is evaluated inline, saving a worker round trip per attempt; an
  // operator's bundle keeps the worker's hard deadline (docs/policy.md "Deadline").
  const isolation = setting.kind === 'default' ? 'inline' : 'worker';
  const gate = createOpaPolicyGate({ bundle, log: openDecisionLog(db), clock, isolation });
  return {
    choice: gate,
    close: () => {
      if (db.isOpen) db.close();
    },
  };
}
