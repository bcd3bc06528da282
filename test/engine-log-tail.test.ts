/**
 * An attempt's last log lines are stored in its result's transaction (AsyncStore.finishAttempt),
 * not in a commit of their own before it; and when the result is refused they are still stored,
 * alone, before the execution gives the run up (after which its store refuses every write).
 */
import { describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import {
  asyncSqliteStore,
  createEngine,
  LeaseLostError,
  openStore,
  type AsyncStore,
} from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

/** The store, recording which call carried each task line, and refusing a's result when `refuse`. */
function watched(base: AsyncStore, calls: string[], refuse: boolean): AsyncStore {
  return {
    ...base,
    fenced: (fence) => watched(base.fenced(fence), calls, refuse),
    appendLogs: (lines) => {
      for (const l of lines) if (l.stream === 'stdout') calls.push(`appendLogs:${l.text}`);
      return base.appendLogs(lines);
    },
    finishAttempt: (...args: Parameters<AsyncStore['finishAttempt']>) => {
      for (const l of args[6] ?? []) if (l.stream === 'stdout') calls.push(`finishAttempt:${l.text}`);
      if (refuse) return Promise.reject(new LeaseLostError(`attempt:${args[0]}`));
      return base.finishAttempt(...args);
    },
  };
}

async function runOne(refuse: boolean) {
  const dataDir = tempDir();
  const sqlite = openStore({ dataDir });
  const runner = recordingLocalRunner();
  const calls: string[] = [];
  const engine = createEngine({
    policy: policyOff('engine test: log storage, not policy'),
    store: watched(asyncSqliteStore(sqlite), calls, refuse),
    dataDir,
    runners: new RunnerRegistry().register(runner),
    leaseMs: 60_000,
  });
  try {
    const runId = await engine.submit(planOf([shellTask('a', 'echo one; echo two')]), { trust: 'trusted' });
    await engine.execute(runId);
    const logs = sqlite.listLogs(runId, 'a').map((l) => `${l.stream}:${l.text}`);
    return { calls, logs, attempts: sqlite.listAttempts(runId, 'a') };
  } finally {
    await runner.close();
    sqlite.close();
  }
}

describe('an attempt’s last log lines', () => {
  it('are stored with its result, in the order printed', async () => {
    const { calls, logs, attempts } = await runOne(false);
    expect(calls).toEqual(['finishAttempt:one', 'finishAttempt:two']);
    expect(logs.filter((l) => l.startsWith('stdout:'))).toEqual(['stdout:one', 'stdout:two']);
    expect(attempts.map((a) => a.outcome)).toEqual(['succeeded']);
  });

  it('are stored alone, before the run is given up, when the result is refused', async () => {
    const { calls, logs, attempts } = await runOne(true);
    expect(calls).toEqual(['finishAttempt:one', 'finishAttempt:two', 'appendLogs:one', 'appendLogs:two']);
    expect(logs.filter((l) => l.startsWith('stdout:'))).toEqual(['stdout:one', 'stdout:two']);
    expect(attempts.map((a) => a.status)).toEqual(['running']);
  });
});
