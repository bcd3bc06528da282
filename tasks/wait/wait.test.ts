import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFakeClock, runTask } from '../../sdk/index.ts';
import { wait } from './index.ts';

async function untilAsleep(clock: { sleepers: number }): Promise<void> {
  for (let i = 0; i < 1000 && clock.sleepers === 0; i++) await new Promise((r) => setImmediate(r));
}

describe('tasks/wait on the SDK', () => {
  it('waits the duration on the clock it is given (ten minutes in no time), then outputs waitedMs', async () => {
    const clock = createFakeClock();
    const running = runTask(wait, { duration: '10m' }, { clock });
    await untilAsleep(clock);
    await clock.advance(599_999);
    expect(clock.sleepers).toBe(1); // not a millisecond early
    await clock.advance(1);
    const result = await running;
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { waitedMs: 600_000 } });
    expect(result.logs).toEqual([{ level: 'info', message: 'waiting 10m' }]);
  });

  it('a cancel (the runner’s SIGTERM) ends the wait at once, with no output', async () => {
    const clock = createFakeClock();
    const controller = new AbortController();
    const running = runTask(wait, { duration: '1h' }, { clock, signal: controller.signal });
    await untilAsleep(clock);
    controller.abort(new Error('cancelled by a person'));
    expect(await running).toMatchObject({ outcome: 'cancelled', outputs: {} });
  });

  it('refuses a duration the spec does not allow, naming the path, before waiting at all', async () => {
    for (const duration of ['soon', '1m30s', '', '5d']) {
      const result = await runTask(wait, { duration }, { clock: createFakeClock() });
      expect(result.outcome).toBe('invalid');
      expect(result.errors).toEqual([
        { path: '/duration', message: 'must match pattern "^[0-9]{1,9}(ms|s|m|h)$"' },
      ]);
    }
    expect((await runTask(wait, {})).errors).toEqual([{ path: '/duration', message: 'is required' }]);
  });

  it('its spec is the catalog’s (task.json): the compiler and the task check the same schema', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
      description: string;
      inputs: unknown;
      outputs: string[];
    };
    expect(wait.spec.inputs).toEqual(manifest.inputs);
    expect(Object.keys(wait.spec.outputs.properties ?? {})).toEqual(manifest.outputs);
    expect([wait.name, wait.version, wait.description]).toEqual([
      manifest.name,
      manifest.version,
      manifest.description,
    ]);
  });
});
