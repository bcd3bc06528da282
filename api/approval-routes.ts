/**
 * POST /v1/runs/{id}/approvals: a person approves a run waiting for approval. The approver is the
 * token's user, checked against the workflow's `approvals` rule with the shared pieces (the
 * `from:` resolution of policy/approvals/allowed-reviewers.ts, teams from the server's teams file, and
 * count-approvals.ts), never the run's starter, never a token without a user. Each approval is
 * signed with the approval key, binding the run id, the plan digest, the source commit and the
 * approver; the run is released (engine.approve) only by a grant that cites approvals which all
 * verify for this run. Fail closed throughout: no rule met, no run.
 */
import { RunState, type ApiBody, type Plan } from '../core/index.ts';
import type { RunRecord } from '../engine/index.ts';
import { countApprovals, resolveAllowed } from '../policy/index.ts';
import {
  checkRunApproval,
  signRunApproval,
  signRunApprovalGrant,
  type ProvenanceSigner,
  type RunApprovalBinding,
} from '../provenance/index.ts';
import type { ApiContext } from './api-context.ts';
import type { StoredApproval, StoredGrant } from './api-store.ts';
import type { Caller } from './auth.ts';
import { ApiError } from './problem.ts';
import { findRun } from './run-routes.ts';
import { approvalView, runSummary } from './run-view.ts';
import { membersOf, readTeamsFile, type Teams } from './teams-file.ts';

/** How long an approval counts, as the App's default (MAESTRO_APPROVAL_TTL_HOURS, 168). */
export const DEFAULT_APPROVAL_TTL_MS = 168 * 60 * 60 * 1000;

/** The user a token acts as when `maestro tokens create` got no `--user` (cli/commands/tokens.ts). */
export const TOKEN_USER_PREFIX = 'token:';

type Rule = NonNullable<Plan['approvals']>;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function bindingOf(run: RunRecord): RunApprovalBinding {
  return {
    runId: run.id,
    namespace: run.namespace,
    workflow: run.workflow,
    planDigest: run.planDigest,
    sourceSha: run.source?.commit ?? null,
    sourceRepo: run.source?.repo ?? null,
  };
}

export function approverOf(caller: Caller): string {
  if (caller.user === '' || caller.user.startsWith(TOKEN_USER_PREFIX))
    throw new ApiError(403, 'approver_unknown', 'this token acts for no person, so it cannot approve', {
      hint: 'approve with a token made for you: maestro tokens create --user <login> --scope approvals:write',
    });
  return caller.user;
}

function approvalSigner(ctx: ApiContext): ProvenanceSigner & { publicKeyPem: string } {
  const signer = ctx.runtime.approvalSigner;
  if (!signer?.publicKeyPem)
    throw new ApiError(503, 'approval_signer_unavailable', 'this server has no approval signing key', {
      hint: 'start the server with the api role (it resolves MAESTRO_APPROVAL_SIGNING_KEY)',
    });
  return signer as ProvenanceSigner & { publicKeyPem: string };
}

export function teamsOf(ctx: ApiContext): Teams {
  try {
    return readTeamsFile(ctx.teamsFile);
  } catch (error) {
    ctx.logger.error({ err: error }, 'teams file unreadable');
    throw new ApiError(503, 'teams_unavailable', 'the server cannot read its teams file', {
      hint: 'the operator must fix MAESTRO_TEAMS_FILE (the server log says what is wrong)',
    });
  }
}

/** The logins the rule allows; undefined: `from` is empty, so anyone holding approvals:write. */
async function allowedBy(ctx: ApiContext, rule: Rule): Promise<Set<string> | undefined> {
  if (rule.from.length === 0) return undefined;
  const teams = teamsOf(ctx);
  // `codeowners` needs a repository's CODEOWNERS, which the API does not read: it allows nobody.
  return resolveAllowed(rule.from, async (team) => membersOf(teams, team));
}

/**
 * The approvals that count for this run under its rule: every stored approval is verified
 * (signature, and a binding to exactly this run, plan, source and approver) before
 * count-approvals.ts counts it as the App counts reviews, the starter in the author's place.
 */
async function countFor(ctx: ApiContext, run: RunRecord, rule: Rule, stored: readonly StoredApproval[]) {
  const signer = approvalSigner(ctx);
  const binding = bindingOf(run);
  const reviews = [];
  for (const [i, a] of stored.entries()) {
    const checked = checkRunApproval(a.bundle, signer.publicKeyPem, { ...binding, approver: a.approver });
    if ('refused' in checked) {
      ctx.logger.warn(
        { runId: run.id, approver: a.approver, reason: checked.refused },
        'approval not counted',
      );
      continue;
    }
    const p = checked.predicate;
    reviews.push({
      id: i + 1,
      login: p.approver,
      userType: 'User',
      state: 'APPROVED',
      commitId: p.planDigest,
      submittedAt: p.approvedAt,
    });
  }
  const result = countApprovals({
    required: rule.required,
    allowed: await allowedBy(ctx, rule),
    reviews,
    pullRequestAuthor: run.actor,
    lastPushers: new Set([run.actor]),
    // Everyone recorded here held approvals:write when they approved (the route's scope).
    writers: new Set(reviews.map((r) => r.login)),
    digest: run.planDigest,
    digestAt: new Map(reviews.map((r) => [r.commitId, r.commitId])),
    // A run left waiting does not collect approvals for ever: each one counts for the TTL.
    now: ctx.clock.now(),
    maxAgeMs: ctx.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS,
  });
  const digestOf = new Map(stored.map((a) => [a.approver.toLowerCase(), a.digest]));
  return { result, digestOf };
}

