import type { Plan } from '../core/index.ts';
import type { AttemptRecord, RunRecord, TaskRecord } from '../engine/index.ts';
import { cell } from './markdown.ts';

/** What mode `run` knows about one finished run, for the job summary. */
export interface RunResult {
  file: string;
  plan: Plan;
  run: RunRecord;
  tasks: TaskRecord[];
  attempts: AttemptRecord[];
  /** Where its receipts and disclosure bundle were written. */
  receiptsDir: string;
  receipts: number;
  /** Why the disclosure bundle could not be written, if it could not. */
  disclosureError?: string;
}

const icon: Record<string, string> = {
  succeeded: '✅',
  failed: '❌',
  cancelled: '🚫',
  skipped: '⏭️',
  timed_out: '⏱️',
};

/**
 * The job summary of mode `run`: one row per run, then per run its DAG as a ```mermaid block
 * and a table with every task's state, attempts and duration (first start to last finish).
 */
export function runSummaryMarkdown(
  results: readonly RunResult[],
  drawGraph: (plan: Plan) => string,
  notes: readonly string[] = [],
): string {
  const out = [
    '## Maestro: run',
    '',
    '| manifest | workflow | run | status | duration |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of results)
    out.push(
      `| \`${cell(r.file)}\` | ${cell(`${r.plan.workflow.namespace}/${r.plan.workflow.name}`)} | \`${r.run.id}\` | ${icon[r.run.status] ?? ''} ${r.run.status} | ${span(r.run.startedAt, r.run.finishedAt)} |`,
    );
  for (const r of results) {
    out.push('', `### ${cell(`${r.plan.workflow.namespace}/${r.plan.workflow.name}`)}: ${r.run.status}`, '');
    out.push(`Run \`${r.run.id}\`, plan digest \`${r.plan.digest}\`.`, '');
    out.push('```mermaid', drawGraph(r.plan).trimEnd(), '```', '');
    out.push('| task | state | attempts | duration |', '| --- | --- | --- | --- |');
    for (const t of [...r.tasks].sort((a, b) => a.position - b.position)) {
      const mine = r.attempts.filter((a) => a.taskId === t.taskId);
      const start = mine.length ? Math.min(...mine.map((a) => a.startedAt)) : null;
      const ends = mine.map((a) => a.finishedAt);
      const end = ends.length && ends.every((e) => e !== null) ? Math.max(...(ends as number[])) : null;
      out.push(
        `| ${cell(t.taskId)} | ${icon[t.state] ?? ''} ${t.state} | ${t.attempts} | ${span(start, end)} |`,
      );
    }
    out.push('', `Receipts: ${r.receipts} in \`${r.receiptsDir}\`.`);
    if (r.disclosureError) out.push('', `Disclosure bundle not written: ${cell(r.disclosureError)}`);
  }
  for (const note of notes) out.push('', note);
  return out.join('\n') + '\n';
}

/** A duration for people: `850 ms`, `12.3 s`, `4 min 5 s`; `—` when it did not start or end. */
export function span(start: number | null, end: number | null): string {
  if (start === null || end === null) return '—';
  const ms = Math.max(0, end - start);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
