/**
 * Pull-request reviews as approvals of approval tasks (`uses: tasks/approval@1`): a run the App
 * dispatched for a pull request parks in `waiting_for_approval` on such a task, and an approving
 * review releases it. Which tasks a review approves: every waiting approval task of every run of
 * THAT pull request at its CURRENT head whose reviewers/teams the reviewer meets (the engine
 * decides that part). A review counts only as the gate's approvals do, re-read from GitHub (the
 * event's payload is never believed): the reviewer's latest verdict is APPROVED, on exactly the
 * run's commit (no carry-over across pushes: a task approves what ran before it, at that commit),
 * within the approval TTL, from a writer of the base repository (a fork's own identity has no
 * write access there), not a bot, not the pull request's author, not a pusher of the head (no
 * recorded pusher: nothing counts), and the plan the App compiled at that commit is the run's
 * plan digest. Each approval is then signed by the engine (`task-approval/v1`, bound to the run,
 * its plan digest, source and task, with the review's id, pull request and commit), stored once
 * per reviewer and logged in the decision log.
 */
import { isMaestroError } from '../../core/index.ts';
import { approvalSpecOf, isApprovalTask, isParked, type Engine, type RunRecord } from '../../engine/index.ts';
import { isBot, latestVerdicts, type ReviewFact } from '../../policy/index.ts';
import type { StoredRun } from '../app-store.ts';
import type { AppServices, PullRequestData } from '../events/app-services.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { hasWriteAccess } from '../github/has-write-access.ts';
import { allowedReviewers, listReviews } from './approval-gate.ts';

/** A run an approval sent back to queued, reserved for this process to execute. */
export interface ReleasedRun {
  stored: StoredRun;
  engine: Engine;
}

/** Refusals that leave the task waiting (another reviewer may still approve it). */
const SKIPPED = new Set(['approver_not_allowed', 'approver_is_author', 'task_not_waiting', 'run_busy']);

export async function approveTasksFromReviews(
  s: AppServices,
  client: GitHubClient,
  pr: PullRequestData,
): Promise<ReleasedRun[]> {
  const engines = s.deps.engines;
  if (!engines) return [];
  const parked = await parkedRunsOf(s, client, pr);
  if (parked.length === 0) return [];
  const reviewers = await countingReviews(s, client, pr);
  if (reviewers.length === 0) return [];
  const digests = await s.gateContext(client).digestsAt(pr.head.sha);
  const teams = new Map<string, Set<string>>();
  const released: ReleasedRun[] = [];
  for (const { run, stored } of parked) {
    // The plan the App compiled at this commit is the plan the reviewers saw: bound to the digest.
    if (digests[stored.workflow] !== run.planDigest) continue;
    const engine = stored.fromFork ? engines.untrusted : engines.trusted;
    if (await approveRun(engine, client, run, pr, reviewers, teams)) released.push({ stored, engine });
  }
  return released;
}

/** The parked runs the App dispatched for this pull request at its current head. */
async function parkedRunsOf(
  s: AppServices,
  client: GitHubClient,
  pr: PullRequestData,
): Promise<{ run: RunRecord; stored: StoredRun }[]> {
  const store = s.deps.engines!.trusted.store;
  const found: { run: RunRecord; stored: StoredRun }[] = [];
  for (const run of await store.listRuns({ status: ['waiting_for_approval'] })) {
    if (!isParked(run) || run.source?.commit !== pr.head.sha) continue;
    const stored = await s.deps.store.getRun(run.id);
    if (
      stored?.repo === client.fullName &&
      stored.pullRequest === pr.number &&
      stored.headSha === pr.head.sha
    )
      found.push({ run, stored });
  }
  return found;
}

/** Approving reviews on the head commit that the gate's rules let count (see the file comment). */
async function countingReviews(
  s: AppServices,
  client: GitHubClient,
  pr: PullRequestData,
): Promise<ReviewFact[]> {
  const pushers = new Set(
    (await s.deps.store.pushersOf(client.fullName, pr.head.sha)).map((l) => l.toLowerCase()),
  );
  // Fail closed as the gate does: with no push event for the head, its pusher is unknown.
  if (pushers.size === 0) return [];
  const author = (pr.user?.login ?? '').toLowerCase();
  const now = s.deps.clock.now();
  const counting: ReviewFact[] = [];
  for (const review of latestVerdicts(await listReviews(client, pr.number))) {
    const login = review.login.toLowerCase();
    const submitted = Date.parse(review.submittedAt);
    if (review.state !== 'APPROVED' || review.commitId !== pr.head.sha) continue;
    if (isBot(review.login, review.userType) || login === author || login === '' || pushers.has(login))
      continue;
    if (!Number.isFinite(submitted) || submitted + s.deps.approvalTtlMs <= now) continue;
    if (await hasWriteAccess(client, review.login)) counting.push(review);
  }
  return counting;
}

/** Offers each counting review to each waiting approval task of `run`; true when it was released. */
async function approveRun(
  engine: Engine,
  client: GitHubClient,
  run: RunRecord,
  pr: PullRequestData,
  reviews: readonly ReviewFact[],
  teams: Map<string, Set<string>>,
): Promise<boolean> {
  const waiting = (await engine.store.listTasks(run.id)).filter((t) => t.state === 'waiting_for_approval');
  for (const task of waiting) {
    const plan = run.plan.tasks.find((p) => p.id === task.taskId);
    if (!plan || !isApprovalTask(plan)) continue;
    const spec = approvalSpecOf(plan);
    const slugs = [...new Set([...spec.teams, ...spec.escalateTo.teams])];
    for (const review of reviews) {
      const mine = await teamsOf(client, review.login, slugs, teams);
      try {
        const answer = await engine.approveTask(
          run.id,
          task.taskId,
          {
            approver: review.login,
            via: 'github',
            teams: mine,
            review: { id: review.id, pullRequest: pr.number, commit: review.commitId },
          },
          // Ours to execute once it is queued again: this process holds the token allow-list
          // and reports the check run.
          { reserve: true },
        );
        if (answer.run.status === 'queued') return true;
      } catch (error) {
        if (!(isMaestroError(error) && SKIPPED.has(error.code))) throw error;
      }
    }
  }
  return false;
}

/** The task's team slugs (of the repository's owner) `login` is a member of, read from GitHub. */
async function teamsOf(
  client: GitHubClient,
  login: string,
  slugs: readonly string[],
  cache: Map<string, Set<string>>,
): Promise<string[]> {
  const mine: string[] = [];
  for (const slug of slugs) {
    const members = await allowedReviewers(client, [`team:${slug}`], cache);
    if ([...members].some((m) => m.toLowerCase() === login.toLowerCase())) mine.push(slug);
  }
  return mine;
}