/** Signs (or finds) the grant and moves the run to queued with it; the worker then runs it. */
async function release(
  ctx: ApiContext,
  run: RunRecord,
  rule: Rule,
  counted: Awaited<ReturnType<typeof countFor>>,
  by: string,
): Promise<StoredGrant> {
  let grant = await ctx.apiStore.getGrant(run.id);
  if (!grant) {
    const grantedAt = ctx.clock.now();
    const signed = await signRunApprovalGrant(
      {
        ...bindingOf(run),
        required: rule.required,
        approvals: counted.result.approvers.map((a) => ({
          approver: a.login,
          approvedAt: a.submittedAt,
          digest: counted.digestOf.get(a.login.toLowerCase())!,
        })),
        grantedAt: new Date(grantedAt).toISOString(),
      },
      approvalSigner(ctx),
    );
    // Stored before the run moves: the run's receipts will cite it.
    grant = await ctx.apiStore.putGrant({
      runId: run.id,
      digest: signed.digest,
      bundle: signed.bundle,
      grantedAt,
    });
  }
  try {
    await ctx.runtime.engine.approve(run.id, { by, approvalDigest: grant.digest });
  } catch (error) {
    // A concurrent approval released it first, or it was cancelled meanwhile: nothing to do.
    if ((error as { code?: string }).code !== 'run_not_waiting') throw error;
  }
  ctx.wake(run.id);
  return grant;
}

/** Records the caller's approval of a run; 201 when new, 200 when this approver's was there. */
export async function approveRun(
  ctx: ApiContext,
  caller: Caller,
  id: string,
): Promise<{ status: number; body: ApiBody.ApprovalAnswer }> {
  const run = await findRun(ctx, caller, id);
  const approver = approverOf(caller);
  const rule = run.plan.approvals;
  const existing = (await ctx.apiStore.listApprovals(id)).find((a) => same(a.approver, approver));
  if (!existing) await recordApproval(ctx, run, rule, approver);
  let current = await ctx.runtime.store.getRun(id);
  const stored = await ctx.apiStore.listApprovals(id);
  const counted = rule ? await countFor(ctx, current, rule, stored) : undefined;
  // Also on a repeated approval: a release a crash interrupted is finished by the next call.
  if (rule && counted?.result.satisfied && current.status === RunState.waitingForApproval) {
    await release(ctx, current, rule, counted, approver);
    current = await ctx.runtime.store.getRun(id);
  }
  const mine = stored.find((a) => same(a.approver, approver))!;
  return {
    status: existing ? 200 : 201,
    body: {
      run: runSummary(current),
      approval: approvalView(mine, current),
      approvals: stored.map((a) => approvalView(a, current)),
      required: rule?.required ?? 0,
      satisfied: counted?.result.satisfied ?? false,
      approvalDigest: (await ctx.apiStore.getGrant(id))?.digest ?? null,
    },
  };
}

/** The checks before an approval is signed, then the signed approval stored (once per approver). */
async function recordApproval(
  ctx: ApiContext,
  run: RunRecord,
  rule: Rule | undefined,
  approver: string,
): Promise<void> {
  if (run.status !== RunState.waitingForApproval || !rule)
    throw new ApiError(409, 'run_not_waiting', `run ${run.id} is ${run.status}, not waiting_for_approval`, {
      hint: 'only a run of an approval-gated workflow that has not started or been cancelled can be approved',
    });
  if (same(approver, run.actor))
    throw new ApiError(
      403,
      'approver_is_starter',
      `${approver} started run ${run.id} and cannot approve it`,
      {
        hint: 'another person named by the workflow’s approvals.from must approve it',
      },
    );
  const allowed = await allowedBy(ctx, rule);
  if (allowed && ![...allowed].some((login) => same(login, approver)))
    throw new ApiError(
      403,
      'approver_not_allowed',
      `${approver} is not allowed to approve ${run.namespace}/${run.workflow}`,
      {
        hint: `its approvals.from is ${rule.from.join(', ')}; teams come from the server's MAESTRO_TEAMS_FILE`,
      },
    );
  const approvedAt = ctx.clock.now();
  const signed = await signRunApproval(
    { ...bindingOf(run), approver, approvedAt: new Date(approvedAt).toISOString() },
    approvalSigner(ctx),
  );
  await ctx.apiStore.putApproval({
    runId: run.id,
    approver,
    digest: signed.digest,
    bundle: signed.bundle,
    approvedAt,
  });
  ctx.logger.info({ runId: run.id, approver, digest: signed.digest }, 'run approved');
}
