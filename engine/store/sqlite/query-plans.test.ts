import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { durationsSql } from '../budget-sql.ts';
import { migrations } from './migrations.ts';
import { listRuns } from './sqlite-records.ts';

/** SQLite's plan for `text`, one line per step. */
function plan(db: DatabaseSync, text: string, args: SQLInputValue[]): string {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...args) as { detail: string }[];
  return rows.map((r) => r.detail).join('\n');
}

/**
 * Two reads made for every run, of a workflow's history (migration 11): the plans must read
 * the rows they return through an index, in order, never every run of the workflow and a sort
 * (what they did before: linear in the history, bench/scheduler/RESULTS.md).
 */
describe('SQLite: the per-run history reads go through their indexes', () => {
  const db = new DatabaseSync(':memory:');
  for (const m of migrations) db.exec(m.sql);

  it("the recovery look-back (the workflow's newest finished run before this one)", () => {
    let seen: { text: string; args: SQLInputValue[] } | undefined;
    const capture = {
      all: (text: string, ...args: SQLInputValue[]) => ((seen = { text, args }), []),
      get: () => undefined,
      run: () => 0,
    };
    listRuns(capture, {
      workflow: 'wf',
      namespace: 'ns',
      status: ['succeeded', 'failed', 'timed_out'],
      before: { createdAt: 1000, id: 'r9' },
      limit: 1,
    });
    const p = plan(db, seen!.text, seen!.args);
    expect(p).toMatch(/USING INDEX runs_workflow_created \(workflow=\? AND created_at<\?\)/);
    expect(p).not.toMatch(/TEMP B-TREE/);
  });

  it("the budget guard's duration history (a task's newest 100 finished attempts)", () => {
    const { text, args } = durationsSql((n) => `?${n}`, { workflow: 'wf', taskId: 'build' });
    const p = plan(db, text, args as SQLInputValue[]);
    expect(p).toMatch(/SEARCH a USING INDEX attempts_task_finished \(task_id=\?\)/);
    expect(p).not.toMatch(/TEMP B-TREE/);
  });
});
