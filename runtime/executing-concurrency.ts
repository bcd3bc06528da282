/**
 * How many runs and tasks a long-running process that executes runs takes at once, unless told:
 * `maestro server` with the worker role, and the GitHub App (`maestro app`, the server's app
 * role), which executes the runs it dispatches itself (docs/server.md, "The App's role on several
 * replicas"). `maestro run`, a one-shot on a developer's machine, keeps the CPU count.
 */
import { availableParallelism } from 'node:os';
import type { RuntimeConfig } from './runtime-config.ts';

/**
 * Runs one worker executes at once when neither --worker-runs nor MAESTRO_WORKER_RUNS says. A run
 * holds its slot from its claim to its end, mostly waiting on its tasks' processes, pods or
 * containers: 8 capped one worker at ~65 no-op runs/s (8 / ~120 ms a run on a loaded machine,
 * bench/scheduler/RESULTS.md), below the 100/s of SM-102, and far below what it can hold of runs
 * that wait on Kubernetes. An idle slot costs nothing; a held run costs one lease in the keeper's
 * one renewal statement a second.
 */
export const DEFAULT_WORKER_RUNS = 32;

/**
 * The engine's task slots when neither `--concurrency` nor MAESTRO_CONCURRENCY says: at least
 * one per run the process may hold, so every run it holds can start a task at once. The CPU count
 * is the wrong bound here: a task mostly waits on its process, pod or container. A worker holding
 * 8 runs with 2 slots kept 6 leased runs that nobody ran (bench/scheduler/RESULTS.md). The App
 * is such a process too (`maestro server`'s default roles already gave it a worker's slots; the
 * `maestro app` alias gave it the CPU count): with 2 slots, two pushes whose tasks wait on a
 * deployment hold back every other repository's push.
 */
export function workerConcurrency(cpus: number, workerRuns: number | undefined): number {
  return Math.max(cpus, workerRuns ?? DEFAULT_WORKER_RUNS);
}

/** The configuration with workerConcurrency's slots where it names none. */
export function withExecutingConcurrency(
  config: RuntimeConfig,
  cpus = availableParallelism(),
): RuntimeConfig {
  if (config.concurrency !== undefined) return config;
  return { ...config, concurrency: workerConcurrency(cpus, config.workerRuns) };
}
