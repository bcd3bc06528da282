import { writeCheckRun } from '../checks/check-runs.ts';
import { renderApproval, type GateRow } from '../checks/render-approval.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { hasWriteAccess } from '../github/has-write-access.ts';
import { plansByWorkflow } from '../source/compile-snapshot.ts';
import { resolveAllowed } from '../../policy/index.ts';
import { issueAttestation, revokeAll } from './attestations.ts';
import { rulesByWorkflow } from './approval-rules.ts';
import type { Commit, GateContext, PullRequestRef, WorkflowGate } from './gate-types.ts';
import { parseCodeowners, ownersOf } from './codeowners.ts';
import { countApprovals, isBot, type ReviewFact } from '../../policy/index.ts';

export { requirementOf, type ApprovalRequirement, type SensitivityCheck } from './approval-rules.ts';
export type { Commit, GateContext, PullRequestRef, WorkflowGate } from './gate-types.ts';

/**
 * Evaluates every gated workflow of a pull request's head under the rules its BASE commit sets
 * (approval-rules.ts), writes the `maestro / approval` check run, signs an attestation bound to
 * this head, pull request and base for each workflow whose every rule is met, and revokes the
 * pull request's other attestations. Every fact is read fresh (reviews, permissions, teams) or
 * recorded from events (who pushed the head), so late or repeated deliveries converge. Returns
 * the gates by workflow key; a workflow absent from the map is not gated.
 */
export async function evaluateApprovalGate(
  ctx: GateContext,
  pr: PullRequestRef,
  head: Commit,
  base: Commit | undefined,
): Promise<Map<string, WorkflowGate>> {
  const { client, store } = ctx;
  const baseRules = base?.snapshot.codeowners ? parseCodeowners(base.snapshot.codeowners.content) : undefined;
  const baseOwnersOf = (path: string) => (baseRules ? ownersOf(baseRules, path) : []);
  const rules = rulesByWorkflow({
    base,
    head,
    sensitive: ctx.sensitive,
    defaultRequired: ctx.defaultRequired,
    baseOwnersOf,
  });
  const gates = new Map<string, WorkflowGate>();
  if (rules.size === 0) {
    await revokeAll(
      store,
      client.fullName,
      pr.number,
      () => true,
      'no gated workflow at the head',
      ctx.now(),
    );
    return gates;
  }
  const reviews = await listReviews(client, pr.number);
  // Who pushed the head, from the push/synchronize events' sender: commit metadata is forgeable.
  const pushers = await store.pushersOf(client.fullName, pr.headSha);
  const candidates = [...new Set(reviews.filter((r) => !isBot(r.login, r.userType)).map((r) => r.login))];
  const writers = new Set<string>();
  for (const login of candidates) if (await hasWriteAccess(client, login)) writers.add(login);
  const headDigests = Object.fromEntries(
    [...plansByWorkflow(head.compiled)].map(([k, v]) => [k, v.plan.digest]),
  );
  const digestAt = new Map<string, Record<string, string>>();
  for (const sha of new Set(reviews.map((r) => r.commitId)))
    digestAt.set(sha, sha === pr.headSha ? headDigests : await ctx.digestsAt(sha));
  const teams = new Map<string, Set<string>>();
  for (const [workflow, list] of rules) {
    const { file, plan } = plansByWorkflow(head.compiled).get(workflow)!;
    const results: WorkflowGate['rules'] = [];
    for (const rule of list) {
      const entries = rule.from.flatMap((entry) =>
        entry === 'codeowners' ? baseOwnersOf(rule.file) : [entry],
      );
      const allowed = rule.from.length === 0 ? undefined : await allowedReviewers(client, entries, teams);
      const exact = `head:${pr.headSha}`;
      const result = countApprovals({
        required: rule.required,
        allowed,
        reviews,
        pullRequestAuthor: pr.author,
        lastPushers: new Set(pushers),
        writers,
        digest: rule.exactHead ? exact : plan.digest,
        digestAt: rule.exactHead
          ? new Map([[pr.headSha, exact]])
          : new Map([...digestAt].map(([sha, digests]) => [sha, digests[workflow]])),
        now: ctx.now(),
        maxAgeMs: ctx.approvalTtlMs,
      });
      results.push({ rule, result });
    }
    // Fail closed: with no push or synchronize event for the head, its pusher is unknown, and an
    // approval by that unknown pusher must not count; so nothing counts until the next push.
    const satisfied = pushers.length > 0 && results.every((r) => r.result.satisfied);
    const gate: WorkflowGate = { workflow, file, digest: plan.digest, rules: results, satisfied };
    if (satisfied) gate.attestationDigest = await issueAttestation(ctx, pr, workflow, plan.digest, results);
    gates.set(workflow, gate);
  }
  const attested = new Set([...gates.values()].map((g) => g.attestationDigest).filter(Boolean));
  for (const a of await store.liveAttestations(client.fullName, pr.number))
    if (!attested.has(a.digest))
      await store.revokeAttestation(
        a.digest,
        revocationReason(gates.get(a.workflow), pr, pushers),
        ctx.now(),
      );
  await writeCheckRun(client, store, renderApproval(pr, rowsOf(gates), pushers.length > 0));
  return gates;
}

