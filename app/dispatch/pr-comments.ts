/**
 * The GitHub App's side of `tasks/notify`'s `kind: pr-comment` (docs/github-app.md, "Pull-request
 * comments from tasks/notify"). A task never holds a GitHub token: it outputs a request,
 * `prComment` = `{ v: 1, key?, body }`, and when the run ends the App posts the body on the run's
 * own pull request with its installation client. What the task cannot choose: the repository and
 * the pull request (the run's), the author (the App), and which comment is updated (only one the
 * App itself wrote, found by a marker line derived from the workflow, task id and key). Only the
 * built-in notify task's output is read: a repository or catalog task declaring an output of the
 * same name asks nothing of the App.
 */
import { createHash } from 'node:crypto';
import type { Engine } from '../../engine/index.ts';
import type { GitHubClient } from '../github/github-client.ts';

/** GitHub's limit on a comment's body is 65,536 characters; the marker line fits beside this. */
const MAX_BODY = 65_000;

export interface PrCommentTarget {
  engine: Engine;
  client: GitHubClient;
  runId: string;
  pullRequest: number;
  /** The App's id: only a comment it wrote (`performed_via_github_app.id`) is ever updated. */
  appId?: number;
}

export interface PrCommentRequest {
  taskId: string;
  key: string | undefined;
  body: string;
}

/** The pr-comment requests of a run's succeeded built-in notify tasks, in plan order. */
export async function prCommentRequests(engine: Engine, runId: string): Promise<PrCommentRequest[]> {
  const run = await engine.store.getRun(runId);
  const requests: PrCommentRequest[] = [];
  for (const task of run.plan.tasks) {
    const action = task.action;
    if (action.type !== 'catalog' || action.name !== 'notify' || action.source) continue;
    const raw = (await engine.store.taskOutputs(runId, task.id)).prComment;
    const request = raw === undefined ? undefined : parseRequest(raw);
    if (request) requests.push({ taskId: task.id, ...request });
  }
  return requests;
}

function parseRequest(raw: string): { key: string | undefined; body: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const r = value as { v?: unknown; key?: unknown; body?: unknown };
  if (r.v !== 1 || typeof r.body !== 'string' || r.body.length === 0 || r.body.length > MAX_BODY)
    return undefined;
  if (r.key !== undefined && (typeof r.key !== 'string' || r.key.length > 200)) return undefined;
  return { key: r.key as string | undefined, body: r.body };
}

/** The hidden line that finds a comment again (`workflow` is namespace/name); it echoes no key text. */
export function commentMarker(workflow: string, taskId: string, key: string | undefined): string {
  const id = createHash('sha256')
    .update(`${workflow}\0${taskId}\0${key ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  return `<!-- maestro:notify ${id} -->`;
}

/** Posts (or updates) each requested comment; returns how many were written. */
export async function postPrComments(target: PrCommentTarget): Promise<number> {
  const requests = await prCommentRequests(target.engine, target.runId);
  if (requests.length === 0) return 0;
  const run = await target.engine.store.getRun(target.runId);
  const workflow = `${run.namespace}/${run.workflow}`;
  const { client } = target;
  const existing = await client.call('list pull request comments', (octokit) =>
    octokit.paginate(octokit.rest.issues.listComments, {
      owner: client.owner,
      repo: client.repo,
      issue_number: target.pullRequest,
      per_page: 100,
    }),
  );
  for (const request of requests) {
    const marker = commentMarker(workflow, request.taskId, request.key);
    const body = `${request.body}\n\n${marker}`;
    const own = existing.find(
      (c) =>
        target.appId !== undefined &&
        c.performed_via_github_app?.id === target.appId &&
        (c.body ?? '').includes(marker),
    );
    if (own)
      await client.call('update pull request comment', (octokit) =>
        octokit.rest.issues.updateComment({
          owner: client.owner,
          repo: client.repo,
          comment_id: own.id,
          body,
        }),
      );
    else
      await client.call('comment on pull request', (octokit) =>
        octokit.rest.issues.createComment({
          owner: client.owner,
          repo: client.repo,
          issue_number: target.pullRequest,
          body,
        }),
      );
  }
  return requests.length;
}
