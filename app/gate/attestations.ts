import type { AppStore, StoredAttestation } from '../app-store.ts';
import { signApproval, type ApprovalPredicate } from '../../provenance/index.ts';
import type { GateContext, PullRequestRef, WorkflowGate } from './gate-types.ts';

/**
 * Signs (or reuses) the attestation for one satisfied workflow at this head, pull request and
 * base. It expires when the approvals it rests on do: `approvalTtlMs` after the `required`-th
 * youngest counted approval of its strictest rule. When the pull request had a live attestation
 * for the same plan at another head (a rebase, or a push that left the plan alone), the new one
 * cites it in `supersedes`; the caller then revokes the old one.
 */
export async function issueAttestation(
  ctx: GateContext,
  pr: PullRequestRef,
  workflow: string,
  planDigest: string,
  results: WorkflowGate['rules'],
): Promise<string> {
  const repository = ctx.client.fullName;
  const now = ctx.now();
  const approvers = new Map<string, ApprovalPredicate['approvers'][number]>();
  let expiresAt = now + ctx.approvalTtlMs;
  for (const { result } of results) {
    for (const a of result.approvers)
      if (!approvers.has(a.login))
        approvers.set(a.login, { login: a.login, reviewId: a.reviewId, commitId: a.commitId });
    const times = result.approvers.map((a) => Date.parse(a.submittedAt)).sort((x, y) => y - x);
    const limiting = times[Math.max(0, result.required - 1)];
    if (limiting !== undefined && Number.isFinite(limiting))
      expiresAt = Math.min(expiresAt, limiting + ctx.approvalTtlMs);
  }
  const logins = [...approvers.keys()].sort();
  const live = (await ctx.store.liveAttestations(repository, pr.number)).filter(
    (a) => a.workflow === workflow,
  );
  const same = live.find(
    (a) =>
      a.headSha === pr.headSha &&
      a.baseSha === pr.baseSha &&
      a.planDigest === planDigest &&
      a.approvers.join(',') === logins.join(',') &&
      a.expiresAt === expiresAt,
  );
  if (same) return same.digest;
  const prior = live.find((a) => a.planDigest === planDigest);
  const predicate: ApprovalPredicate = {
    repository,
    workflow,
    pullRequest: pr.number,
    headSha: pr.headSha,
    baseSha: pr.baseSha,
    planDigest,
    approvers: logins.map((login) => approvers.get(login)!),
    required: Math.max(...results.map((r) => r.rule.required)),
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
    ...(prior ? { supersedes: prior.digest } : {}),
  };
  return (await store(ctx, predicate)).digest;
}

/**
 * A merged pull request's approval carries over to its merge commit (what the push to the base
 * branch dispatches), only for a workflow whose plan digest there is the approved one, with the
 * same expiry; every attestation of the pull request itself is revoked. A closed, unmerged pull
 * request just loses them all.
 */
export async function closePullRequest(
  ctx: Pick<GateContext, 'client' | 'store' | 'signer' | 'now' | 'digestsAt'>,
  pr: { number: number; headSha: string; mergeCommitSha?: string },
): Promise<string[]> {
  const repository = ctx.client.fullName;
  const live = await ctx.store.liveAttestations(repository, pr.number);
  const carried: string[] = [];
  if (pr.mergeCommitSha) {
    const digests = await ctx.digestsAt(pr.mergeCommitSha);
    for (const old of live.filter((a) => a.headSha === pr.headSha && a.expiresAt > ctx.now())) {
      if (digests[old.workflow] !== old.planDigest) continue;
      const signed = await store(ctx, {
        ...predicateOf(old),
        headSha: pr.mergeCommitSha,
        issuedAt: new Date(ctx.now()).toISOString(),
        supersedes: old.digest,
      });
      carried.push(signed.digest);
    }
  }
  const reason = pr.mergeCommitSha ? `merged as ${pr.mergeCommitSha}` : 'the pull request was closed';
  await revokeAll(ctx.store, repository, pr.number, (a) => !carried.includes(a.digest), reason, ctx.now());
  return carried;
}

/** Revokes the pull request's live attestations that `which` selects. */
export async function revokeAll(
  store: AppStore,
  repo: string,
  pullRequest: number,
  which: (a: StoredAttestation) => boolean,
  reason: string,
  at: number,
): Promise<void> {
  for (const a of await store.liveAttestations(repo, pullRequest))
    if (which(a)) await store.revokeAttestation(a.digest, reason, at);
}

/** The signed predicate of a stored attestation (the bundle's DSSE payload). */
function predicateOf(a: StoredAttestation): ApprovalPredicate {
  const envelope = (a.bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope;
  const statement = JSON.parse(Buffer.from(envelope?.payload ?? '', 'base64').toString('utf8')) as {
    predicate: ApprovalPredicate;
  };
  return statement.predicate;
}

async function store(
  ctx: Pick<GateContext, 'client' | 'store' | 'signer'>,
  predicate: ApprovalPredicate,
): Promise<{ digest: string }> {
  const signed = await signApproval(predicate, ctx.signer);
  await ctx.store.putAttestation({
    digest: signed.digest,
    repo: predicate.repository,
    workflow: predicate.workflow,
    planDigest: predicate.planDigest,
    pullRequest: predicate.pullRequest,
    headSha: predicate.headSha,
    baseSha: predicate.baseSha,
    bundle: signed.bundle,
    approvers: predicate.approvers.map((a) => a.login),
    issuedAt: Date.parse(predicate.issuedAt),
    expiresAt: Date.parse(predicate.expiresAt),
    ...(predicate.supersedes ? { supersedes: predicate.supersedes } : {}),
  });
  return { digest: signed.digest };
}
