/**
 * Which plan tasks are approval tasks, and what their `with:` asks. An approval task is the
 * built-in catalog's `approval` (`uses: tasks/approval@1`): an engine primitive, never a process.
 * A repository's or a locked catalog's task that happens to be named `approval` is an ordinary
 * task (it has an `entry` or a `source`), so nobody can make the engine wait with a look-alike,
 * nor run code in an approval's place.
 */
import { parseDuration } from '../../compiler/index.ts';
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
  /** A list was given but is not a list of plain names: nobody may approve (never everybody). */
  denyAll: boolean;
}

/** Who may approve: no list at all allows anyone; `denyAll` allows nobody. */
export interface AllowedApprovers {
  reviewers: string[];
  teams: string[];
  denyAll?: boolean;
}

export function isApprovalTask(task: PlanTask): boolean {
  const a = task.action;
  return a.type === 'catalog' && a.name === 'approval' && a.entry === undefined && a.source === undefined;
}

function logins(value: unknown): string[] {
  return Array.isArray(value) ? value.filter(isName) : [];
}

const isName = (v: unknown): v is string => typeof v === 'string' && !v.includes('${');

// The compiler already checked the schema (plain names, no expressions); a list that is anything
// else comes from a plan the compiler did not make, and allows nobody rather than everybody.
const wellFormed = (value: unknown) => value === undefined || (Array.isArray(value) && value.every(isName));

/** A timeout the duration grammar cannot read rejects at once rather than waiting for ever. */
function timeoutOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(String(value));
  } catch {
    return 0;
  }
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
    timeoutMs: timeoutOf(w.timeout),
    onTimeout: w.onTimeout === 'escalate' ? 'escalate' : 'reject',
    escalateTo: { reviewers: logins(escalate.reviewers), teams: logins(escalate.teams) },
    denyAll: ![w.reviewers, w.teams, escalate.reviewers, escalate.teams].every(wellFormed),
  };
}

/** Who may approve now: the task's reviewers and teams, widened by `escalateTo` once escalated. */
export function allowedNow(spec: ApprovalSpec, escalated: boolean): AllowedApprovers {
  if (!escalated) return { reviewers: spec.reviewers, teams: spec.teams, denyAll: spec.denyAll };
  return {
    reviewers: [...spec.reviewers, ...spec.escalateTo.reviewers],
    teams: [...spec.teams, ...spec.escalateTo.teams],
    denyAll: spec.denyAll,
  };
}

/** Whether `login` (with the teams a surface found it in) is allowed; no list at all allows anyone. */
export function isAllowed(allowed: AllowedApprovers, login: string, teams: readonly string[]): boolean {
  if (allowed.denyAll) return false;
  if (allowed.reviewers.length === 0 && allowed.teams.length === 0) return true;
  const lower = login.toLowerCase();
  if (allowed.reviewers.some((r) => r.toLowerCase() === lower)) return true;
  const mine = new Set(teams.map((t) => t.toLowerCase()));
  return allowed.teams.some((t) => mine.has(t.toLowerCase()));
}

export function describeAllowed(allowed: AllowedApprovers): string {
  if (allowed.denyAll) return 'nobody (the task’s reviewer lists are not lists of names)';
  const names = [...allowed.reviewers, ...allowed.teams.map((t) => `team:${t}`)];
  return names.length === 0 ? 'anyone the surface lets approve' : names.join(', ');
}
