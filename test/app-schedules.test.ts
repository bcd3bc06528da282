/**
 * triggers.schedule fired by the App against the GitHub stand-in, with an injected clock (its
 * `now` set by the test; sleeps are real so the engine's own waits work): each slot runs once,
 * across a restart in the middle of a slot, across two apps on one data dir and across two apps
 * with their own data dirs on one PostgreSQL; a gated workflow follows the default branch's gate
 * rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { openAppRuntime, type AppRuntime } from '../app/index.ts';
import { systemClock, type Clock } from '../core/index.ts';
import { startPostgres } from './setup/postgres-server.ts';
import { sqlOn } from './store-contract/sql-on.ts';
import {
  harnessRuntimeOptions,
  INSTALLATION_ID,
  OWNER,
  REPO,
  startStandIn,
  stopStandIn,
  type StandInSetup,
} from './github-standin/app-harness.ts';

const T0 = Date.parse('2026-03-01T00:30:00Z');
const RUN_CHECK = 'maestro / run demo/nightly';

function nightly(extra = ''): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: nightly
  namespace: demo
spec:
${extra}  triggers:
    schedule: { cron: "0 * * * *" }
  defaults:
    runner: local
  tasks:
    - id: build
      run: echo built
`;
}

function settableClock(start: number): Clock & { set(iso: string): void; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
    set: (iso) => void (now = Date.parse(iso)),
    advance: (ms) => void (now += ms),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(files: Record<string, string>) {
  const standIn = await startStandIn();
  standIn.standin.installations.set(INSTALLATION_ID, [`${OWNER}/${REPO}`]);
  const sha = standIn.repo.commit({ branch: 'main', login: 'carol', files });
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-app-schedules-'));
  cleanups.push(async () => {
    await stopStandIn(standIn);
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { standIn, sha, dataDir };
}

async function openApp(
  standIn: StandInSetup,
  dataDir: string,
  clock: Clock,
  refreshMs = 0,
  env: Record<string, string> = {},
): Promise<AppRuntime> {
  const runtime = await openAppRuntime({
    ...harnessRuntimeOptions({ ...standIn, dataDir, env }),
    clock,
    // Driven by tick() here; refreshMs 0: every tick reads the default branch again.
    schedules: { start: false, leaseMs: 60_000, refreshMs },
  });
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await runtime.close();
  });
  const close = runtime.close;
  runtime.close = async () => {
    closed = true;
    await close();
  };
  return runtime;
}

const runChecks = (standIn: StandInSetup) => standIn.standin.checkRuns.filter((c) => c.name === RUN_CHECK);

describe('the App fires triggers.schedule', () => {
  it('runs the slot once on the default branch, and never again for that slot', async () => {
    const { standIn, sha, dataDir } = await setup({ '.maestro/workflows/nightly.yaml': nightly() });
    const clock = settableClock(T0);
    const app = await openApp(standIn, dataDir, clock);
    expect((await app.app.schedules!.tick()).fired).toEqual([]);
    clock.set('2026-03-01T01:00:05Z');
    const report = await app.app.schedules!.tick();
    expect(report).toMatchObject({ fired: [{ state: 'fired' }], failed: 0 });
    await app.app.idle();
    await app.app.schedules!.tick();
    await app.app.idle();
    const runs = await app.engines.trusted.store.listRuns();
    expect(runs.map((r) => [r.id, r.status, r.trigger, r.actor])).toEqual([
      [report.fired[0]!.runId, 'succeeded', 'schedule', 'maestro[schedule]'],
    ]);
    expect(runChecks(standIn).map((c) => [c.head_sha, c.conclusion])).toEqual([[sha, 'success']]);
    expect(standIn.standin.violations).toEqual([]);
  });

  it('a restart in the middle of a slot: the next app completes the claimed run, nothing twice', async () => {
    const { standIn, dataDir } = await setup({ '.maestro/workflows/nightly.yaml': nightly() });
    const clock = settableClock(T0);
    // Its listing is kept for the day: the tick below reads the branch only to dispatch.
    const first = await openApp(standIn, dataDir, clock, 86_400_000);
    await first.app.schedules!.tick();
    clock.set('2026-03-01T01:00:05Z');
    // The first app claims the slot, then stops while reading the default branch to dispatch it.
    const release = standIn.standin.hold((method, path) => method === 'GET' && path.includes('/branches/'));
    cleanups.push(release);
    const stopped = first.app.schedules!.tick().catch((error: unknown) => error);
    const claims = () => {
      const db = new DatabaseSync(join(dataDir, 'github-app.sqlite'));
      try {
        return db.prepare('SELECT run_id, state FROM schedule_claims').all();
      } finally {
        db.close();
      }
    };
    for (let i = 0; i < 200 && claims().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const [claimed] = claims();
    expect(claimed).toMatchObject({ state: 'claimed' });
    await first.close();
    release();
    await stopped; // it finds its stores closed: nothing was dispatched
    expect(runChecks(standIn)).toEqual([]);

    const second = await openApp(standIn, dataDir, clock);
    // Within the first app's lease: the claim is not touched.
    expect((await second.app.schedules!.tick()).fired).toEqual([]);
    clock.advance(61_000);
    const report = await second.app.schedules!.tick();
    expect(report.fired.map((c) => c.runId)).toEqual([claimed!.run_id]);
    await second.app.idle();
    await second.app.schedules!.tick();
    await second.app.idle();
    const runs = await second.engines.trusted.store.listRuns();
    expect(runs.map((r) => [r.id, r.status])).toEqual([[claimed!.run_id, 'succeeded']]);
    expect(runChecks(standIn)).toHaveLength(1);
    expect(standIn.standin.violations).toEqual([]);
  });

  it('a crash after the dispatch but before the claim was finished does not run the slot again', async () => {
    const { standIn, dataDir } = await setup({ '.maestro/workflows/nightly.yaml': nightly() });
    const clock = settableClock(T0);
    const first = await openApp(standIn, dataDir, clock);
    await first.app.schedules!.tick();
    clock.set('2026-03-01T01:00:05Z');
    const firstReport = await first.app.schedules!.tick();
    expect(firstReport).toMatchObject({ fired: [{ state: 'fired' }], failed: 0 });
    const [fired] = firstReport.fired;
    await first.app.idle();
    await first.close();
    // As if the process had died right after dispatchWorkflow returned.
    const db = new DatabaseSync(join(dataDir, 'github-app.sqlite'));
    db.exec(`UPDATE schedule_claims SET state = 'claimed', lease_until = 0`);
    db.close();
    const second = await openApp(standIn, dataDir, clock);
    const report = await second.app.schedules!.tick();
    expect(report.fired.map((c) => c.runId)).toEqual([fired!.runId]);
    await second.app.idle();
    expect((await second.engines.trusted.store.listRuns()).map((r) => r.id)).toEqual([fired!.runId]);
    expect(runChecks(standIn)).toHaveLength(1);
  });

  it('two apps on one data dir fire each slot once', async () => {
    const { standIn, dataDir } = await setup({ '.maestro/workflows/nightly.yaml': nightly() });
    const clock = settableClock(T0);
    const a = await openApp(standIn, dataDir, clock);
    const b = await openApp(standIn, dataDir, clock);
    await Promise.all([a.app.schedules!.tick(), b.app.schedules!.tick()]);
    const fired: string[] = [];
    for (const hour of ['01', '02', '03']) {
      clock.set(`2026-03-01T${hour}:00:05Z`);
      const reports = await Promise.all([a.app.schedules!.tick(), b.app.schedules!.tick()]);
      fired.push(...reports.flatMap((r) => r.fired.map((c) => c.runId)));
      await Promise.all([a.app.idle(), b.app.idle()]);
    }
    expect(fired).toHaveLength(3);
    expect(await a.engines.trusted.store.listRuns()).toHaveLength(3);
    expect(runChecks(standIn)).toHaveLength(3);
  });

  it('two apps with their own data dirs on one PostgreSQL fire each slot once', async () => {
    const { standIn, dataDir } = await setup({ '.maestro/workflows/nightly.yaml': nightly() });
    const server = await startPostgres();
    cleanups.push(() => server.stop());
    const env = { MAESTRO_DATABASE_URL: server.createDatabase('app_schedules') };
    const clock = settableClock(T0);
    const a = await openApp(standIn, join(dataDir, 'a'), clock, 0, env);
    const b = await openApp(standIn, join(dataDir, 'b'), clock, 0, env);
    await Promise.all([a.app.schedules!.tick(), b.app.schedules!.tick()]);
    const fired: string[] = [];
    for (const hour of ['01', '02', '03']) {
      clock.set(`2026-03-01T${hour}:00:05Z`);
      const reports = await Promise.all([a.app.schedules!.tick(), b.app.schedules!.tick()]);
      fired.push(...reports.flatMap((r) => r.fired.map((c) => c.runId)));
      await Promise.all([a.app.idle(), b.app.idle()]);
    }
    // Before the schedules had a PostgreSQL store each app claimed in its own file: 6 runs.
    expect(fired).toHaveLength(3);
    expect(await b.engines.trusted.store.listRuns()).toHaveLength(3);
    expect(runChecks(standIn)).toHaveLength(3);
  }, 60_000);

  it('on PostgreSQL, a replica taking over a claim another replica dispatched finds its run, and runs nothing twice', async () => {
    const { standIn, dataDir } = await setup({ '.maestro/workflows/nightly.yaml': nightly() });
    const server = await startPostgres();
    cleanups.push(() => server.stop());
    const url = server.createDatabase('app_takeover');
    const env = { MAESTRO_DATABASE_URL: url };
    const clock = settableClock(T0);
    const a = await openApp(standIn, join(dataDir, 'a'), clock, 0, env);
    await a.app.schedules!.tick();
    clock.set('2026-03-01T01:00:05Z');
    const [fired] = (await a.app.schedules!.tick()).fired;
    await a.app.idle();
    await a.close();
    // As if replica a had died right after dispatching, before it finished the claim.
    await sqlOn(url)(`UPDATE schedule_claims SET state = 'claimed', lease_until = 0`);
    const b = await openApp(standIn, join(dataDir, 'b'), clock, 0, env);
    const report = await b.app.schedules!.tick();
    // Before: b's dispatch submitted the claimed run id again and the engine refused it (failed: 1,
    // the claim retried after every lease).
    expect(report).toMatchObject({ fired: [{ runId: fired!.runId }], failed: 0 });
    expect((await b.engines.trusted.store.listRuns()).map((r) => r.id)).toEqual([fired!.runId]);
    expect(runChecks(standIn)).toHaveLength(1);
  }, 60_000);

  it('a gated workflow without an attestation at the head does not run; the slot is skipped with why', async () => {
    const { standIn, sha, dataDir } = await setup({
      '.maestro/workflows/nightly.yaml': nightly('  approvals:\n    required: 1\n'),
    });
    const clock = settableClock(T0);
    const app = await openApp(standIn, dataDir, clock);
    await app.app.schedules!.tick();
    clock.set('2026-03-01T01:00:05Z');
    const report = await app.app.schedules!.tick();
    expect(report.fired).toEqual([]);
    expect(report.skipped).toMatchObject([{ detail: expect.stringContaining('no approval attestation') }]);
    expect(await app.engines.trusted.store.listRuns()).toEqual([]);
    expect(runChecks(standIn).map((c) => [c.head_sha, c.conclusion])).toEqual([[sha, 'action_required']]);
  });
});
