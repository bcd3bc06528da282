import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { durationsSql } from '../budget-sql.ts';
import { migrations } from './migrations.ts';
import { claimRun } from './sqlite-leases.ts';
import { listRuns } from './sqlite-records.ts';

/** SQLite's plan for `text`, one line per step. */
function plan(db: DatabaseSync, text: string, args: SQLInputValue[]): string {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...args) as { detail: string }[];
  return rows.map((r) => r.detail).join('\n');
}

/** Every statement a call makes on `Sql`, answering nothing (no row, no change). */
function capture() {
  const seen: { text: string; args: SQLInputValue[] }[] = [];
  const sql = {
    all: (text: string, ...args: SQLInputValue[]) => (seen.push({ text, args }), []),
    get: (text: string, ...args: SQLInputValue[]) => (seen.push({ text, args }), undefined),
    run: (text: string, ...args: SQLInputValue[]) => (seen.push({ text, args }), 0),
  };
  return { sql, seen };
}

/**
 * Statements made for every run whose cost must not grow with the history or the queue
 * (migrations 11 to 13): the plans read the rows they return through an index, in order, never
 * every run of a workflow or every queued run and a sort (what they did before: linear in the
 * history or the backlog, bench/scheduler/RESULTS.md).
 */
describe('SQLite: the per-run reads go through their indexes', () => {
  const db = new DatabaseSync(':memory:');
  for (const m of migrations) db.exec(m.sql);

  it("the recovery look-back (the workflow's newest finished run before this one)", () => {
    const { sql, seen } = capture();
    listRuns(sql, {
      workflow: 'wf',
      namespace: 'ns',
      status: ['succeeded', 'failed', 'timed_out'],
      before: { createdAt: 1000, id: 'r9' },
      limit: 1,
    });
    const p = plan(db, seen[0]!.text, seen[0]!.args);
    expect(p).toMatch(/USING INDEX runs_workflow_created \(workflow=\? AND created_at<\?\)/);
    expect(p).not.toMatch(/TEMP B-TREE/);
  });

  it("the budget guard's duration history (a task's newest 100 finished attempts)", () => {
    const { text, args } = durationsSql((n) => `?${n}`, { workflow: 'wf', taskId: 'build' });
    const p = plan(db, text, args as SQLInputValue[]);
    expect(p).toMatch(/SEARCH a USING INDEX attempts_task_finished \(task_id=\?\)/);
    expect(p).not.toMatch(/TEMP B-TREE/);
  });

  it('the run claim walks the claim order and stops; the quota wait lines start from the quotas', () => {
    const { sql, seen } = capture();
    claimRun(sql, 'w', 1000, 15_000);
    const [claim, waitLines] = seen.map((s) => plan(db, s.text, s.args));
    expect(claim).toMatch(/^SCAN r USING INDEX runs_claimable/);
    expect(claim).not.toMatch(/TEMP B-TREE/);
    // The namespaces with a runs quota first (usually none), never every queued run.
    expect(waitLines).toMatch(/^SCAN b\n/);
  });

  it("the runs of one commit (GET /runs?sha=) through the commit's index (migration 13)", () => {
    const { sql, seen } = capture();
    listRuns(sql, { sha: 'a'.repeat(40), limit: 50 });
    const p = plan(db, seen[0]!.text, seen[0]!.args);
    expect(p).toMatch(/USING INDEX runs_commit \(<expr>=\?\)/);
  });
});
