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
  ReceiptRecord,
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
} from '../store.ts';
import type { Fence, SettledStore } from '../async-store.ts';
import { taskLeaseName, type TaskClaim } from '../async-store.ts';
import {
  TASK_PATCH_COLUMNS,
  attemptStartValues,
  cacheEntryValues,
  initialRunState,
  interruptedFinish,
  newRunValues,
  receiptValues,
} from '../row-values.ts';
import { openDatabase, type Durability } from './open-database.ts';
import * as leases from './sqlite-leases.ts';
import {
  toAttempt,
  toCacheEntry,
  toFeedTransition,
  toLogLine,
  toReceipt,
  toRun,
  toTask,
  toTransition,
  type Row,
} from './rows.ts';

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

  /** BEGIN IMMEDIATE: this process is the only writer until COMMIT, fence check included. */
  #tx<T>(fn: () => T): T {
    this.#prepare('BEGIN IMMEDIATE').run();
    try {
      if (this.#fence) leases.checkToken(this.#sql, this.#fence);
      const result = fn();
      this.#prepare('COMMIT').run();
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
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
           status, reason, created_at, approval_digest, source, trust, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...newRunValues(run).slice(0, 9),
        ...initialRunState(run),
        ...newRunValues(run).slice(9),
        seq,
      );
      this.#insertTransition(run.id, null, null, ...initialRunState(run), run.by, run.createdAt, null);
      const insertTask = this.#db.prepare(
        `INSERT INTO tasks (run_id, task_id, position, state, reason, updated_at) VALUES (?, ?, ?, 'queued', 'created', ?)`,
      );
      run.plan.tasks.forEach((task, position) => {
        insertTask.run(run.id, task.id, position, run.createdAt);
        this.#insertTransition(run.id, task.id, null, 'queued', 'created', run.by, run.createdAt, null);
      });
      return this.getRun(run.id);
    });
  }

  #insertTransition(
    runId: string,
    taskId: string | null,
    from: string | null,
    to: string,
    reason: string,
    by: string,
    time: number,
    detail: string | null,
  ): void {
    this.#run(
      'INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      runId,
      taskId,
      from,
      to,
      reason,
      by,
      time,
      detail,
    );
  }

  getRun(runId: string): RunRecord {
    const row = this.#get('SELECT * FROM runs WHERE id = ?', runId);
    if (!row) throw new RunNotFoundError(runId);
    return toRun(row);
  }

  listRuns(filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      args.push(...filter.status);
    }
    if (filter.workflow !== undefined) {
      where.push('workflow = ?');
      args.push(filter.workflow);
    }
    if (filter.namespace !== undefined) {
      where.push('namespace = ?');
      args.push(filter.namespace);
    }
    if (filter.since !== undefined) {
      where.push('created_at >= ?');
      args.push(filter.since);
    }
    if (filter.until !== undefined) {
      where.push('created_at <= ?');
      args.push(filter.until);
    }
    if (filter.namespaces) {
      where.push(`namespace IN (${filter.namespaces.map(() => '?').join(', ') || "''"})`);
      args.push(...filter.namespaces);
    }
    if (filter.before) {
      // The first clause lets the created_at index bound the scan; the second cuts the ties.
      where.push('created_at <= ?', '(created_at < ? OR id < ?)');
      args.push(filter.before.createdAt, filter.before.createdAt, filter.before.id);
    }
    const order = filter.before !== undefined ? 'created_at DESC, id DESC' : 'seq DESC';
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`;
    return this.#all(sql, ...args, filter.limit ?? -1).map(toRun);
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
    this.#tx(() => {
      const startedAt = to === 'running' ? time : null;
      const finishedAt = ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(to) ? time : null;
      const changed = this.#run(
        `UPDATE runs SET status = ?, reason = ?, started_at = coalesce(started_at, ?),
           finished_at = CASE WHEN ? IS NULL THEN NULL ELSE ? END,
           approval_digest = coalesce(?, approval_digest) WHERE id = ? AND status = ?`,
        to,
        reason,
        startedAt,
        finishedAt,
        finishedAt,
        patch?.approvalDigest ?? null,
        runId,
        from,
      );
      if (changed !== 1) {
        this.getRun(runId);
        throw new StaleStateError(`run ${runId} is no longer ${from}`);
      }
      this.#insertTransition(runId, null, from, to, reason, by, time, null);
    });
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
      this.#transitionTask(runId, taskId, {
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

  #transitionTask(runId: string, taskId: string, t: TaskTransitionWrite): void {
    const patch = t.patch ?? {};
    const sets = ['state = ?', 'reason = ?', 'updated_at = ?'];
    const args: SQLInputValue[] = [t.to, t.reason, t.time];
    for (const [key, column] of TASK_PATCH_COLUMNS) {
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      args.push(value);
    }
    const changed = this.#run(
      `UPDATE tasks SET ${sets.join(', ')} WHERE run_id = ? AND task_id = ? AND state = ?`,
      ...args,
      runId,
      taskId,
      t.from,
    );
    if (changed !== 1) {
      this.getTask(runId, taskId);
      throw new StaleStateError(`task ${runId}/${taskId} is no longer ${t.from}`);
    }
    this.#insertTransition(runId, taskId, t.from, t.to, t.reason, t.by, t.time, t.detail ?? null);
  }

  listTransitions(runId: string, taskId?: string | null): TransitionRecord[] {
    const rows =
      taskId === undefined
        ? this.#all('SELECT * FROM transitions WHERE run_id = ? ORDER BY id', runId)
        : taskId === null
          ? this.#all('SELECT * FROM transitions WHERE run_id = ? AND task_id IS NULL ORDER BY id', runId)
          : this.#all(
              'SELECT * FROM transitions WHERE run_id = ? AND task_id = ? ORDER BY id',
              runId,
              taskId,
            );
    return rows.map(toTransition);
  }

  listTransitionsAfter(query: FeedQuery): FeedTransition[] {
    const only = query.namespaces
      ? `AND r.namespace IN (${query.namespaces.map(() => '?').join(', ') || "''"})`
      : '';
    return this.#all(
      `SELECT t.*, r.namespace, r.workflow FROM transitions t JOIN runs r ON r.id = t.run_id
        WHERE t.id > ? ${only} ORDER BY t.id LIMIT ?`,
      query.afterId,
      ...(query.namespaces ?? []),
      query.limit,
    ).map(toFeedTransition);
  }

  lastTransitionId(): number {
    return Number(this.#all('SELECT COALESCE(MAX(id), 0) AS id FROM transitions')[0]!.id);
  }

  startAttempt(start: AttemptStart, transition?: TaskTransitionWrite): number {
    return this.#tx(() => this.#startAttempt(start, transition));
  }

  /** AsyncStore.startClaimedAttempt: the claim's fence and the start in one transaction. */
  startClaimedAttempt(claim: TaskClaim, start: AttemptStart, transition?: TaskTransitionWrite): number {
    return this.#tx(() => {
      const name = taskLeaseName(start.runId, start.taskId);
      if (claim.runId !== start.runId || claim.taskId !== start.taskId) throw new LeaseLostError(name);
      leases.checkLease(this.#sql, name, claim.token, start.startedAt);
      return this.#startAttempt(start, transition);
    });
  }

  #startAttempt(start: AttemptStart, transition?: TaskTransitionWrite): number {
    if (transition) this.#transitionTask(start.runId, start.taskId, transition);
    const lease = leases.acquire(
      this.#sql,
      `attempt:${start.id}`,
      start.owner,
      start.startedAt,
      start.leaseMs,
      false,
    );
    this.#run(
      `INSERT INTO attempts (id, run_id, task_id, attempt, status, inputs, work_dir, artifacts_dir, cache_key,
         started_at, fencing_token, placement) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
      ...attemptStartValues(start, lease.token),
    );
    return lease.token;
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
  ): void {
    this.#tx(() => {
      this.#checkFence(attemptId, token, now);
      this.#closeAttempt(attemptId, finish);
      if (transition || others.length > 0) {
        const row = this.#get('SELECT run_id, task_id FROM attempts WHERE id = ?', attemptId)!;
        if (transition) this.#transitionTask(String(row.run_id), String(row.task_id), transition);
        for (const o of others) this.#transitionTask(String(row.run_id), o.taskId, o.write);
      }
      this.#run('UPDATE leases SET expires_at = 0 WHERE name = ?', `attempt:${attemptId}`);
    });
  }

  #closeAttempt(attemptId: string, finish: AttemptFinish): void {
    const changed = this.#run(
      `UPDATE attempts SET status = 'finished', outcome = ?, exit_code = ?, signal = ?, retryable = ?, reason = ?,
         message = ?, finished_at = ?, cache_hit = ?, policy_decisions = ?, state = ? WHERE id = ? AND status = 'running'`,
      finish.outcome,
      finish.exitCode,
      finish.signal,
      finish.retryable ? 1 : 0,
      finish.reason,
      finish.message,
      finish.finishedAt,
      finish.cacheHit ? 1 : 0,
      JSON.stringify(finish.policyDecisionIds),
      finish.state ?? null,
      attemptId,
    );
    if (changed !== 1) throw new StaleStateError(`attempt ${attemptId} is not running`);
    const insert = this.#prepare('INSERT INTO outputs (attempt_id, name, value) VALUES (?, ?, ?)');
    for (const [name, value] of Object.entries(finish.outputs)) insert.run(attemptId, name, value);
  }

  interruptAttempt(attemptId: string, now: number, message: string): void {
    this.#tx(() => {
      // Bumping the token fences out the old worker even if it is somehow still alive.
      leases.acquire(this.#sql, `attempt:${attemptId}`, 'recovery', now, 0, true);
      this.#closeAttempt(attemptId, interruptedFinish(now, message));
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
    return rows.map((row) => toAttempt(row, this.#outputsOf(String(row.id))));
  }

  #outputsOf(attemptId: string): Record<string, string> {
    const outputs: Record<string, string> = {};
    for (const r of this.#all(
      'SELECT name, value FROM outputs WHERE attempt_id = ? ORDER BY name',
      attemptId,
    ))
      outputs[String(r.name)] = String(r.value);
    return outputs;
  }

  taskOutputs(runId: string, taskId: string): Record<string, string> {
    const row = this.#get(
      `SELECT id FROM attempts WHERE run_id = ? AND task_id = ? AND outcome IN ('succeeded', 'cached')
         ORDER BY attempt DESC LIMIT 1`,
      runId,
      taskId,
    );
    return row ? this.#outputsOf(String(row.id)) : {};
  }

  appendLogs(lines: StoredLogLine[]): void {
    if (lines.length === 0) return;
    this.#tx(() => {
      const insert = this.#prepare(
        'INSERT INTO logs (run_id, task_id, attempt, stream, time, text) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const l of lines) insert.run(l.runId, l.taskId, l.attempt, l.stream, l.time, l.text);
    });
  }

  listLogs(runId: string, taskId?: string | null, afterId = 0): (StoredLogLine & { id: number })[] {
    const rows =
      taskId === undefined
        ? this.#all('SELECT * FROM logs WHERE run_id = ? AND id > ? ORDER BY id', runId, afterId)
        : taskId === null
          ? this.#all(
              'SELECT * FROM logs WHERE run_id = ? AND task_id IS NULL AND id > ? ORDER BY id',
              runId,
              afterId,
            )
          : this.#all(
              'SELECT * FROM logs WHERE run_id = ? AND task_id = ? AND id > ? ORDER BY id',
              runId,
              taskId,
              afterId,
            );
    return rows.map(toLogLine);
  }

  getCacheEntry(key: string, now: number): CacheEntry | undefined {
    const r = this.#get(
      'SELECT * FROM cache_entries WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)',
      key,
      now,
    );
    return r ? toCacheEntry(r) : undefined;
  }

  putCacheEntry(e: CacheEntry): void {
    this.#write(() =>
      this.#run(
        `INSERT OR REPLACE INTO cache_entries (key, run_id, task_id, attempt, outputs, artifacts_dir, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ...cacheEntryValues(e),
      ),
    );
  }

  putReceipt(r: ReceiptRecord): void {
    this.#write(() =>
      this.#run(
        'INSERT INTO receipts (run_id, task_id, attempt, digest, bundle, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        ...receiptValues(r),
      ),
    );
  }

  listReceipts(runId: string): ReceiptRecord[] {
    this.getRun(runId);
    return this.#all(
      'SELECT * FROM receipts WHERE run_id = ? ORDER BY created_at, task_id, attempt',
      runId,
    ).map(toReceipt);
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
