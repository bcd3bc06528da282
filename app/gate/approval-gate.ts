import type { Plan } from '../../core/index.ts';
import type { ProvenanceSigner } from '../../provenance/index.ts';
import type { AppStore } from '../app-store.ts';
import { signApproval } from './approval-attestation.ts';
import { writeCheckRun } from '../checks/check-runs.ts';
import { renderApproval } from '../checks/render-approval.ts';
import { parseCodeowners, ownersOf } from './codeowners.ts';
import { plansByWorkflow, type CompiledManifest } from '../source/compile-snapshot.ts';
import { countApprovals, isBot, type ApprovalResult, type ReviewFact } from './count-approvals.ts';
import type { GitHubClient } from '../github/github-client.ts';
import type { RepositorySnapshot } from '../source/read-repository.ts';

/** The approval a plan needs: from its manifest, or from policy marking it sensitive. */
export type ApprovalRequirement = { required: number; from: string[] };
export type SensitivityCheck = (plan: Plan) => ApprovalRequirement | undefined;

export function requirementOf(plan: Plan, sensitive: SensitivityCheck): ApprovalRequirement | undefined {
  return plan.approvals ?? sensitive(plan);
}

export interface PullRequestRef {
  number: number;
  author: string;
  headSha: string;
}

export interface GateContext {
  client: GitHubClient;
  store: AppStore;
  signer: ProvenanceSigner;
  sensitive: SensitivityCheck;
  now: () => number;
  /** Compiles the manifests at another commit (for carrying approvals across a digest-equal push). */
  digestsAt: (sha: string) => Promise<Record<string, string>>;
}

export interface WorkflowGate {
  workflow: string;
  file: string;
  digest: string;
  result: ApprovalResult;
  attestationDigest?: string;
}

/**
 * Evaluates every gated workflow at the pull request's head, writes the `maestro / approval`
 * check run, and signs an approval attestation for each workflow whose gate is satisfied. All
 * facts are read fresh from GitHub (reviews, permissions, teams, head commit), so deliveries
 * arriving out of order converge on the same answer.
 */
export async function evaluateApprovalGate(
  ctx: GateContext,
  pr: PullRequestRef,
  snapshot: RepositorySnapshot,
  compiled: readonly CompiledManifest[],
): Promise<WorkflowGate[]> {
  const gated = [...plansByWorkflow(compiled)]
    .map(([workflow, { file, plan }]) => ({
      workflow,
      file,
      plan,
      requirement: requirementOf(plan, ctx.sensitive),
    }))
    .filter((g): g is typeof g & { requirement: ApprovalRequirement } => g.requirement !== undefined);
  if (gated.length === 0) return [];
  const { client } = ctx;
  const reviews = await listReviews(client, pr.number);
  const lastPushers = await headPushers(client, pr.headSha);
  const candidates = [...new Set(reviews.filter((r) => !isBot(r.login, r.userType)).map((r) => r.login))];
  const writers = await writersAmong(client, candidates);
  const digestAt = new Map<string, Record<string, string>>();
  for (const sha of new Set(reviews.map((r) => r.commitId)))
    digestAt.set(sha, sha === pr.headSha ? digestsOf(compiled) : await ctx.digestsAt(sha));
  const rules = parseCodeowners(snapshot.codeowners?.content ?? '');
  const gates: WorkflowGate[] = [];
  for (const g of gated) {
    // `codeowners` stands for the CODEOWNERS of the manifest file itself.
    const entries = g.requirement.from.flatMap((entry) =>
      entry === 'codeowners' ? ownersOf(rules, g.file) : [entry],
    );
    const allowed = g.requirement.from.length === 0 ? undefined : await allowedReviewers(client, entries);
    const result = countApprovals({
      required: g.requirement.required,
      allowed,
      reviews,
      pullRequestAuthor: pr.author,
      lastPushers,
      writers,
      digest: g.plan.digest,
      digestAt: new Map([...digestAt].map(([sha, digests]) => [sha, digests[g.workflow]])),
    });
    const gate: WorkflowGate = { workflow: g.workflow, file: g.file, digest: g.plan.digest, result };
    if (result.satisfied) gate.attestationDigest = await attest(ctx, pr, g.workflow, g.plan.digest, result);
    // Approval withdrawn (changes requested, dismissed, reviewer lost access): so is the attestation.
    else ctx.store.revokeAttestation(client.fullName, g.workflow, g.plan.digest, pr.number);
    gates.push(gate);
  }
  await writeCheckRun(ctx.client, ctx.store, renderApproval(pr, gates));
  return gates;
}

