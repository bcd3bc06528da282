/**
 * Engine test fixtures: hand-built Plans, a deterministic clock and random source, and a small
 * real-process runner (one `sh -c` child per attempt, in its own process group) used until the
 * engine tests switch to runners/local.
 */
import { spawn } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type {
  AttemptResult,
  Clock,
  LogLine,
  Plan,
  PlanTask,
  Runner,
  RunnerHandle,
  RunnerStartRequest,
} from '../../core/index.ts';
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

function parseOutputs(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

/** A minimal real-process runner (sh -c, own process group, outputs file, timeout, cancel). */
export function processRunner(): Runner & { started: string[] } {
  const started: string[] = [];
  return {
    kind: 'local',
    started,
    async start(request: RunnerStartRequest): Promise<RunnerHandle> {
      started.push(`${request.taskId}#${request.attempt}`);
      const outputFile = join(request.workDir, 'maestro-output');
      const argv =
        request.command.kind === 'shell'
          ? ['/bin/sh', '-c', request.command.script]
          : request.command.kind === 'argv'
            ? request.command.argv
            : ['/bin/false'];
      const startedAt = Date.now();
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: request.workDir,
        detached: true,
        env: {
          PATH: '/usr/bin:/bin',
          ...request.env,
          MAESTRO_OUTPUT: outputFile,
          MAESTRO_ARTIFACTS: request.artifactsDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: LogLine[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const redact = (t: string) =>
        request.redact.reduce((acc, s) => (s ? acc.split(s).join('***') : acc), t);
      const push = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        for (const text of chunk.toString().split('\n').filter(Boolean))
          lines.push({ stream, text: redact(text), time: Date.now() });
        wake?.();
      };
      child.stdout.on('data', push('stdout'));
      child.stderr.on('data', push('stderr'));
      let timedOut = false;
      let cancelled = false;
      const kill = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
      };
      const timer = request.timeoutMs
        ? setTimeout(() => ((timedOut = true), kill('SIGKILL')), request.timeoutMs)
        : undefined;
      const done = new Promise<AttemptResult>((resolve) => {
        child.on('close', (code, signal) => {
          if (timer) clearTimeout(timer);
          ended = true;
          wake?.();
          const outcome = timedOut
            ? 'timed_out'
            : cancelled
              ? 'cancelled'
              : code === 0
                ? 'succeeded'
                : 'failed';
          const result: AttemptResult = {
            outcome,
            exitCode: code,
            retryable: outcome !== 'succeeded' && outcome !== 'cancelled',
            outputs: parseOutputs(outputFile),
            startedAt,
            finishedAt: Date.now(),
          };
          if (signal) result.signal = signal;
          resolve(result);
        });
        child.on('error', (error) =>
          resolve({
            outcome: 'runner_error',
            exitCode: null,
            retryable: true,
            reason: (error as NodeJS.ErrnoException).code ?? 'spawn',
            outputs: {},
            startedAt,
            finishedAt: Date.now(),
          }),
        );
      });
      return {
        async *logs() {
          while (true) {
            while (lines.length) yield lines.shift()!;
            if (ended) return;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        },
        wait: () => done,
        async cancel(_reason, graceMs = 1000) {
          cancelled = true;
          kill('SIGTERM');
          setTimeout(() => kill('SIGKILL'), graceMs).unref();
        },
      };
    },
  };
}

/** Minimal `${a.b.c}` renderer and `a.b.c == 'x'` conditions, until compiler/index.ts lands. */
export const simpleExpressions = {
  renderTemplate(value: unknown, scope: Record<string, unknown>): unknown {
    const lookup = (path: string): unknown =>
      path.split('.').reduce<unknown>((acc, k) => (acc as Record<string, unknown> | undefined)?.[k], scope);
    const render = (v: unknown): unknown => {
      if (typeof v === 'string')
        return v.replace(/\$\{([^}]+)\}/g, (_m, p: string) => String(lookup(p.trim()) ?? ''));
      if (Array.isArray(v)) return v.map(render);
      if (v && typeof v === 'object')
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x)]));
      return v;
    };
    return render(value);
  },
  evaluateCondition(cel: string, scope: Record<string, unknown>): boolean {
    const m = /^\s*([\w.]+)\s*==\s*'([^']*)'\s*$/.exec(cel);
    if (!m) throw new Error(`unsupported condition ${cel}`);
    const v = m[1]!
      .split('.')
      .reduce<unknown>((acc, k) => (acc as Record<string, unknown> | undefined)?.[k], scope);
    return String(v) === m[2];
  },
};