/** Why a pull request's attestation no longer holds, in words the refusal shows. */
function revocationReason(gate: WorkflowGate | undefined, pr: PullRequestRef, pushers: string[]): string {
  if (!gate) return `the workflow is not gated or not present at ${pr.headSha}`;
  if (gate.satisfied) return `superseded at ${pr.headSha}`;
  if (pushers.length === 0) return `the pusher of ${pr.headSha} is unknown`;
  const reasons = new Set(gate.rules.flatMap((r) => r.result.notCounted.map((n) => n.reason)));
  return `the gate is not met at ${pr.headSha}${reasons.size > 0 ? ` (${[...reasons].join(', ')})` : ''}`;
}

function rowsOf(gates: Map<string, WorkflowGate>): GateRow[] {
  return [...gates.values()].flatMap((g) =>
    g.rules.map(({ rule, result }) => ({
      workflow: g.workflow,
      rule:
        rule.source === 'change-control' ? `change-control (${(rule.paths ?? []).join(', ')})` : rule.source,
      digest: g.digest,
      result,
      ...(g.attestationDigest ? { attestationDigest: g.attestationDigest } : {}),
    })),
  );
}

/** A pull request's reviews as GitHub lists them now (never the event's word). */
export async function listReviews(client: GitHubClient, pullNumber: number): Promise<ReviewFact[]> {
  const reviews = await client.call('list reviews', (octokit) =>
    octokit.paginate(octokit.rest.pulls.listReviews, {
      owner: client.owner,
      repo: client.repo,
      pull_number: pullNumber,
      per_page: 100,
    }),
  );
  return reviews
    .filter((r) => r.user && r.commit_id)
    .map((r) => ({
      id: r.id,
      login: r.user!.login,
      userType: r.user!.type,
      state: r.state,
      commitId: r.commit_id!,
      submittedAt: r.submitted_at ?? '',
    }));
}

/**
 * Resolves `from` entries and CODEOWNERS owners to logins (allowed-reviewers.ts), a team's
 * members from the Teams API (`team:slug` is a team of the repository's owner), cached per
 * delivery in `teams`.
 */
export async function allowedReviewers(
  client: GitHubClient,
  entries: string[],
  teams: Map<string, Set<string>>,
): Promise<Set<string>> {
  return resolveAllowed(entries, async ({ org = client.owner, slug }) => {
    const key = `${org}/${slug}`;
    if (!teams.has(key)) {
      const members = await client.call(`read team ${key}`, (octokit) =>
        octokit.paginate(octokit.rest.teams.listMembersInOrg, { org, team_slug: slug, per_page: 100 }),
      );
      teams.set(key, new Set(members.filter(Boolean).map((m) => m.login)));
    }
    return teams.get(key)!;
  });
}
