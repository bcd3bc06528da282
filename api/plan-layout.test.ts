/**
 * The plan's layout is kept in the API store (SQLite here, the real one): a restarted server
 * reads it back and never lays the plan out again; without the store it would (computed 2).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlanLayouts, LAYOUT_VERSION } from './plan-layout.ts';
import { openSqliteApiStore } from './sqlite-api-store.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const plan = {
  digest: 'sha256:layout-test',
  tasks: [
    { id: 'a', needs: [] },
    { id: 'b', needs: ['a'] },
    { id: 'c', needs: ['a'] },
    { id: 'd', needs: ['b', 'c'] },
  ],
};

describe('plan layouts kept with the plan', () => {
  it('reads a stored layout back after a restart instead of laying the plan out again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-layout-'));
    dirs.push(dir);
    const logger = pino({ level: 'silent' });
    const first = openSqliteApiStore(dir);
    const before = createPlanLayouts({ logger, store: first });
    const laidOut = await before.of(plan);
    expect(before.stats()).toEqual({ computed: 1, fromStore: 0 });
    expect(await first.getPlanLayout(plan.digest, LAYOUT_VERSION)).toBeDefined();
    await before.close();
    await first.close();

    const second = openSqliteApiStore(dir); // the server restarted: an empty memory cache
    const after = createPlanLayouts({ logger, store: second });
    expect(await after.of(plan)).toEqual(laidOut);
    expect(after.stats()).toEqual({ computed: 0, fromStore: 1 });
    await after.of(plan); // then from memory
    expect(after.stats()).toEqual({ computed: 0, fromStore: 1 });
    await after.close();
    await second.close();
  }, 60_000);
});