export function digestsOf(compiled: readonly CompiledManifest[]): Record<string, string> {
  return Object.fromEntries([...plansByWorkflow(compiled)].map(([key, { plan }]) => [key, plan.digest]));
}

async function attest(
  ctx: GateContext,
  pr: PullRequestRef,
  workflow: string,
  planDigest: string,
  result: ApprovalResult,
): Promise<string> {
  const repository = ctx.client.fullName;
  const existing = ctx.store.findAttestation(repository, workflow, planDigest);
  const sameApprovers =
    existing && existing.approvers.join(',') === result.approvers.map((a) => a.login).join(',');
  if (existing && sameApprovers) return existing.digest;
  const issuedAt = ctx.now();
  const signed = await signApproval(
    {
      repository,
      workflow,
      pullRequest: pr.number,
      headSha: pr.headSha,
      planDigest,
      approvers: result.approvers,
      required: result.required,
      issuedAt: new Date(issuedAt).toISOString(),
    },
    ctx.signer,
  );
  ctx.store.putAttestation({
    repo: repository,
    workflow,
    planDigest,
    digest: signed.digest,
    bundle: signed.bundle,
    pullRequest: pr.number,
    headSha: pr.headSha,
    approvers: result.approvers.map((a) => a.login),
    issuedAt,
  });
  return signed.digest;
}

async function listReviews(client: GitHubClient, pullNumber: number): Promise<ReviewFact[]> {
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

async function headPushers(client: GitHubClient, sha: string): Promise<Set<string>> {
  const commit = await client.call('read head commit', (octokit) =>
    octokit.rest.repos.getCommit({ owner: client.owner, repo: client.repo, ref: sha }),
  );
  const logins = [commit.data.author?.login, commit.data.committer?.login].filter(
    (l): l is string => typeof l === 'string' && l !== 'web-flow',
  );
  return new Set(logins);
}

const WRITE_PERMISSIONS = new Set(['admin', 'maintain', 'write']);

async function writersAmong(client: GitHubClient, logins: string[]): Promise<Set<string>> {
  const writers = new Set<string>();
  for (const login of logins) {
    const permission = await client.call(`read permission of ${login}`, (octokit) =>
      octokit.rest.repos.getCollaboratorPermissionLevel({
        owner: client.owner,
        repo: client.repo,
        username: login,
      }),
    );
    const role = permission.data.role_name ?? permission.data.permission;
    if (WRITE_PERMISSIONS.has(permission.data.permission) || WRITE_PERMISSIONS.has(role)) writers.add(login);
  }
  return writers;
}

/**
 * Resolves `from` entries and CODEOWNERS owners to logins: `user`/`@user`, `team:slug`,
 * `team:org/slug` and `@org/slug` (team members via the Teams API). Emails in CODEOWNERS cannot
 * be mapped to logins without more permissions, so they are skipped. (An empty `from` means
 * any collaborator with write access; the caller decides that before calling.)
 */
async function allowedReviewers(client: GitHubClient, entries: string[]): Promise<Set<string>> {
  const allowed = new Set<string>();
  for (const raw of entries) {
    const entry = raw.startsWith('@') ? raw.slice(1) : raw;
    if (entry.includes('@')) continue;
    const team = entry.startsWith('team:') ? entry.slice(5) : entry.includes('/') ? entry : undefined;
    if (team === undefined) {
      allowed.add(entry);
      continue;
    }
    const [org, slug] = team.includes('/') ? team.split('/', 2) : [client.owner, team];
    const members = await client.call(`read team ${org}/${slug}`, (octokit) =>
      octokit.paginate(octokit.rest.teams.listMembersInOrg, { org: org!, team_slug: slug!, per_page: 100 }),
    );
    for (const member of members) if (member) allowed.add(member.login);
  }
  return allowed;
}
