/**
 * The peer: graphile-worker on the same PostgreSQL server (its own database). Jobs are added from
 * the bench process with `addJob` (graphile_worker.add_job) and run by graphile-peer.ts, a
 * separate process as `maestro server` is; its stdout says when each job started.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeWorkerUtils, Logger } from 'graphile-worker';
import { cpuSeconds } from './processes.ts';
import type { Started, Target } from './target.ts';

export interface GraphileOptions {
  work: string;
  databaseUrl: string;
  concurrency: number;
  extraCpuSeconds: () => number;
}

export async function startGraphile(options: GraphileOptions): Promise<Target> {
  const quiet = new Logger(() => () => {});
  const utils = await makeWorkerUtils({ connectionString: options.databaseUrl, logger: quiet });
  await utils.migrate();
  const log = openSync(join(options.work, 'graphile-peer.log'), 'w');
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'graphile-peer.ts'), options.databaseUrl, String(options.concurrency)],
    { stdio: ['ignore', 'pipe', log] },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const starts = new Map<string, { createdAt: number; startedAt: number }>();
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`graphile-peer exited with ${code}`)));
    lines.on('line', (line) => {
      if (line === 'ready') return resolve();
      const start = JSON.parse(line) as { job: string; createdAt: number; startedAt: number };
      starts.set(start.job, start);
    });
  });

  return {
    label: 'graphile-worker',
    async submit() {
      const job = await utils.addJob('noop', {});
      return job.id;
    },
    async settle(ids, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !ids.every((id) => starts.has(id)))
        await new Promise((r) => setTimeout(r, 100));
    },
    async collect(ids) {
      const started = new Map<string, Started>();
      for (const id of ids) {
        const s = starts.get(id);
        if (s) started.set(id, { acceptedAt: s.createdAt, startedAt: s.startedAt });
      }
      return started;
    },
    cpuSeconds: () => cpuSeconds(child.pid!) + options.extraCpuSeconds(),
    async close() {
      child.kill('SIGTERM');
      await exited;
      await utils.release();
    },
  };
}
