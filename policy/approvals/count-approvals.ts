/** A pull-request review as GitHub lists it (GET /repos/{owner}/{repo}/pulls/{n}/reviews). */
export interface ReviewFact {
  id: number;
  login: string;
  userType: string;
  state: string;
  commitId: string;
  submittedAt: string;
}

export interface ApprovalFacts {
  required: number;
  /** Logins allowed to approve; `undefined` means any collaborator with write access. */
  allowed: ReadonlySet<string> | undefined;
  reviews: readonly ReviewFact[];
  pullRequestAuthor: string;
  /** Logins of the author and committer of the head commit (the latest push). */
  lastPushers: ReadonlySet<string>;
  /** Logins with write, maintain or admin permission. */
  writers: ReadonlySet<string>;
  /** The plan digest to be run (at the current head). */
  digest: string;
  /** This workflow's plan digest at each reviewed commit (undefined: absent or invalid there). */
  digestAt: ReadonlyMap<string, string | undefined>;
  /** With `maxAgeMs`: an approval submitted `maxAgeMs` or more before `now` has expired. */
  now?: number;
  maxAgeMs?: number;
}

export const NotCountedReason = {
  author: 'pull request author',
  lastPusher: 'author of the latest push',
  bot: 'bot or app',
  noWriteAccess: 'no write access',
  notAllowed: 'not an allowed reviewer',
  expired: 'approval expired',
  dismissed: 'review dismissed',
  changesRequested: 'changes requested',
  staleDigest: 'approved a different plan',
} as const;
export type NotCountedReason = (typeof NotCountedReason)[keyof typeof NotCountedReason];

export interface ApprovalResult {
  required: number;
  approvers: { login: string; reviewId: number; commitId: string; submittedAt: string }[];
  notCounted: { login: string; reason: NotCountedReason }[];
  satisfied: boolean;
}

/** Review states that replace a reviewer's earlier verdict; COMMENTED and PENDING do not. */
const VERDICTS = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

export function isBot(login: string, userType: string): boolean {
  return userType === 'Bot' || login.toLowerCase().endsWith('[bot]');
}

/** Each reviewer's latest verdict, by submission time then review id (GitHub's own order). */
export function latestVerdicts(reviews: readonly ReviewFact[]): ReviewFact[] {
  const latest = new Map<string, ReviewFact>();
  const ordered = [...reviews].sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.id - b.id);
  for (const review of ordered)
    if (VERDICTS.has(review.state)) latest.set(review.login.toLowerCase(), review);
  return [...latest.values()];
}

/**
 * Counts the approvals that bind this plan digest. A reviewer's latest verdict counts when it is
 * APPROVED, the reviewer is allowed, has write access, is not a bot, not the pull request's author
 * and not the author or committer of the latest push, and the workflow's plan digest at the
 * reviewed commit equals the digest to run (a review on the head commit always qualifies on this
 * last point; on an earlier commit only if the plan is byte-for-byte the same plan).
 */
export function countApprovals(facts: ApprovalFacts): ApprovalResult {
  const approvers: ApprovalResult['approvers'] = [];
  const notCounted: ApprovalResult['notCounted'] = [];
  const author = facts.pullRequestAuthor.toLowerCase();
  const pushers = new Set([...facts.lastPushers].map((l) => l.toLowerCase()));
  const writers = new Set([...facts.writers].map((l) => l.toLowerCase()));
  const allowed = facts.allowed ? new Set([...facts.allowed].map((l) => l.toLowerCase())) : undefined;
  for (const review of latestVerdicts(facts.reviews)) {
    const login = review.login.toLowerCase();
    const reason = refusal(review, login);
    if (reason) notCounted.push({ login: review.login, reason });
    else
      approvers.push({
        login: review.login,
        reviewId: review.id,
        commitId: review.commitId,
        submittedAt: review.submittedAt,
      });
  }
  function refusal(review: ReviewFact, login: string): NotCountedReason | undefined {
    if (review.state === 'DISMISSED') return NotCountedReason.dismissed;
    if (review.state === 'CHANGES_REQUESTED') return NotCountedReason.changesRequested;
    if (isBot(review.login, review.userType)) return NotCountedReason.bot;
    if (login === author) return NotCountedReason.author;
    if (pushers.has(login)) return NotCountedReason.lastPusher;
    if (!writers.has(login)) return NotCountedReason.noWriteAccess;
    if (allowed && !allowed.has(login)) return NotCountedReason.notAllowed;
    if (expired(review)) return NotCountedReason.expired;
    if (facts.digestAt.get(review.commitId) !== facts.digest) return NotCountedReason.staleDigest;
    return undefined;
  }
  function expired(review: ReviewFact): boolean {
    if (facts.maxAgeMs === undefined || facts.now === undefined) return false;
    const submitted = Date.parse(review.submittedAt);
    return !Number.isFinite(submitted) || submitted + facts.maxAgeMs <= facts.now;
  }
  approvers.sort((a, b) => a.login.localeCompare(b.login));
  return { required: facts.required, approvers, notCounted, satisfied: approvers.length >= facts.required };
}
