/** What bench/scheduler measures on each contender (Maestro on SQLite, on PostgreSQL, graphile-worker). */

export interface Started {
  /** When the system stored the request (the run's `created` transition; the job's created_at). */
  acceptedAt: number;
  /** When the first task was leased to a worker (its `running` transition; the job handler's start). */
  startedAt: number;
  /** Empty when the run or job ended well; otherwise what went wrong (counted as an error). */
  error?: string;
}

export interface Target {
  label: string;
  /** Submits one unit of work; resolves with its id once the system answered (202 / add_job). */
  submit(index: number): Promise<string>;
  /** Resolves when every id has started and ended (or after `timeoutMs`). */
  settle(ids: readonly string[], timeoutMs: number): Promise<void>;
  /** The stored times of each id that started (the rest are errors). */
  collect(ids: readonly string[]): Promise<Map<string, Started>>;
  /** CPU seconds used so far by the processes this contender runs (server, tasks, database). */
  cpuSeconds(): number;
  close(): Promise<void>;
}
