/**
 * Gathers a run's evidence from the store and the data dir for `maestro disclose` and the
 * Action's mode `run`: the plan, the latest receipts, the artifact bytes each receipt attests,
 * the policy decisions and approval.
 */
import { constants, existsSync, openSync, readFileSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, sha256Digest } from '../core/index.ts';
import type { AsyncStore } from './store/async-store.ts';
import { formatDecisionLog, openDecisionLog, type DecisionLog } from '../policy/index.ts';
import { databaseKind } from './store/open-store.ts';
import { openPostgresDecisionLog } from './store/postgres/postgres-decision-log.ts';
import type { AsyncSqliteStore } from './store/sqlite/async-sqlite-store.ts';
import { LEGACY_DECISION_LOG, sqliteDecisionLog } from './store/sqlite/sqlite-decision-log.ts';
import { ARTIFACT_SUBJECT_PREFIX, type DisclosureInput, type ReceiptStatement } from '../provenance/index.ts';

export interface GatherOptions {
  dataDir: string;
  manifest?: string;
  decisions?: Buffer;
  approval?: unknown;
  trustedRoot?: unknown;
  now: number;
  /** MAESTRO_DATABASE_URL: the decision log is read from PostgreSQL when it names one. */
  databaseUrl?: string | undefined;
}

/**
 * Where a data dir kept the policy decision log before it moved into the store's `maestro.db`
 * (store/sqlite/sqlite-decision-log.ts): read when present (a data dir no engine of this version
 * opened yet), when --decisions is not given.
 */
export const DECISION_LOG_DB = LEGACY_DECISION_LOG;

export async function gatherDisclosure(
  store: AsyncStore,
  runId: string,
  options: GatherOptions,
): Promise<DisclosureInput> {
  const run = await store.getRun(runId);
  const receipts = await store.listReceipts(runId);
  const attempts = await store.listAttempts(runId);
  const runReceipts = receipts.filter((r) => r.taskId === '').sort((a, b) => b.attempt - a.attempt);
  const attemptReceipts = receipts.filter((r) => r.taskId !== '');
  const artifacts: DisclosureInput['artifacts'] = [];
  const decisionIds = new Set<string>();
  for (const receipt of attemptReceipts) {
    const statement = decodeStatement(receipt.bundle);
    const maestro = statement.predicate.buildDefinition.internalParameters.maestro;
    if (maestro.kind === 'attempt') for (const id of maestro.policy.decisionIds) decisionIds.add(id);
    const attempt = attempts.find((a) => a.taskId === receipt.taskId && a.attempt === receipt.attempt);
    for (const subject of statement.subject) {
      if (!subject.name?.startsWith(ARTIFACT_SUBJECT_PREFIX)) continue;
      if (!attempt)
        throw new InputError(
          'disclose_artifact_missing',
          `no attempt record for ${receipt.taskId}#${receipt.attempt}`,
        );
      const path = subject.name.slice(ARTIFACT_SUBJECT_PREFIX.length);
      const data = readArtifact(attempt.artifactsDir, path);
      if (sha256Digest(data) !== `sha256:${subject.digest.sha256}`)
        throw new InputError(
          'disclose_artifact_changed',
          `artifact ${path} of ${receipt.taskId}#${receipt.attempt} changed since it was attested`,
        );
      artifacts.push({ taskId: receipt.taskId, attempt: receipt.attempt, path, data });
    }
  }
  const decisions =
    options.decisions !== undefined
      ? filterDecisions(options.decisions.toString('utf8'), decisionIds)
      : await runDecisions(store, options, runId);
  return {
    runId,
    createdAt: options.now,
    plan: run.plan,
    ...(options.manifest !== undefined ? { manifest: options.manifest } : {}),
    ...(runReceipts[0] ? { runReceipt: runReceipts[0].bundle } : {}),
    attemptReceipts: attemptReceipts.map((r) => ({ taskId: r.taskId, attempt: r.attempt, bundle: r.bundle })),
    artifacts,
    ...(decisions ? { policyDecisions: decisions } : {}),
    ...(options.approval !== undefined ? { approval: options.approval } : {}),
    ...(options.trustedRoot !== undefined ? { trustedRoot: options.trustedRoot } : {}),
  };
}

function decodeStatement(bundle: unknown): ReceiptStatement {
  const payload = (bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope?.payload ?? '';
  return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as ReceiptStatement;
}

/** Reads an artifact without following symlinks: a task could plant one pointing anywhere. */
function readArtifact(dir: string, path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(join(dir, path), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (cause) {
    throw new InputError(
      'disclose_artifact_missing',
      `cannot read artifact ${join(dir, path)}: ${(cause as Error).message}`,
      {
        cause,
        hint: 'artifacts must be regular files (symlinks are refused) that still exist in the data dir',
      },
    );
  }
  try {
    if (!fstatSync(fd).isFile())
      throw new InputError('disclose_artifact_missing', `${join(dir, path)} is not a regular file`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * This run's entries of the hash-chained decision log, as exported JSON lines. Each entry keeps
 * its own hash (verifiable alone); its prevHash points into the full log, kept by the operator.
 */
async function runDecisions(
  store: AsyncStore,
  options: GatherOptions,
  runId: string,
): Promise<string | undefined> {
  let log: DecisionLog;
  const legacy = join(options.dataDir, DECISION_LOG_DB);
  if (databaseKind(options.databaseUrl) === 'postgres')
    log = await openPostgresDecisionLog(options.databaseUrl!);
  else if (existsSync(legacy)) log = openDecisionLog(legacy);
  else if ('sync' in store) log = sqliteDecisionLog(store as AsyncSqliteStore, options.dataDir);
  else return undefined;
  try {
    const entries = await log.entriesOf(runId);
    return entries.length ? formatDecisionLog(entries) : undefined;
  } finally {
    await log.close();
  }
}

/** Keeps the lines of a given decision log that are this run's decisions (`decisionId`, or OPA's `decision_id`). */
function filterDecisions(log: string, ids: Set<string>): string {
  return log
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const entry = JSON.parse(line) as { decision_id?: string; decisionId?: string; id?: string };
        const id = entry.decision_id ?? entry.decisionId ?? entry.id;
        return id !== undefined && ids.has(id);
      } catch {
        return false;
      }
    })
    .map((line) => `${line}\n`)
    .join('');
}
