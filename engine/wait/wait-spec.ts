/**
 * The built-in `wait` task (`uses: tasks/wait@1`) is an engine primitive, not a process: its
 * time (`for`, `until`) is a durable timer the engine stores (durable-timer.ts), and its HTTP
 * condition is polled by the engine (http-wait.ts). This file reads its resolved inputs. Pure.
 */
import { InputError, type PlanTask } from '../../core/index.ts';
import { parseDuration } from '../../compiler/index.ts';

export interface HttpCondition {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** CEL over `status` (int) and `body` (the response parsed as JSON, else its text). */
  condition: string;
  intervalMs: number;
  timeoutMs: number;
}

export interface WaitSpec {
  /** `for` (or 1.0.0's `duration`): how long after the task became ready. */
  delayMs?: number;
  /** `until`: the time, ms since the epoch. */
  untilMs?: number;
  http?: HttpCondition;
}

export const DEFAULT_CONDITION = 'status >= 200 && status < 300';
const DEFAULT_INTERVAL_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 3_600_000;
/** Polling faster than this is a load test, not a wait. */
const MIN_INTERVAL_MS = 100;

/** True for the built-in catalog's `wait` (a repository or locked catalog task of that name is code). */
export function isWaitPrimitive(plan: PlanTask): boolean {
  const a = plan.action;
  return a.type === 'catalog' && a.name === 'wait' && a.entry === undefined && a.source === undefined;
}

export class WaitInputError extends InputError {
  constructor(taskId: string, message: string) {
    super('invalid_wait', `task ${taskId}: ${message}`, {
      hint: 'tasks/wait takes `for: 10m`, `until: 2026-12-02T03:00:00Z` and/or `url` with `condition`, `interval`, `timeout` (docs/reference/tasks/wait.md)',
    });
  }
}

/** The wait's inputs after template resolution; throws WaitInputError naming the input. */
export function waitSpecOf(taskId: string, inputs: Record<string, unknown>): WaitSpec {
  const spec: WaitSpec = {};
  const text = (name: string): string | undefined => {
    const v = inputs[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new WaitInputError(taskId, `${name} must be a string`);
    return v;
  };
  const duration = (name: string): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    try {
      return parseDuration(v);
    } catch {
      throw new WaitInputError(
        taskId,
        `${name}: ${JSON.stringify(v)} is not a duration (500ms, 2s, 10m, 1h30m)`,
      );
    }
  };
  const delay = duration('for') ?? duration('duration');
  if (delay !== undefined) spec.delayMs = delay;
  const until = text('until');
  if (until !== undefined) {
    // RFC 3339 with a zone only: a bare local time would depend on the engine's time zone.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(until))
      throw new WaitInputError(taskId, `until: ${JSON.stringify(until)} is not an RFC 3339 time with a zone`);
    spec.untilMs = Date.parse(until);
    // The pattern passes impossible dates (month 13, day 32): Date.parse gives NaN, which no timer
    // can be armed with.
    if (Number.isNaN(spec.untilMs))
      throw new WaitInputError(taskId, `until: ${JSON.stringify(until)} is not a date that exists`);
  }
  const url = text('url');
  if (url !== undefined) spec.http = httpCondition(taskId, url, inputs, duration, text);
  if (spec.delayMs === undefined && spec.untilMs === undefined && spec.http === undefined)
    throw new WaitInputError(taskId, 'say what to wait for: for, until or url');
  return spec;
}

function httpCondition(
  taskId: string,
  url: string,
  inputs: Record<string, unknown>,
  duration: (name: string) => number | undefined,
  text: (name: string) => string | undefined,
): HttpCondition {
  const headers = inputs.headers ?? {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new WaitInputError(taskId, 'headers must be a map of strings');
  const intervalMs = duration('interval') ?? DEFAULT_INTERVAL_MS;
  if (intervalMs < MIN_INTERVAL_MS)
    throw new WaitInputError(taskId, `interval must be at least ${MIN_INTERVAL_MS}ms`);
  const body = text('body');
  return {
    url,
    method: text('method') ?? 'GET',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
    ...(body === undefined ? {} : { body }),
    condition: text('condition') ?? DEFAULT_CONDITION,
    intervalMs,
    timeoutMs: duration('timeout') ?? DEFAULT_TIMEOUT_MS,
  };
}

/** When the wait's timer ends: the later of `for` after `readyAt` and `until`; undefined: no timer. */
export function waitUntil(spec: WaitSpec, readyAt: number): number | undefined {
  const times = [
    ...(spec.delayMs === undefined ? [] : [readyAt + spec.delayMs]),
    ...(spec.untilMs === undefined ? [] : [spec.untilMs]),
  ];
  return times.length === 0 ? undefined : Math.max(...times);
}
