import type { Diagnostic } from '../../core/index.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { PENDING_CREATE, type AppStore } from '../app-store.ts';

/** Marks a check-run create that was sent but whose id was not recorded yet. */

/** GitHub accepts at most 50 annotations per create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** GitHub truncates summary and text at 65535 characters; stay below. */
const MAX_TEXT = 65_000;

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

export interface CheckRunWrite {
  name: string;
  headSha: string;
  /** Stable identity of this check run for idempotent writes. */
  externalId: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled' | 'action_required' | 'timed_out';
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
  actions?: CheckRunAction[];
  detailsUrl?: string;
}

/** Maps a diagnostic to the Checks API's annotation shape (columns only on one line, as GitHub requires). */
export function toAnnotation(diagnostic: Diagnostic, fallbackPath: string): CheckAnnotation {
  const sameLine = diagnostic.endLine === diagnostic.line;
  const level =
    diagnostic.severity === 'error' ? 'failure' : diagnostic.severity === 'warning' ? 'warning' : 'notice';
  return {
    path: diagnostic.file ?? fallbackPath,
    start_line: Math.max(1, diagnostic.line),
    end_line: Math.max(diagnostic.line, diagnostic.endLine, 1),
    ...(sameLine
      ? { start_column: diagnostic.column, end_column: Math.max(diagnostic.column, diagnostic.endColumn) }
      : {}),
    annotation_level: level,
    title: diagnostic.code,
    message: diagnostic.hint ? `${diagnostic.message}\nhint: ${diagnostic.hint}` : diagnostic.message,
  };
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n…(truncated)` : text;
}

/**
 * Creates or updates the check run identified by `externalId` (find-or-create, so a redelivered
 * webhook, a retried handler or a restart after a crash never makes a second one), then sends the remaining annotations
 * in further updates of 50 each: GitHub appends annotations across updates, so none is dropped.
 * Returns the check run id and how many write requests it took.
 */
export async function writeCheckRun(
  client: GitHubClient,
  store: AppStore,
  write: CheckRunWrite,
): Promise<{ id: number; writes: number }> {
  const annotations = write.annotations ?? [];
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST)
    batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  const output = (batch: CheckAnnotation[] | undefined) => ({
    title: write.title,
    summary: clip(write.summary),
    ...(write.text ? { text: clip(write.text) } : {}),
    ...(batch && batch.length > 0 ? { annotations: batch } : {}),
  });
  const fields = {
    name: write.name,
    status: write.status,
    external_id: write.externalId,
    ...(write.conclusion ? { conclusion: write.conclusion } : {}),
    ...(write.actions ? { actions: write.actions } : {}),
    ...(write.detailsUrl ? { details_url: write.detailsUrl } : {}),
  };
  const repo = { owner: client.owner, repo: client.repo };
  // The store records a create before sending it (PENDING_CREATE) and the id after. No record:
  // claim the create (one INSERT, so of replicas racing on one external_id one creates). A
  // PENDING_CREATE left by a crash, or by another replica's create: it may have reached GitHub,
  // so look for the external_id there before creating.
  let known = await store.getCheckRunId(write.externalId);
  if (known === undefined && !(await store.claimCheckRunCreate(write.externalId)))
    known = await store.getCheckRunId(write.externalId);
  let id = known === PENDING_CREATE ? await findCheckRun(client, write) : known;
  let writes = 0;
  if (id === undefined) {
    const created = await client.call(`create check run ${write.name}`, (octokit) =>
      octokit.rest.checks.create({ ...repo, head_sha: write.headSha, ...fields, output: output(batches[0]) }),
    );
    id = created.data.id;
    await store.putCheckRunId(write.externalId, id);
  } else {
    const checkRunId = id;
    await client.call(`update check run ${write.name}`, (octokit) =>
      octokit.rest.checks.update({
        ...repo,
        check_run_id: checkRunId,
        ...fields,
        output: output(batches[0]),
      }),
    );
  }
  writes += 1;
  for (const batch of batches.slice(1)) {
    const checkRunId = id;
    await client.call(`annotate check run ${write.name}`, (octokit) =>
      octokit.rest.checks.update({ ...repo, check_run_id: checkRunId, output: output(batch) }),
    );
    writes += 1;
  }
  return { id, writes };
}

/** Looks for an existing check run with this external_id on the commit (after a lost local record). */
async function findCheckRun(client: GitHubClient, write: CheckRunWrite): Promise<number | undefined> {
  const listed = await client.call(`list check runs ${write.name}`, (octokit) =>
    octokit.rest.checks.listForRef({
      owner: client.owner,
      repo: client.repo,
      ref: write.headSha,
      check_name: write.name,
      filter: 'all',
      per_page: 100,
    }),
  );
  return listed.data.check_runs.find((run) => run.external_id === write.externalId)?.id;
}
