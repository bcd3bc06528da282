/**
 * Follows a run on a server the way `maestro run` follows a local one: the same live view, fed
 * by the log stream (GET /v1/runs/{id}/logs?follow=true, server-sent events) for the lines and by
 * polling GET /v1/runs/{id}/transitions?after= for every state change, in order (the lines and
 * the changes interleave a little differently than locally; each appears once).
 */
import { isTerminalRunState, type ApiBody, type RunState, type Stream } from '../core/index.ts';
import type { RunLogLine } from './format/runs-output.ts';
import type { LiveView } from './live-view.ts';
import type { ServerClient } from './server-client.ts';

const POLL_MS = 250;
const BEFORE_FOLLOW = new Set(['created', 'retried_by_user']);
const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

/** The id of the run's last stored log line (to follow only what comes after a retry). */
async function lastLogId(client: ServerClient, runId: string): Promise<string | undefined> {
  let last: number | undefined;
  for await (const line of remoteLogLines(client, runId)) last = line.id;
  return last === undefined ? undefined : String(last);
}

/**
 * The run's log lines from GET /v1/runs/{id}/logs, in the store's shape (what `runs logs`
 * prints): the stored ones, then with `follow` the new ones until the run ends.
 */
export async function* remoteLogLines(
  client: ServerClient,
  runId: string,
  o: { task?: string; follow?: boolean; afterId?: string; signal?: AbortSignal } = {},
): AsyncIterable<RunLogLine> {
  const events = client.events(`${runPath(runId)}/logs`, {
    query: { task: o.task, follow: o.follow },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.afterId ? { headers: { 'last-event-id': o.afterId } } : {}),
  });
  for await (const message of events) {
    if (message.event === 'end') return;
    if (message.event !== 'log') continue;
    const line = JSON.parse(message.data) as ApiBody.LogEvent;
    yield {
      id: Number(message.id),
      runId,
      taskId: line.task,
      attempt: line.attempt,
      // The schema says string; the server writes only the runner's streams.
      stream: line.stream as Stream,
      text: line.text,
      time: Date.parse(line.time),
    };
  }
}

async function streamLines(
  client: ServerClient,
  runId: string,
  view: LiveView | undefined,
  o: { afterId?: string; signal: AbortSignal },
) {
  for await (const line of remoteLogLines(client, runId, { follow: true, ...o }))
    view?.onEvent({ type: 'log', ...line });
}

/** Where a follow starts: the transitions already shown and each task's attempts so far. */
export interface FollowStart {
  afterLogId?: string;
  afterTransition: number;
  attempts: Map<string, number>;
}

/** The start of a run that is about to get new work (a retry): nothing before it is replayed. */
export async function followStart(client: ServerClient, runId: string): Promise<FollowStart> {
  const [detail, transitions, afterLogId] = await Promise.all([
    client.request<ApiBody.RunDetail>('GET', runPath(runId)),
    client.request<ApiBody.TransitionList>('GET', `${runPath(runId)}/transitions`),
    lastLogId(client, runId),
  ]);
  return {
    ...(afterLogId ? { afterLogId } : {}),
    afterTransition: transitions.next,
    attempts: new Map(detail.tasks.map((t) => [t.id, t.attempts.length])),
  };
}

/**
 * Shows the run until it is terminal and every line was shown; returns its final detail. Task
 * transitions become the engine's own events, with the attempt number the engine gives them
 * (the count of attempts started, which entering `running` raises).
 */
export async function followRemoteRun(
  client: ServerClient,
  runId: string,
  view: LiveView | undefined,
  start: FollowStart = { afterTransition: 0, attempts: new Map() },
): Promise<ApiBody.RunDetail> {
  // The stream runs beside the polling; a failure of either ends both (an open stream would keep
  // the process alive, and a rejection left unawaited would end it with a stack trace).
  const abort = new AbortController();
  let streamError: unknown;
  const lines = streamLines(client, runId, view, {
    ...(start.afterLogId ? { afterId: start.afterLogId } : {}),
    signal: abort.signal,
  }).catch((error: unknown) => {
    if (!abort.signal.aborted) streamError = error;
  });
  try {
    await pollTransitions(client, runId, view, start);
  } catch (error) {
    abort.abort();
    throw error;
  }
  await lines;
  if (streamError) throw streamError;
  return client.request<ApiBody.RunDetail>('GET', runPath(runId));
}

async function pollTransitions(
  client: ServerClient,
  runId: string,
  view: LiveView | undefined,
  start: FollowStart,
): Promise<void> {
  const attempts = new Map(start.attempts);
  let after = start.afterTransition;
  for (let done = false; !done;) {
    const page = await client.request<ApiBody.TransitionList>('GET', `${runPath(runId)}/transitions`, {
      query: { after },
    });
    after = page.next;
    for (const t of page.items) {
      if (t.task === null) {
        done ||= isTerminalRunState(t.to as RunState);
        continue;
      }
      // A local run subscribes after submit or retry, so it never shows these two; neither do we.
      if (t.to === 'queued' && BEFORE_FOLLOW.has(t.reason)) continue;
      if (t.to === 'running') attempts.set(t.task, (attempts.get(t.task) ?? 0) + 1);
      view?.onEvent({
        type: 'task',
        runId,
        taskId: t.task,
        from: t.from ?? 'queued',
        to: t.to,
        reason: t.reason,
        by: t.by,
        time: Date.parse(t.time),
        attempt: attempts.get(t.task) ?? 0,
        ...(t.detail === null ? {} : { detail: t.detail }),
      });
    }
    if (!done) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
