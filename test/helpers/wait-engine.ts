/**
 * One engine process for test/engine-wait-restart.test.ts, on a data dir and an injected clock
 * the test owns: `now()` is the number in `clockFile`, so the test moves time by writing it and
 * no wait depends on the wall clock. `start <planFile>` submits and executes the plan; `resume
 * <runId>` executes a run another (killed) engine left. Prints `run <id>` and, at the end,
 * `done <status>`.
 */
import { readFileSync } from 'node:fs';
import { policyOff, RunnerRegistry, type Clock, type Plan } from '../../core/index.ts';
import { createEngine, openAsyncStore } from '../../engine/index.ts';
import { createLocalRunner } from '../../runners/index.ts';
import { loadBuiltinCatalog } from '../../tasks/index.ts';

const [dataDir, clockFile, mode, arg] = process.argv.slice(2) as [string, string, 'start' | 'resume', string];

const now = () => Number(readFileSync(clockFile, 'utf8'));
const clock: Clock = {
  now,
  // Resolves once the test has moved the clock far enough (checked every 10 ms of real time).
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      const target = now() + ms;
      const tick = setInterval(() => {
        if (signal?.aborted) {
          clearInterval(tick);
          reject(signal.reason);
        } else if (now() >= target) {
          clearInterval(tick);
          resolve();
        }
      }, 10);
    }),
};

const store = await openAsyncStore({ dataDir });
const engine = createEngine({
  policy: policyOff('wait restart test: mechanics, not policy'),
  store,
  dataDir,
  catalog: await loadBuiltinCatalog(),
  runners: new RunnerRegistry().register(
    createLocalRunner({ baseEnv: { PATH: '/usr/bin:/bin' }, graceMs: 500 }),
  ),
  clock,
  // Leases never lapse on this clock's jumps: the takeover after kill -9 is by the dead pid.
  leaseMs: 86_400_000,
});
const runId =
  mode === 'start'
    ? await engine.submit(JSON.parse(readFileSync(arg, 'utf8')) as Plan, { trust: 'trusted' })
    : arg;
process.stdout.write(`run ${runId}\n`);
const run = await engine.execute(runId);
process.stdout.write(`done ${run.status}\n`);
await store.close();
process.exit(0);
