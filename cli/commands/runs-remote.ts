/**
 * `maestro runs … --server <url>`: the same commands against `maestro server`'s API, printing
 * exactly what the local ones print (cli/format/runs-output.ts), from the API's generated types.
 */
import { NotFoundError, UsageError, type ApiBody } from '../../core/index.ts';
import { ExitCode } from '../exit-codes.ts';
import {
  printCancel,
  printRunDetail,
  printRunList,
  printRunLogs,
  type RunListItem,
  type RunLogLine,
  type RunShowDetail,
  type RunsFormat,
} from '../format/runs-output.ts';
import type { CliIo } from '../io.ts';
import { createLiveView } from '../live-view.ts';
import { followRemoteRun, followStart, remoteLogLines } from '../server-follow.ts';
import { openServerClient, type ServerClient } from '../server-client.ts';

export { serverOption } from './server-option.ts';

const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;
const PAGE = 500;

/** Flags that choose local machinery make no sense against a server: refused, not ignored. */
export function refuseLocalFlags(o: Record<string, unknown>, flags: Record<string, string>): void {
  for (const [key, flag] of Object.entries(flags))
    if (o[key] !== undefined)
      throw new UsageError(`${flag} does not apply with --server`, {
        hint: "the server's own configuration decides it (docs/server.md)",
      });
}

export function listItem(r: ApiBody.RunSummary): RunListItem {
  return {
    id: r.id,
    workflow: r.workflow,
    namespace: r.namespace,
    status: r.status,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

function showDetail(d: ApiBody.RunDetail): RunShowDetail {
  return {
    ...listItem(d.run),
    planDigest: d.run.planDigest,
    params: d.params,
    actor: d.run.actor,
    reason: d.run.reason,
    source: d.source ?? null,
    tasks: d.tasks.map((t) => ({
      id: t.id,
      state: t.state,
      reason: t.reason,
      cacheKey: t.cacheKey,
      attempts: t.attempts.map((a) => ({
        attempt: a.attempt,
        outcome: a.outcome ?? 'running',
        exitCode: a.exitCode,
        reason: a.reason,
        startedAt: a.startedAt,
        finishedAt: a.finishedAt,
        cacheHit: a.cacheHit,
        outputs: a.outputs,
      })),
    })),
  };
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export interface ListFilter {
  format: RunsFormat;
  status?: string;
  workflow?: string;
  namespace?: string;
  since?: number;
  until?: number;
}

async function list(client: ServerClient, io: CliIo, o: ListFilter): Promise<void> {
  const items: RunListItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.request<ApiBody.RunList>('GET', '/v1/runs', {
      query: {
        status: o.status,
        workflow: o.workflow,
        namespace: o.namespace,
        since: iso(o.since),
        until: iso(o.until),
        limit: PAGE,
        cursor,
      },
    });
    // Asked without `fields`, so every item is a whole summary.
    items.push(...(page.items as ApiBody.RunSummary[]).map(listItem));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  printRunList(io, items, o.format);
}

async function logs(client: ServerClient, runId: string, task: string | undefined): Promise<RunLogLine[]> {
  if (task !== undefined) {
    // As locally: an unknown task is an error, not an empty log (the stream would just be empty).
    const detail = await client.request<ApiBody.RunDetail>('GET', runPath(runId));
    if (!detail.tasks.some((t) => t.id === task)) throw new NotFoundError('task', `${runId}/${task}`);
  }
  const lines: RunLogLine[] = [];
  for await (const line of remoteLogLines(client, runId, task === undefined ? {} : { task }))
    lines.push(line);
  return lines;
}

/** Re-runs the failed part on the server and follows it as the local `runs retry` does. */
async function retry(client: ServerClient, io: CliIo, runId: string, format: RunsFormat): Promise<ExitCode> {
  const start = await followStart(client, runId);
  const started = await client.request<ApiBody.RunDetail>('POST', `${runPath(runId)}/retry`);
  const view =
    format === 'text'
      ? createLiveView(
          io,
          started.tasks.map((t) => t.id),
        )
      : undefined;
  const final = await followRemoteRun(client, runId, view, start);
  view?.close();
  if (format === 'json') io.stdout(JSON.stringify(listItem(final.run)) + '\n');
  else io.stdout(`run ${runId} ${final.run.status}\n`);
  return final.run.status === 'succeeded' ? ExitCode.ok : ExitCode.inputErrors;
}

/** The `runs` subcommands against a server. */
export function remoteRuns(server: string, o: Record<string, unknown>, io: CliIo) {
  refuseLocalFlags(o, { dataDir: '--data-dir', secrets: '--secrets' });
  const client = openServerClient(server, io);
  return {
    list: (filter: ListFilter) => list(client, io, filter),
    show: async (runId: string, format: RunsFormat) =>
      printRunDetail(io, showDetail(await client.request('GET', runPath(runId))), format),
    logs: async (runId: string, task: string | undefined, format: RunsFormat) =>
      printRunLogs(io, await logs(client, runId, task), format),
    cancel: async (runId: string, format: RunsFormat) => {
      const d = await client.request<ApiBody.RunDetail>('POST', `${runPath(runId)}/cancel`);
      printCancel(io, { ...listItem(d.run), cancelRequestedBy: d.cancelRequestedBy }, format);
    },
    retry: (runId: string, format: RunsFormat) => retry(client, io, runId, format),
    approve: async (runId: string, format: RunsFormat) => {
      const a = await client.request<ApiBody.ApprovalAnswer>('POST', `${runPath(runId)}/approvals`);
      if (format === 'json') io.stdout(JSON.stringify(a) + '\n');
      else
        io.stdout(
          `run ${runId} approved by ${a.approval.approver} (${a.approval.digest}); ` +
            `${a.satisfied ? 'the rule is met' : `${a.approvals.length} of ${a.required} recorded`}: ${a.run.status}\n`,
        );
    },
  };
}
