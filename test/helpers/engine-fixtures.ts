/**
 * Engine test fixtures: hand-built Plans, a deterministic clock and random source, the real local
 * runner (recording what it started) and the compiler's expression functions.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Clock, Plan, PlanTask, Runner, RunnerStartRequest } from '../../core/index.ts';
import { createLocalRunner } from '../../runners/index.ts';
import { digestOf } from '../../core/index.ts';

export function tempDir(prefix = 'maestro-engine-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function shellTask(id: string, script: string, extra: Partial<PlanTask> = {}): PlanTask {
  const base: PlanTask = {
    id,
    declaredId: id,
    action: { type: 'shell', script },
    with: {},
    env: {},
    needs: [],
    retry: { limit: 0, backoff: { initialMs: 100, factor: 2, maxMs: 1000 }, jitter: 'none' },
    cache: { enabled: false },
    runner: 'local',
    resources: 'small',
    outputs: [],
    secrets: [],
    definitionDigest: '',
    ...extra,
  };
  base.definitionDigest = digestOf({ ...base, definitionDigest: '' });
  return base;
}

export function planOf(tasks: PlanTask[], extra: Partial<Plan> = {}): Plan {
  const plan: Plan = {
    apiVersion: 'maestro/v1',
    kind: 'Plan',
    digest: '',
    workflow: { kind: 'Workflow', name: 'test-flow', namespace: 'test', labels: {} },
    params: {},
    triggers: {},
    tasks,
    edges: tasks.flatMap((t) => t.needs.map((from) => ({ from, to: t.id }))),
    ...extra,
  };
  plan.digest = digestOf({ ...plan, digest: undefined });
  return plan;
}

/** A clock whose sleeps return at once and advance time; it records every wait. */
export function fakeClock(start = 1_700_000_000_000): Clock & { waits: number[] } {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      waits.push(ms);
      now += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

export function sequenceRandom(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** The real local runner (runners/local), recording which attempts it was asked to start. */
export function recordingLocalRunner(): Runner & { started: string[]; close(): Promise<void> } {
  const inner = createLocalRunner({ baseEnv: { PATH: '/usr/local/bin:/usr/bin:/bin' }, graceMs: 500 });
  const started: string[] = [];
  return {
    kind: inner.kind,
    posture: (task) => inner.posture(task),
    started,
    start(request: RunnerStartRequest) {
      started.push(`${request.taskId}#${request.attempt}`);
      return inner.start(request);
    },
    close: () => inner.close(),
  };
}

/** Names kept for tests written against the earlier stand-ins (test/provenance-e2e.test.ts). */
export const processRunner = recordingLocalRunner;

/**
 * A clock that moves only when driven: `drive(work)` lets the event loop settle (a few real
 * milliseconds), then jumps to the earliest pending sleep, until `work` ends. Unlike fakeClock,
 * a lease renewal's sleep does not race ahead of a poll's: time reaches each deadline in order.
 */
export function steppedClock(start = 1_700_000_000_000): Clock & {
  waits: number[];
  drive<T>(work: Promise<T>): Promise<T>;
} {
  let now = start;
  const waits: number[] = [];
  const sleepers: { at: number; resolve: () => void }[] = [];
  const next = () => {
    if (sleepers.length === 0) return;
    sleepers.sort((a, b) => a.at - b.at);
    now = Math.max(now, sleepers[0]!.at);
    for (const s of sleepers.filter((x) => x.at <= now)) {
      sleepers.splice(sleepers.indexOf(s), 1);
      s.resolve();
    }
  };
  return {
    waits,
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        waits.push(ms);
        const entry = { at: now + ms, resolve };
        sleepers.push(entry);
        signal?.addEventListener('abort', () => {
          const i = sleepers.indexOf(entry);
          if (i >= 0) sleepers.splice(i, 1);
          reject(signal.reason);
        });
      }),
    async drive(work) {
      let settled = false;
      void work.then(
        () => (settled = true),
        () => (settled = true),
      );
      while (!settled) {
        await new Promise((r) => setTimeout(r, 15));
        if (!settled) next();
      }
      return work;
    },
  };
}
