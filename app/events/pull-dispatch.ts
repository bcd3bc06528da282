import type { Plan } from '../../core/index.ts';
import {
  dispatchWorkflow,
  gitSource,
  type ApprovalNeed,
  type DispatchOutcome,
  type Engines,
} from '../dispatch/dispatch-runs.ts';
import { requirementOf, usesSecretsOrPrivileged } from '../gate/approval-rules.ts';
import type { Commit, WorkflowGate } from '../gate/approval-gate.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { plansByWorkflow, type CompiledManifest } from '../source/compile-snapshot.ts';
import type { AppServices, PullRequestData } from './app-services.ts';

export interface PullDispatch {
  trigger: string;
  actor: string;
  /** Idempotency key (see DispatchRequest.key). */
  key: string;
  select: (workflow: string, plan: Plan) => boolean;
}

/** `pull_request:<n>:<head>`: one run per workflow per pull request head, whichever event starts it. */
export function pullHeadKey(pr: Pick<PullRequestData, 'number' | 'head'>): string {
  return `pull_request:${pr.number}:${pr.head.sha}`;
}

/**
 * Dispatches the selected workflows of a pull request's head. A workflow the gate lists is gated
 * and needs the attestation bound to this head, pull request and base; the gate (evaluated just
 * before, on the same pull request read) has signed it when its rules are met.
 */
export async function dispatchForPull(
  s: AppServices,
  client: GitHubClient,
  pr: PullRequestData,
  head: Commit,
  gates: Map<string, WorkflowGate>,
  options: PullDispatch,
): Promise<void> {
  const engines = s.deps.engines;
  if (!engines) return;
  const fromFork = pr.head.repo?.full_name !== pr.base.repo.full_name;
  for (const [workflow, { plan }] of plansByWorkflow(head.compiled)) {
    if (!options.select(workflow, plan)) continue;
    const approval: ApprovalNeed = gates.has(workflow)
      ? { gated: true, pullRequest: { number: pr.number, baseSha: pr.base.sha } }
      : { gated: false };
    await dispatchWorkflow(s.dispatchContext(client, engines), {
      plan,
      headSha: pr.head.sha,
      trigger: options.trigger,
      actor: options.actor,
      fromFork,
      key: options.key,
      approval,
      // Fetched from the base repository, where GitHub keeps every pull request's head as
      // refs/pull/<n>/head: the base installation's token reads it even when the head is a
      // private fork outside the installation (whose own clone URL answers that token with 404).
      source: gitSource(pr.base.repo.clone_url, pr.head.sha, `refs/pull/${pr.number}/head`),
      pullRequest: pr.number,
    });
  }
}

/** Reads, validates or compiles, and gates an open pull request's current head. */
export async function gatePull(
  s: AppServices,
  client: GitHubClient,
  pullNumber: number,
  options: { validate: boolean },
): Promise<{ pr: PullRequestData; head: Commit; gates: Map<string, WorkflowGate> } | undefined> {
  const pr = await s.readPullRequest(client, pullNumber);
  if (pr.state !== 'open') return undefined;
  const head = options.validate
    ? await s.validate(client, pr.head.sha)
    : await s.commitAt(client, pr.head.sha);
  const gates = await s.gate(client, pr, head);
  return { pr, head, gates };
}

/**
 * Whether a run on a branch (a push, or `/maestro run` at the default branch's head) needs an
 * approval: when the plan declares one or policy marks it sensitive, when the commit before the
 * push did for this workflow (a push cannot drop the gate), and, for a workflow the previous
 * commit did not have, when it uses secrets or a privileged runner. The attestation it needs is
 * one bound to this exact commit: a merged pull request's, carried over to its merge commit.
 */
export function branchApproval(
  s: AppServices,
  plan: Plan,
  workflow: string,
  before: readonly CompiledManifest[] | undefined,
): ApprovalNeed {
  const previous = before ? plansByWorkflow(before).get(workflow) : undefined;
  const gated =
    requirementOf(plan, s.deps.sensitive) !== undefined ||
    (previous ? requirementOf(previous.plan, s.deps.sensitive) !== undefined : usesSecretsOrPrivileged(plan));
  return { gated };
}

/** The commit a branch points at now, read from GitHub: what runs by hand or on a schedule is what is merged. */
export async function readBranchHead(client: GitHubClient, branch: string): Promise<string> {
  const response = await client.call('read default branch', (octokit) =>
    octokit.rest.repos.getBranch({ owner: client.owner, repo: client.repo, branch }),
  );
  return response.data.commit.sha;
}

export interface BranchHeadDispatch {
  workflow: string;
  plan: Plan;
  /** Everything compiled at `sha`: the commit is its own base, so its plans' own rules decide. */
  compiled: readonly CompiledManifest[];
  sha: string;
  branch: string;
  cloneUrl: string | undefined;
  trigger: string;
  actor: string;
  /** Idempotency key (see DispatchRequest.key); `runId` the id chosen before (a schedule's claim). */
  key: string;
  runId?: string;
}

/**
 * Dispatches one workflow at a branch's head (`/maestro run` on an issue, a "Run <workflow>"
 * button, a schedule): trusted, gated by branchApproval with the head as its own base, so a
 * gated plan runs only with the attestation a merged pull request carried to that commit.
 */
export function dispatchAtBranchHead(
  s: AppServices,
  client: GitHubClient,
  engines: Engines,
  d: BranchHeadDispatch,
): Promise<DispatchOutcome> {
  return dispatchWorkflow(s.dispatchContext(client, engines), {
    plan: d.plan,
    headSha: d.sha,
    trigger: d.trigger,
    actor: d.actor,
    fromFork: false,
    key: d.key,
    ...(d.runId !== undefined ? { runId: d.runId } : {}),
    approval: branchApproval(s, d.plan, d.workflow, d.compiled),
    source: gitSource(d.cloneUrl, d.sha, `refs/heads/${d.branch}`),
  });
}
