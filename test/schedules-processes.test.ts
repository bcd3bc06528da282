/**
 * Scheduler processes (separate OS processes on one SQLite file, or three replicas on one
 * PostgreSQL database) over the same day of hourly slots: every slot is fired exactly once
 * between them. Without the claim (an INSERT that fails on conflict) each would fire all 24; with
 * each replica on its own data dir's SQLite (the App before its schedules had a PostgreSQL store)
 * each replica fires all 24 too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresScheduleStore, openScheduleStore } from '../engine/index.ts';
import { startPostgres } from './setup/postgres-server.ts';

const root = join(import.meta.dirname, '..');
const node = join(root, 'node_modules', '.bin', 'node');
const T0 = Date.parse('2026-03-01T00:30:00Z');

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function worker(file: string, owner: string) {
  const child = spawn(node, [join(root, 'test/helpers/schedule-worker.ts'), file, owner, String(T0)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  const done = new Promise<{ owner: string; slotMs: number; runId: string }[]>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(
            out
              .split('\n')
              .filter((line) => line.startsWith('{'))
              .map((line) => JSON.parse(line)),
          )
        : reject(new Error(`worker ${owner} exited ${code}`)),
    ),
  );
  return { ready, go: () => child.stdin.end('go\n'), done };
}

describe('schedules across processes', () => {
  it('two scheduler processes on one data dir fire each slot once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'maestro-schedules-procs-'));
    const file = join(dir, 'github-app.sqlite');
    // The tables exist before either starts (as the App's store creates them on open).
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL;');
    openScheduleStore(db);
    db.close();
    const a = worker(file, 'a');
    const b = worker(file, 'b');
    // Both have started (imports done) before either ticks, so they contend for the slots.
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    const fired = [...(await a.done), ...(await b.done)];
    const slots = fired.map((f) => f.slotMs);
    expect(slots).toHaveLength(24);
    expect(new Set(slots).size).toBe(24);
    expect(new Set(fired.map((f) => f.runId)).size).toBe(24);
    const check = new DatabaseSync(file);
    const claims = await openScheduleStore(check).list();
    check.close();
    expect(claims.map((c) => c.state)).toEqual(Array(24).fill('fired'));
    // Recorded for the report: how the slots split between the two processes.
    console.info(
      `slots fired by a: ${fired.filter((f) => f.owner === 'a').length}, by b: ${fired.filter((f) => f.owner === 'b').length}`,
    );
  }, 60_000);

  it('three scheduler replicas on one PostgreSQL fire each slot once', async () => {
    const server = await startPostgres();
    try {
      const url = server.createDatabase('schedules');
      const workers = ['a', 'b', 'c'].map((owner) => worker(url, owner));
      // They migrate together on start (under the advisory lock), then contend for every slot.
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.go();
      const fired = (await Promise.all(workers.map((w) => w.done))).flat();
      const slots = fired.map((f) => f.slotMs);
      expect(slots).toHaveLength(24);
      expect(new Set(slots).size).toBe(24);
      expect(new Set(fired.map((f) => f.runId)).size).toBe(24);
      const check = await openPostgresScheduleStore(url);
      const claims = await check.list();
      await check.close();
      expect(claims.map((c) => c.state)).toEqual(Array(24).fill('fired'));
      console.info(
        `slots fired on PostgreSQL: ${['a', 'b', 'c'].map((o) => `${o} ${fired.filter((f) => f.owner === o).length}`).join(', ')}`,
      );
    } finally {
      server.stop();
    }
  }, 120_000);
});
