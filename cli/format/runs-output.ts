/**
 * What `maestro runs list|show|logs` print, in one place for both sources: the local store and a
 * server (`--server`), so the two outputs cannot drift apart. The shapes are the CLI's own (its
 * JSON is a promise to scripts); the server's answers are mapped into them by runs-remote.ts.
 */
import type { StoredLogLine } from '../../engine/index.ts';
import type { CliIo } from '../io.ts';

export type RunsFormat = 'text' | 'json';

export interface RunListItem {
  id: string;
  workflow: string;
  namespace: string;
  status: string;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunShowAttempt {
  attempt: number;
  outcome: string;
  exitCode: number | null;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  cacheHit: boolean;
  outputs: Record<string, string>;
}

export interface RunShowDetail extends RunListItem {
  planDigest: string;
  params: Record<string, unknown>;
  actor: string;
  reason: string;
  source: { repo: string; commit: string } | null;
  tasks: {
    id: string;
    state: string;
    reason: string;
    cacheKey: string | null;
    attempts: RunShowAttempt[];
  }[];
}

/** A stored log line with its id (the local store's record; the server's are mapped to it). */
export type RunLogLine = StoredLogLine & { id: number };

export function printRunList(io: CliIo, list: RunListItem[], format: RunsFormat): void {
  if (format === 'json') io.stdout(JSON.stringify(list, null, 2) + '\n');
  else
    for (const r of list)
      io.stdout(`${r.id}  ${r.status.padEnd(10)} ${r.namespace}/${r.workflow}  ${r.createdAt}\n`);
}

export function printRunDetail(io: CliIo, detail: RunShowDetail, format: RunsFormat): void {
  if (format === 'json') {
    io.stdout(JSON.stringify(detail, null, 2) + '\n');
    return;
  }
  io.stdout(
    `run ${detail.id}  ${detail.status} (${detail.reason})  ${detail.namespace}/${detail.workflow}\n`,
  );
  if (detail.source) io.stdout(`  source ${detail.source.repo} at ${detail.source.commit}\n`);
  for (const t of detail.tasks) {
    io.stdout(
      `  ${t.id}  ${t.state} (${t.reason})${t.cacheKey && t.state === 'cached' ? ` key ${t.cacheKey}` : ''}\n`,
    );
    for (const a of t.attempts) {
      const outputs = Object.entries(a.outputs)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      io.stdout(
        `    #${a.attempt} ${a.outcome}${a.exitCode === null ? '' : ` exit ${a.exitCode}`}${outputs ? `  ${outputs}` : ''}\n`,
      );
    }
  }
}

export function printRunLogs(io: CliIo, lines: RunLogLine[], format: RunsFormat): void {
  if (format === 'json') io.stdout(JSON.stringify(lines, null, 2) + '\n');
  else
    for (const l of lines)
      io.stdout(`${l.taskId ?? '(run)'}${l.attempt ? `#${l.attempt}` : ''} ${l.stream}: ${l.text}\n`);
}

/** `runs cancel`'s answer. */
export function printCancel(
  io: CliIo,
  run: RunListItem & { cancelRequestedBy: string | null },
  format: RunsFormat,
): void {
  if (format === 'json') io.stdout(JSON.stringify(run) + '\n');
  else io.stdout(`run ${run.id}: ${run.status === 'running' ? 'cancel requested' : run.status}\n`);
}
