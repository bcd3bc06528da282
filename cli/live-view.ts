/**
 * What `maestro run` shows while a run executes. On a terminal, a table of tasks (state, attempt,
 * duration) redrawn in place; otherwise one plain line per task transition, for logs and CI.
 */
import type { EngineEvent } from '../engine/index.ts';
import type { CliIo } from './io.ts';

interface Row {
  id: string;
  state: string;
  attempt: number;
  startedAt?: number;
  endedAt?: number;
}

const finalStates = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
  'cached',
  'timed_out',
  'blocked_by_policy',
]);
const symbols: Record<string, string> = {
  succeeded: '✓',
  cached: '≡',
  failed: '✗',
  timed_out: '⏱',
  cancelled: '⊘',
  skipped: '-',
  blocked_by_policy: '⛔',
  running: '▶',
};

function duration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export interface LiveView {
  onEvent(event: EngineEvent): void;
  /** Final redraw (TTY) and stop the timer. */
  close(): void;
}

/** Above this many tasks the terminal view shows counts and the active tasks only. */
const fullTableLimit = 30;

export function createLiveView(io: CliIo, taskIds: string[], now: () => number = Date.now): LiveView {
  const rows = new Map<string, Row>(taskIds.map((id) => [id, { id, state: 'queued', attempt: 0 }]));
  const width = Math.min(48, Math.max(4, ...taskIds.map((id) => id.length)));
  let drawn = 0;

  const line = (r: Row): string => {
    const end = r.endedAt ?? (r.state === 'running' ? now() : undefined);
    const took = r.startedAt !== undefined && end !== undefined ? duration(end - r.startedAt) : '';
    const attempt = r.attempt > 1 ? `#${r.attempt}` : '';
    return `${symbols[r.state] ?? '·'} ${r.id.padEnd(width)}  ${r.state.padEnd(18)} ${attempt.padEnd(4)} ${took}`;
  };
  const render = (): string[] => {
    const all = [...rows.values()];
    if (all.length <= fullTableLimit) return all.map(line);
    // A large run: counts per state, then the tasks that are running (at most a screenful).
    const counts = new Map<string, number>();
    for (const r of all) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    const summary = [...counts].map(([state, n]) => `${state} ${n}`).join('  ');
    const active = all.filter((r) => r.state === 'running').slice(0, fullTableLimit - 2);
    return [`${all.length} tasks: ${summary}`, ...active.map(line)];
  };
  const redraw = (): void => {
    const lines = render();
    io.stdout((drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '') + lines.join('\n') + '\n');
    drawn = lines.length;
  };
  // On a terminal, transitions only mark the view dirty; the timer redraws at most 8 times a second.
  let dirty = false;
  const tick = (): void => {
    if (!dirty && ![...rows.values()].some((r) => r.state === 'running')) return;
    dirty = false;
    redraw();
  };
  const timer = io.isTty ? setInterval(tick, 125) : undefined;
  timer?.unref();
  if (io.isTty) redraw();

  return {
    onEvent(event) {
      if (event.type === 'log') {
        if (event.taskId === null || event.stream === 'system') return;
        const line = `${event.taskId} | ${event.text}\n`;
        if (!io.isTty) io.stdout(line);
        else {
          // Log lines scroll above the table, which is then drawn again below them.
          io.stdout((drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '') + line);
          drawn = 0;
          redraw();
        }
        return;
      }
      if (event.type !== 'task') return;
      const row = rows.get(event.taskId);
      if (!row) return;
      row.state = event.to;
      row.attempt = event.attempt;
      if (event.to === 'running') {
        row.startedAt = event.time;
        delete row.endedAt;
      }
      if (finalStates.has(event.to)) row.endedAt = event.time;
      if (io.isTty) dirty = true;
      else {
        const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : '';
        const detail = event.detail ? `: ${event.detail}` : '';
        io.stdout(`${event.taskId} ${event.to} [${event.reason}]${attempt}${detail}\n`);
      }
    },
    close() {
      if (timer) clearInterval(timer);
      if (io.isTty) redraw();
    },
  };
}
