/** The figures of one contender from what was sent and what the store says, and the printed table. */
import type { Sent } from './open-loop.ts';
import { fmt, summarize, target, type Summary } from './stats.ts';
import type { Started } from './target.ts';

export interface PhaseResult {
  label: string;
  sent: number;
  /** Stored request → first task leased (Maestro) / job created → job started (peer). */
  decision: Summary;
  /** Scheduled send time → 202 (Maestro) / addJob returned (peer). */
  accept: Summary;
  /** Scheduled send time → first task leased: what a caller waits, coordinated omission included. */
  endToEnd: Summary;
  /** Runs (jobs) started per second, over the span from the first scheduled send to the last start. */
  startedPerSecond: number;
  /** Errors by kind: refused or failed requests, never started, ended badly. */
  errors: Map<string, number>;
  errorCount: number;
  /** CPU of the contender's processes (server, its tasks, the database), per run. */
  cpuMsPerRun: number;
  /** PostgreSQL transactions (commits + rollbacks of the contender's database) per run sent. */
  transactionsPerRun?: number;
  /** The sender's worst lateness against its own schedule (a busy bench machine shows here). */
  senderLateMs: number;
}

export function analyse(
  label: string,
  sent: readonly Sent<string>[],
  started: ReadonlyMap<string, Started>,
  cpuSeconds: number,
): PhaseResult {
  const errors = new Map<string, number>();
  const count = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);
  const decision: number[] = [];
  const accept: number[] = [];
  const endToEnd: number[] = [];
  let lastStart = -Infinity;
  for (const s of sent) {
    if (s.result === undefined) {
      count(String((s.error as Error | undefined)?.message ?? s.error).slice(0, 120));
      continue;
    }
    accept.push(s.doneAt - s.scheduledAt);
    const start = started.get(s.result);
    if (!start) {
      count('never started');
      continue;
    }
    if (start.error) count(start.error);
    decision.push(start.startedAt - start.acceptedAt);
    endToEnd.push(start.startedAt - s.scheduledAt);
    lastStart = Math.max(lastStart, start.startedAt);
  }
  const firstScheduled = Math.min(...sent.map((s) => s.scheduledAt));
  const span = (lastStart - firstScheduled) / 1000;
  return {
    label,
    sent: sent.length,
    decision: summarize(decision),
    accept: summarize(accept),
    endToEnd: summarize(endToEnd),
    startedPerSecond: span > 0 ? decision.length / span : 0,
    errors,
    errorCount: [...errors.values()].reduce((a, b) => a + b, 0),
    cpuMsPerRun: (cpuSeconds * 1000) / Math.max(1, sent.length),
    senderLateMs: Math.max(0, ...sent.map((s) => s.sentAt - s.scheduledAt)),
  };
}

const triple = (s: Summary) => `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)}`.padEnd(22);

export function report(results: readonly PhaseResult[], load: { rate: number; seconds: number }): string {
  const lines = [
    '',
    `contender          decision p50/p95/p99 ms  send→202 p50/p95/p99 ms  send→leased p95  started/s  errors  CPU ms/run`,
  ];
  for (const r of results)
    lines.push(
      `${r.label.padEnd(18)} ${triple(r.decision)}   ${triple(r.accept)}   ${fmt(r.endToEnd.p95).padStart(11)} ms` +
        `  ${r.startedPerSecond.toFixed(1).padStart(9)}  ${String(r.errorCount).padStart(6)}  ${fmt(r.cpuMsPerRun).padStart(10)}`,
    );
  for (const r of results) {
    for (const [kind, n] of r.errors) lines.push(`  ${r.label} error ×${n}: ${kind}`);
    if (r.transactionsPerRun !== undefined)
      lines.push(`  ${r.label}: ${fmt(r.transactionsPerRun)} PostgreSQL transactions per run`);
    if (r.senderLateMs > 50) lines.push(`  ${r.label}: the sender ran up to ${fmt(r.senderLateMs)} ms late`);
  }
  const peer = results.find((r) => r.label === 'graphile-worker');
  lines.push('', 'targets (SM-102):');
  for (const r of results.filter((x) => x !== peer)) {
    lines.push(target(`${r.label} decision p95`, r.decision.p95, 50));
    if (peer) {
      lines.push(
        `  ratio ${r.label}/graphile-worker: p50 ${fmt(r.decision.p50 / peer.decision.p50)}×, p95 ${fmt(r.decision.p95 / peer.decision.p95)}×`,
      );
      lines.push(
        target(`${r.label} within 5× of graphile-worker's p95`, r.decision.p95 / peer.decision.p95, 5, '×'),
      );
    }
  }
  for (const r of results) {
    const sustained = r.startedPerSecond >= load.rate * 0.95;
    lines.push(
      target(`${r.label} errors`, r.errorCount, 0, `of ${r.sent}`),
      `${sustained ? 'PASS' : 'MISS'}  ${r.label} sustained ${r.startedPerSecond.toFixed(1)} runs/s (offered ${load.rate}/s for ${load.seconds} s)`,
    );
  }
  return lines.join('\n');
}
