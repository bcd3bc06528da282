/**
 * Which plan tasks are approval tasks, and what their `with:` asks. An approval task is the
 * built-in catalog's `approval` (`uses: tasks/approval@1`): an engine primitive, never a process.
 * A repository's or a locked catalog's task that happens to be named `approval` is an ordinary
 * task (it has an `entry` or a `source`), so nobody can make the engine wait with a look-alike,
 * nor run code in an approval's place.
 */
import type { PlanTask } from '../../core/index.ts';

export interface ApprovalSpec {
  approvals: number;
  reviewers: string[];
  teams: string[];
  /** undefined: waits until approved or cancelled. */
  timeoutMs: number | undefined;
  onTimeout: 'reject' | 'escalate';
  /** Who is added to the allowed reviewers once an `escalate` timeout passed. */
  escalateTo: { reviewers: string[]; teams: string[] };
}

export function isApprovalTask(task: PlanTask): boolean {
  const a = task.action;
  return a.type === 'catalog' && a.name === 'approval' && a.entry === undefined && a.source === undefined;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `2h`, `7d`: the duration grammar of tasks/approval/task.json. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

function logins(value: unknown): string[] {
  // The compiler already checked the schema (plain names, no expressions); anything else here is
  // a plan that did not come from the compiler, and allows nobody rather than everybody.
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string' && !v.includes('${'));
}

/** The spec of an approval task's `with:`, read as literals (the plan digest binds them). */
export function approvalSpecOf(task: PlanTask): ApprovalSpec {
  const w = task.with as Record<string, unknown>;
  const n =
    typeof w.approvals === 'number' && Number.isInteger(w.approvals) && w.approvals >= 1 ? w.approvals : 1;
  const escalate = (w.escalateTo ?? {}) as Record<string, unknown>;
  return {
    approvals: n,
    reviewers: logins(w.reviewers),
    teams: logins(w.teams),
    timeoutMs: typeof w.timeout === 'string' ? parseDuration(w.timeout) : undefined,
    onTimeout: w.onTimeout === 'escalate' ? 'escalate' : 'reject',
    escalateTo: { reviewers: logins(escalate.reviewers), teams: logins(escalate.teams) },
  };
}

/** Who may approve now: the task's reviewers and teams, widened by `escalateTo` once escalated. */
export function allowedNow(spec: ApprovalSpec, escalated: boolean): { reviewers: string[]; teams: string[] } {
  if (!escalated) return { reviewers: spec.reviewers, teams: spec.teams };
  return {
    reviewers: [...spec.reviewers, ...spec.escalateTo.reviewers],
    teams: [...spec.teams, ...spec.escalateTo.teams],
  };
}

/** Whether `login` (with the teams a surface found it in) is allowed; no list at all allows anyone. */
export function isAllowed(
  allowed: { reviewers: string[]; teams: string[] },
  login: string,
  teams: readonly string[],
): boolean {
  if (allowed.reviewers.length === 0 && allowed.teams.length === 0) return true;
  const lower = login.toLowerCase();
  if (allowed.reviewers.some((r) => r.toLowerCase() === lower)) return true;
  const mine = new Set(teams.map((t) => t.toLowerCase()));
  return allowed.teams.some((t) => mine.has(t.toLowerCase()));
}

export function describeAllowed(allowed: { reviewers: string[]; teams: string[] }): string {
  const names = [...allowed.reviewers, ...allowed.teams.map((t) => `team:${t}`)];
  return names.length === 0 ? 'anyone the surface lets approve' : names.join(', ');
}
