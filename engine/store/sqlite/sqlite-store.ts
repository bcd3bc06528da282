/**
 * The embedded Store on node:sqlite. Every method is one transaction; compare-and-set updates
 * refuse stale writers; attempt results are fenced by the lease token.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { Reason, RunState, TaskState } from '../../../core/index.ts';
import { RunNotFoundError, LeaseLostError, StaleStateError } from '../../errors.ts';
import { NotFoundError } from '../../../core/index.ts';
import type {
  AttemptFinish,
  AttemptRecord,
  AttemptStart,
  CacheEntry,
  Lease,
  NewRun,
  ReceiptDigest,
  ReceiptRecord,
  TaskApprovalRecord,
  RunFilter,
  RunPatch,
  RunRecord,
  StoredLogLine,
  TaskPatch,
  TaskRecord,
  TaskTransitionWrite,
  TransitionRecord,
  FeedQuery,
  FeedTransition,
  RunTransitionWrite,
  RunWrite,
  DurationQuery,
  NamespaceBudget,
  SpendQuery,
  UsageQuery,
  UsageRow,
} from '../store.ts';
import * as budgets from '../budget-sql.ts';
import type { Fence, SettledStore } from '../async-store.ts';
import { taskLeaseName, type TaskClaim } from '../async-store.ts';
import { initialRunState, interruptedFinish, newRunValues, runLabels } from '../row-values.ts';
import { commitOtherBatches } from './group-commit.ts';
import { openDatabase, type Durability } from './open-database.ts';
import * as leases from './sqlite-leases.ts';
import * as approvals from './sqlite-approvals.ts';
import * as records from './sqlite-records.ts';
import {
  closeAttempt,
  insertTransition,
  outputsOf,
  startAttempt,
  transitionRun,
  transitionTask,
} from './sqlite-writes.ts';
import { toAttempt, toRun, toTask, type Row } from './rows.ts';

export class SqliteStore implements SettledStore {
  readonly location: string;
  readonly #db: DatabaseSync;
  /**
   * Prepared statements by SQL text: preparing costs more than running a small statement, and the
   * engine runs the same few dozen statements thousands of times per run. Per store (connection).
   */
  readonly #statements: Map<string, StatementSync>;
  /** Set on a fenced view (`fenced`): every write checks this lease token first. */
  readonly #fence: Fence | undefined;
  /** The statements the lease helpers (sqlite-leases.ts) run on this connection. */
  readonly #sql: leases.Sql = {
    all: (sql, ...args) => this.#all(sql, ...args),
    get: (sql, ...args) => this.#get(sql, ...args),
    run: (sql, ...args) => this.#run(sql, ...args),
  };

  constructor(
    dataDir: string,
    durability: Durability = 'normal',
    view?: { db: DatabaseSync; statements: Map<string, StatementSync>; fence: Fence },
  ) {
    this.location = dataDir;
    this.#db = view?.db ?? openDatabase(dataDir, durability);
    this.#statements = view?.statements ?? new Map();
    this.#fence = view?.fence;
  }

  /** AsyncStore.fenced: the same connection, every write checked against the lease's token. */
  fenced(fence: Fence): SqliteStore {
    return new SqliteStore(this.location, undefined, { db: this.#db, statements: this.#statements, fence });
  }

  /**
   * BEGIN IMMEDIATE: this process is the only writer until COMMIT, fence check included. Inside
   * the asynchronous store's group commit (group-commit.ts: one BEGIN IMMEDIATE for the calls of a
   * turn, the write lock held throughout) a savepoint instead: the same all-or-nothing, and the
   * fence is checked against what that transaction sees, which no other writer can change.
   */
  #tx<T>(fn: () => T): T {
    const nested = this.#db.isTransaction;
    if (!nested) commitOtherBatches(this.#db);
    this.#prepare(nested ? 'SAVEPOINT tx' : 'BEGIN IMMEDIATE').run();
    try {
      if (this.#fence) leases.checkToken(this.#sql, this.#fence);
      const result = fn();
      this.#prepare(nested ? 'RELEASE tx' : 'COMMIT').run();
      return result;
    } catch (error) {
      if (!nested) this.#db.exec('ROLLBACK');
      else if (this.#db.isTransaction) this.#db.exec('ROLLBACK TO tx; RELEASE tx');
      throw error;
    }
  }

  /** The connection, for the asynchronous store's group commit (group-commit.ts). */
  get connection(): DatabaseSync {
    return this.#db;
  }

  /** A write outside a transaction of its own: in one when the view is fenced. */
  #write<T>(fn: () => T): T {
    return this.#fence ? this.#tx(fn) : fn();
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #all(sql: string, ...args: SQLInputValue[]): Row[] {
    return this.#prepare(sql).all(...args) as Row[];
  }

  #get(sql: string, ...args: SQLInputValue[]): Row | undefined {
    return this.#prepare(sql).get(...args) as Row | undefined;
  }

  #run(sql: string, ...args: SQLInputValue[]): number {
    return Number(this.#prepare(sql).run(...args).changes);
  }

  createRun(run: NewRun): RunRecord {
    return this.#tx(() => {
      const seq = Number(this.#get('SELECT coalesce(max(seq), 0) + 1 AS s FROM runs')?.s ?? 1);
      this.#run(
        `INSERT INTO runs (id, workflow, namespace, plan_digest, plan, params, trigger, actor, priority,
           status, reason, created_at, approval_digest, source, trust, trace_parent, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...newRunValues(run).slice(0, 9),
        ...initialRunState(run),
        ...newRunValues(run).slice(9),
        seq,
      );
      insertTransition(this.#sql, run.id, null, null, ...initialRunState(run), run.by, run.createdAt, null);
      const insertTask = this.#db.prepare(
        `INSERT INTO tasks (run_id, task_id, position, state, reason, updated_at) VALUES (?, ?, ?, 'queued', 'created', ?)`,
      );
      run.plan.tasks.forEach((task, position) => {
        insertTask.run(run.id, task.id, position, run.createdAt);
        insertTransition(this.#sql, run.id, task.id, null, 'queued', 'created', run.by, run.createdAt, null);
      });
      // The label index the runs list filters through (migration 9), written with the run.
      for (const [key, value] of runLabels(run))
        this.#run('INSERT INTO run_labels (run_id, key, value) VALUES (?, ?, ?)', run.id, key, value);
      return this.getRun(run.id);
    });
  }

  getRun(runId: string): RunRecord {
    const row = this.#get('SELECT * FROM runs WHERE id = ?', runId);
    if (!row) throw new RunNotFoundError(runId);
    return toRun(row);
  }

  listRuns(filter: RunFilter = {}): RunRecord[] {
    return records.listRuns(this.#sql, filter);
  }

  transitionRun(
    runId: string,
    from: RunState,
    to: RunState,
    reason: Reason,
    by: string,
    time: number,
    patch?: RunPatch,
  ): void {
    this.#tx(() => this.#transitionRun(runId, { from, to, reason, by, time, ...(patch ? { patch } : {}) }));
  }

  #transitionRun(runId: string, t: RunTransitionWrite): void {
    if (transitionRun(this.#sql, runId, t)) return;
    this.getRun(runId);
    throw new StaleStateError(`run ${runId} is no longer ${t.from}`);
  }

  requestRunCancel(runId: string, by: string): void {
    this.#write(() => {
      if (this.#run('UPDATE runs SET cancel_requested_by = ? WHERE id = ?', by, runId) !== 1)
        throw new RunNotFoundError(runId);
    });
  }

  runCancelRequestedBy(runId: string): string | null {
    const row = this.#get('SELECT cancel_requested_by AS by FROM runs WHERE id = ?', runId);
    if (!row) throw new RunNotFoundError(runId);
    return row.by === null ? null : String(row.by);
  }

  clearRunCancel(runId: string): void {
    this.#write(() => this.#run('UPDATE runs SET cancel_requested_by = NULL WHERE id = ?', runId));
  }

  listTasks(runId: string): TaskRecord[] {
    return this.#all('SELECT * FROM tasks WHERE run_id = ? ORDER BY position', runId).map(toTask);
  }

  getTask(runId: string, taskId: string): TaskRecord {
    const row = this.#get('SELECT * FROM tasks WHERE run_id = ? AND task_id = ?', runId, taskId);
    if (!row) throw new NotFoundError('task', `${runId}/${taskId}`);
    return toTask(row);
  }

  transitionTask(
    runId: string,
    taskId: string,
    from: TaskState,
    to: TaskState,
    reason: Reason,
    by: string,
    time: number,
    patch: TaskPatch = {},
    detail?: string,
  ): void {
    this.#tx(() =>
      transitionTask(this.#sql, runId, taskId, {
        from,
        to,
        reason,
        by,
        time,
        patch,
        ...(detail === undefined ? {} : { detail }),
      }),
    );
  }

  listTransitions(runId: string, taskId?: string | null): TransitionRecord[] {
    return records.listTransitions(this.#sql, runId, taskId);
  }

  listTransitionsAfter(query: FeedQuery): FeedTransition[] {
    return records.listTransitionsAfter(this.#sql, query);
  }

  lastTransitionId(): number {
    return Number(this.#all('SELECT COALESCE(MAX(id), 0) AS id FROM transitions')[0]!.id);
  }

  startAttempt(start: AttemptStart, transition?: TaskTransitionWrite): number {
    return this.#tx(() => startAttempt(this.#sql, start, transition));
  }

  commitRunWrites(runId: string, writes: readonly RunWrite[]): number[] {
    return this.#tx(() =>
      writes.flatMap((w) => {
        if (w.kind === 'run') this.#transitionRun(runId, w.write);
        else if (w.kind === 'task') transitionTask(this.#sql, runId, w.taskId, w.write);
        else return [startAttempt(this.#sql, w.start, w.transition)];
        return [];
      }),
    );
  }

  /** AsyncStore.startClaimedAttempt: the claim's fence and the start in one transaction. */
  startClaimedAttempt(claim: TaskClaim, start: AttemptStart, transition?: TaskTransitionWrite): number {
    return this.#tx(() => {
      const name = taskLeaseName(start.runId, start.taskId);
      if (claim.runId !== start.runId || claim.taskId !== start.taskId) throw new LeaseLostError(name);
      leases.checkLease(this.#sql, name, claim.token, start.startedAt);
      return startAttempt(this.#sql, start, transition);
    });
  }

  #checkFence(attemptId: string, token: number, now: number): void {
    leases.checkLease(this.#sql, `attempt:${attemptId}`, token, now);
  }

  heartbeat(attemptId: string, token: number, now: number, leaseMs: number): void {
    this.#tx(() => {
      this.#checkFence(attemptId, token, now);
      this.#run('UPDATE leases SET expires_at = ? WHERE name = ?', now + leaseMs, `attempt:${attemptId}`);
    });
  }

  finishAttempt(
    attemptId: string,
    token: number,
    now: number,
    finish: AttemptFinish,
    transition?: TaskTransitionWrite,
    others: readonly { taskId: string; write: TaskTransitionWrite }[] = [],
    lines: readonly StoredLogLine[] = [],
  ): void {
    this.#tx(() => {
      this.#checkFence(attemptId, token, now);
      records.appendLogs(this.#sql, lines);
      closeAttempt(this.#sql, attemptId, finish);
      if (transition || others.length > 0) {
        const row = this.#get('SELECT run_id, task_id FROM attempts WHERE id = ?', attemptId)!;
        if (transition) transitionTask(this.#sql, String(row.run_id), String(row.task_id), transition);
        for (const o of others) transitionTask(this.#sql, String(row.run_id), o.taskId, o.write);
      }
      this.#run('UPDATE leases SET expires_at = 0 WHERE name = ?', `attempt:${attemptId}`);
    });
  }

  interruptAttempt(attemptId: string, now: number, message: string): void {
    this.#tx(() => {
      // Bumping the token fences out the old worker even if it is somehow still alive.
      leases.acquire(this.#sql, `attempt:${attemptId}`, 'recovery', now, 0, true);
      closeAttempt(this.#sql, attemptId, interruptedFinish(now, message));
    });
  }

  listAttempts(runId: string, taskId?: string): AttemptRecord[] {
    const rows =
      taskId === undefined
        ? this.#all('SELECT * FROM attempts WHERE run_id = ? ORDER BY started_at, attempt', runId)
        : this.#all(
            'SELECT * FROM attempts WHERE run_id = ? AND task_id = ? ORDER BY attempt',
            runId,
            taskId,
          );
    return rows.map((row) => toAttempt(row, outputsOf(this.#sql, String(row.id))));
  }

  taskOutputs(runId: string, taskId: string): Record<string, string> {
    const row = this.#get(
      `SELECT id FROM attempts WHERE run_id = ? AND task_id = ? AND outcome IN ('succeeded', 'cached')
         ORDER BY attempt DESC LIMIT 1`,
      runId,
      taskId,
    );
    return row ? outputsOf(this.#sql, String(row.id)) : {};
  }

  appendLogs(lines: StoredLogLine[]): void {
    if (lines.length === 0) return;
    this.#tx(() => records.appendLogs(this.#sql, lines));
  }

  listLogs(runId: string, taskId?: string | null, afterId = 0): (StoredLogLine & { id: number })[] {
    return records.listLogs(this.#sql, runId, taskId, afterId);
  }

  getCacheEntry(key: string, now: number): CacheEntry | undefined {
    return records.getCacheEntry(this.#sql, key, now);
  }

  putCacheEntry(e: CacheEntry): void {
    this.#write(() => records.putCacheEntry(this.#sql, e));
  }

  putReceipt(r: ReceiptRecord): void {
    this.#write(() => records.putReceipt(this.#sql, r));
  }

  listReceipts(runId: string): ReceiptRecord[] {
    this.getRun(runId);
    return records.listReceipts(this.#sql, runId);
  }

  /** An unknown run is RunNotFoundError; a run with receipts needs no second read to say it exists. */
  listReceiptDigests(runId: string): ReceiptDigest[] {
    const listed = records.listReceiptDigests(this.#sql, runId);
    if (listed.length === 0) this.getRun(runId);
    return listed;
  }

  /** Never fenced: an approval is a reviewer's act, whoever executes the run. */
  putTaskApproval(a: TaskApprovalRecord): boolean {
    this.getRun(a.runId);
    return approvals.putTaskApproval(this.#sql, a);
  }

  listTaskApprovals(runId: string, taskId?: string): TaskApprovalRecord[] {
    return approvals.listTaskApprovals(this.#sql, runId, taskId);
  }

  acquireLease(name: string, owner: string, now: number, ttlMs: number, force = false): Lease {
    return this.#tx(() => leases.acquire(this.#sql, name, owner, now, ttlMs, force));
  }

  getLease(name: string): Lease | undefined {
    return leases.getLease(this.#sql, name);
  }

  renewLease(name: string, token: number, now: number, ttlMs: number): Lease {
    return this.#tx(() => leases.renew(this.#sql, name, token, now, ttlMs));
  }

  renewLeases(held: readonly Fence[], now: number, ttlMs: number): string[] {
    return this.#tx(() =>
      held
        .filter(
          (f) =>
            this.#run(
              'UPDATE leases SET expires_at = ? WHERE name = ? AND token = ?',
              now + ttlMs,
              f.name,
              f.token,
            ) === 1,
        )
        .map((f) => f.name),
    );
  }

  runCancelRequests(runIds: readonly string[]): Map<string, string> {
    const rows = this.#all(
      `SELECT id, cancel_requested_by AS by FROM runs
        WHERE id IN (SELECT value FROM json_each(?)) AND cancel_requested_by IS NOT NULL`,
      JSON.stringify(runIds),
    );
    return new Map(rows.map((r) => [String(r.id), String(r.by)]));
  }

  putBudget(budget: NamespaceBudget): void {
    const { text, args } = budgets.putBudgetSql(numbered, budget);
    this.#write(() => this.#run(text, ...args));
  }

  getBudget(namespace: string): NamespaceBudget | undefined {
    const row = this.#get('SELECT * FROM namespace_budgets WHERE namespace = ?', namespace);
    return row ? budgets.toBudget(row) : undefined;
  }

  listBudgets(namespaces?: readonly string[]): NamespaceBudget[] {
    const only = namespaces ? `WHERE namespace IN (${namespaces.map(() => '?').join(', ') || "''"})` : '';
    return this.#all(`SELECT * FROM namespace_budgets ${only} ORDER BY namespace`, ...(namespaces ?? [])).map(
      budgets.toBudget,
    );
  }

  namespaceSpend(query: SpendQuery): number {
    const { text, args } = budgets.spendSql(numbered, query);
    return Number(this.#get(text, ...args)?.spent ?? 0);
  }

  taskDurations(query: DurationQuery): number[] {
    const { text, args } = budgets.durationsSql(numbered, query);
    return this.#all(text, ...args).map((r) => Number(r.ms));
  }

  taskQuotaTurn(runId: string, taskId: string, now: number): boolean {
    const { text, args } = budgets.taskQuotaSql(numbered, runId, taskId, now);
    return !budgets.overTaskQuota(budgets.toTaskQuota(this.#get(text, ...args)));
  }

  usage(query: UsageQuery): UsageRow[] {
    const { text, args } = budgets.usageSql(numbered, query);
    return this.#all(text, ...args).map(budgets.toUsageRow);
  }

  releaseLease(name: string, owner: string, token?: number): void {
    this.#write(() =>
      this.#run(
        'UPDATE leases SET expires_at = 0 WHERE name = ? AND owner = ? AND (? IS NULL OR token = ?)',
        name,
        owner,
        token ?? null,
        token ?? null,
      ),
    );
  }

  claimRun(owner: string, now: number, leaseMs: number): Lease | null {
    return this.#tx(() => leases.claimRun(this.#sql, owner, now, leaseMs));
  }

  claimReadyTask(owner: string, now: number, leaseMs: number): TaskClaim | null {
    return this.#tx(() => leases.claimReadyTask(this.#sql, owner, now, leaseMs));
  }

  close(): void {
    // A fenced view shares its parent's connection: the parent closes it.
    if (!this.#fence && this.#db.isOpen) this.#db.close();
  }
}

/** SQLite's numbered placeholder (`?1`): budget-sql.ts may use one argument twice. */
const numbered = (n: number): string => `?${n}`;
