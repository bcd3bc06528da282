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

export function createLiveView(io: CliIo, taskIds: string[], now: () => number = Date.now): LiveView {
  const rows = new Map<string, Row>(taskIds.map((id) => [id, { id, state: 'queued', attempt: 0 }]));
  const width = Math.min(48, Math.max(4, ...taskIds.map((id) => id.length)));
  let drawn = 0;

  const render = (): string => {
    const lines = [...rows.values()].map((r) => {
      const end = r.endedAt ?? (r.state === 'running' ? now() : undefined);
      const took = r.startedAt !== undefined && end !== undefined ? duration(end - r.startedAt) : '';
      const attempt = r.attempt > 1 ? `#${r.attempt}` : '';
      return `${symbols[r.state] ?? '·'} ${r.id.padEnd(width)}  ${r.state.padEnd(18)} ${attempt.padEnd(4)} ${took}`;
    });
    return lines.join('\n') + '\n';
  };
  const redraw = (): void => {
    const text = render();
    io.stdout((drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '') + text);
    drawn = rows.size;
  };
  const timer = io.isTty ? setInterval(redraw, 250) : undefined;
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
      if (io.isTty) redraw();
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
