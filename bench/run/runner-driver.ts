import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../../core/index.ts';
import type { BenchTask } from './graph.ts';

/**
 * The runner alone, without the engine: starts every task of the graph through `runner` as soon
 * as its needs have succeeded, at most `concurrency` at a time — the same work ninja does, so the
 * difference is the spawn path plus the runner's per-attempt bookkeeping (directories, outputs
 * file, log collection). Throws if any task does not succeed.
 */
export async function driveGraph(
  runner: Runner,
  tasks: BenchTask[],
  concurrency: number,
  root: string,
): Promise<void> {
  const waiting = new Map<string, number>();
  const dependants = new Map<string, string[]>();
  for (const task of tasks) {
    waiting.set(task.id, task.needs.length);
    for (const need of task.needs) dependants.set(need, [...(dependants.get(need) ?? []), task.id]);
  }
  const ready = tasks.filter((t) => t.needs.length === 0).map((t) => t.id);
  let running = 0;
  let done = 0;
  mkdirSync(root, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (running < concurrency && ready.length > 0) {
        const id = ready.shift() as string;
        running++;
        void startOne(id).then(
          () => {
            running--;
            done++;
            for (const next of dependants.get(id) ?? []) {
              const left = (waiting.get(next) as number) - 1;
              waiting.set(next, left);
              if (left === 0) ready.push(next);
            }
            if (done === tasks.length) resolve();
            else pump();
          },
          (error: unknown) => reject(error),
        );
      }
    };
    const startOne = async (id: string): Promise<void> => {
      const handle = await runner.start({
        runId: 'bench',
        taskId: id,
        attempt: 1,
        attemptId: `bench-${id}`,
        command: { kind: 'shell', script: 'true' },
        env: {},
        redact: [],
        workDir: join(root, id, 'work'),
        artifactsDir: join(root, id, 'artifacts'),
        resources: 'small',
        namespace: 'bench',
        outputs: [],
        trust: 'trusted',
      });
      const result = await handle.wait();
      if (result.outcome !== 'succeeded') throw new Error(`${id}: ${result.outcome} ${result.message ?? ''}`);
    };
    pump();
  });
}
