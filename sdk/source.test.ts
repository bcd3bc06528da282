import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineSource,
  runTask,
  TaskError,
  type ConfiguredCatalog,
  type RunTaskOptions,
  type Task,
} from './index.ts';

const KEY = 'sk-live-4f9a2c7e1b';

/**
 * A fake paginated API of `total` users, 100 a page. With `failAt`, the page holding that user
 * breaks once, after handing out the users before it (a connection dropped mid-page).
 */
function api(total: number, failAt?: number) {
  let failed = false;
  return function* (after: number) {
    for (let id = after + 1; id <= Math.min(total, after + 100); id++) {
      if (id === failAt && !failed) {
        failed = true;
        throw new Error(`the API went away at user ${failAt} (key ${KEY})`);
      }
      yield { id, name: `user ${id}` };
    }
  };
}

function users(page: ReturnType<typeof api>) {
  return defineSource({
    name: 'users',
    version: '1.0.0',
    spec: {
      config: {
        type: 'object',
        required: ['apiKey', 'total'],
        additionalProperties: false,
        properties: {
          apiKey: { type: 'string', airbyte_secret: true },
          total: { type: 'integer', minimum: 0 },
        },
      },
    },
    check(config) {
      expectTypeOf(config.apiKey).toEqualTypeOf<string>();
      expectTypeOf(config.total).toEqualTypeOf<number>();
      if (config.apiKey !== KEY) throw new Error(`401: key ${config.apiKey} refused`);
      return { status: 'succeeded', message: `key ${config.apiKey} accepted` };
    },
    discover: () => ({
      streams: [
        {
          name: 'users',
          json_schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } },
          supported_sync_modes: ['full_refresh', 'incremental'],
          source_defined_cursor: true,
          default_cursor_field: ['id'],
        },
      ],
    }),
    async read(config, catalog, state, ctx) {
      ctx.emit.log(`streams: ${catalog.streams.map((s) => s.stream.name).join(', ')}`);
      let after = (state.users as { after?: number } | undefined)?.after ?? 0;
      ctx.emit.log(`reading after ${after} with ${config.apiKey}`);
      for (;;) {
        ctx.signal.throwIfAborted();
        let last = after;
        for (const row of page(after)) {
          ctx.emit.record('users', row);
          last = row.id;
        }
        if (last === after) break;
        after = last;
        ctx.checkpoint('users', { after, token: config.apiKey });
        ctx.heartbeat();
      }
    },
  });
}

// The key is a secret: never in with: (stored with the plan), from env: through configSecrets.
const given = { config: { total: 1000 }, configSecrets: { '/apiKey': 'USERS_API_KEY' } };
const run = <I, O>(task: Task<I, O>, inputs: object, options: RunTaskOptions = {}) =>
  runTask(task, { ...given, ...inputs }, { secrets: { USERS_API_KEY: KEY }, ...options });
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { stream: string; data: { id: number } });
const workspace = () => mkdtempSync(join(tmpdir(), 'maestro-source-'));

describe('defineSource', () => {
  it('spec: the config schema, without a config', async () => {
    const result = await runTask(users(api(0)), { operation: 'spec' });
    expect(result.outcome).toBe('succeeded');
    expect(result.outputs.spec!.connectionSpecification).toMatchObject({ required: ['apiKey', 'total'] });
  });

  it('every other operation needs a config matching the spec, each problem with its path', async () => {
    const source = users(api(0));
    expect((await runTask(source, { operation: 'check' })).errors).toEqual([
      { path: '/config', message: 'is required' },
    ]);
    const wrong = await run(source, { operation: 'read', config: { total: 'x', extra: 1 } });
    expect(wrong.outcome).toBe('invalid');
    expect(wrong.errors.map((e) => e.path).sort()).toEqual(['/config/extra', '/config/total']);
    expect((await run(source, { operation: 'sync' })).errors[0]!.path).toBe('/operation');
  });

  it('refuses a secret property given in with: (stored with the plan), before any code runs', async () => {
    let checked = false;
    const source = users(api(0));
    const spy = {
      ...source,
      execute: (...args: Parameters<typeof source.execute>) => ((checked = true), source.execute(...args)),
    };
    // The attack: the key pasted into with:, where the plan (and every copy of it) would keep it.
    const inline = await runTask(spy, { operation: 'check', config: { apiKey: KEY, total: 1 } });
    expect(inline.outcome).toBe('invalid');
    expect(inline.errors).toEqual([
      {
        path: '/config/apiKey',
        message:
          'is a secret (airbyte_secret): never in with:, which is stored with the plan; pass it in env: and name the variable in configSecrets',
      },
    ]);
    expect(checked).toBe(false);
    const notSecret = await run(source, { operation: 'check', configSecrets: { '/total': 'TOTAL' } });
    expect(notSecret.errors).toEqual([
      { path: '/configSecrets/~1total', message: 'is not a secret property of the config (/apiKey)' },
    ]);
    // Without configSecrets the whole config is checked once filled in: the key is missing.
    const missing = await runTask(source, { operation: 'check', config: { total: 1 } });
    expect(missing.outcome).toBe('failed');
    expect(missing.error).toMatchObject({
      code: 'config_invalid',
      message: 'users: /config/apiKey: is required',
    });
    const unset = await runTask(source, { operation: 'check', ...given });
    expect(unset.error).toMatchObject({ code: 'secret_missing' });
  });

  it('check: succeeded or failed as outputs (a throw is a failed check), the secret masked', async () => {
    const ok = await run(users(api(0)), { operation: 'check' });
    expect(ok.outcome).toBe('succeeded');
    expect(ok.outputs).toEqual({ status: 'succeeded', message: 'key *** accepted' });
    const refused = await run(
      users(api(0)),
      { operation: 'check' },
      { secrets: { USERS_API_KEY: 'wrong-key-77' } },
    );
    expect(refused.outcome).toBe('succeeded');
    expect(refused.outputs).toEqual({ status: 'failed', message: '401: key *** refused' });
    expect(JSON.stringify(refused.messages)).not.toContain('wrong-key-77');
    expect(refused.logs).toEqual([{ level: 'warn', message: 'check failed: 401: key *** refused' }]);
  });

  it('discover: the catalog as an output; an invalid one fails the task naming the problem', async () => {
    const result = await run(users(api(0)), { operation: 'discover' });
    expect(result.outputs.catalog!.streams[0]).toMatchObject({ name: 'users', default_cursor_field: ['id'] });
    const broken = defineSource({
      name: 'broken',
      version: '1.0.0',
      spec: { config: { type: 'object' } },
      check: () => ({ status: 'succeeded' }),
      discover: () => ({ streams: [{ name: 'x' }] }) as never,
      read: () => {},
    });
    const failed = await runTask(broken, { operation: 'discover', config: {} });
    expect(failed.outcome).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'catalog_invalid' });
    expect((failed.error as Error).message).toContain('/streams/0/json_schema: is required');
  });

  it('read: records into the NDJSON file (an artifact), per-stream checkpoints with the secret masked', async () => {
    const dir = workspace();
    const result = await run(
      users(api(250)),
      { operation: 'read', records: 'out/users.ndjson' },
      { workspace: dir },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toEqual({
      records: 250,
      recordsFile: 'out/users.ndjson',
      streams: { users: 250 },
    });
    expect(result.artifacts).toEqual(['out/users.ndjson']);
    const read = lines(join(dir, 'out/users.ndjson'));
    expect(read.map((r) => r.data.id)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(read[0]).toMatchObject({ stream: 'users', data: { id: 1, name: 'user 1' } });
    expect(result.states.map((s) => (s as { streams: { users: unknown } }).streams.users)).toEqual([
      { after: 100, token: '***' },
      { after: 200, token: '***' },
      { after: 250, token: '***' },
    ]);
    expect(result.logs.map((l) => l.message)).toContain('reading after 0 with ***');
    expect(JSON.stringify(result.messages)).not.toContain(KEY);
  });

  it('a read failing at record 600 of 1000 is retried from its last checkpoint: no record lost or repeated', async () => {
    const dir = workspace();
    const page = api(1000, 600);
    const first = await run(users(page), { operation: 'read' }, { workspace: dir });
    expect(first.outcome).toBe('failed');
    expect((first.error as Error).message).toBe('the API went away at user 600 (key ***)');
    const last = first.states.at(-1) as { streams: { users: { after: number } }; records_bytes: number };
    expect(last.streams.users.after).toBe(500);
    // Records 501..599 reached the file after the last checkpoint: not committed.
    expect(lines(join(dir, 'records.ndjson')).at(-1)!.data.id).toBe(599);
    // The retry gets the stored checkpoint (secrets in it come back as ***) in the same workspace.
    const retry = await run(users(page), { operation: 'read' }, { workspace: dir, state: last });
    expect(retry.outcome, String(retry.error)).toBe('succeeded');
    expect(retry.outputs.records).toBe(500);
    expect(retry.logs[0]!.message).toContain(`cut back to its ${last.records_bytes} committed bytes`);
    expect(lines(join(dir, 'records.ndjson')).map((r) => r.data.id)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    // In a fresh workspace (another runner's attempt), the file holds the records after the checkpoint.
    const fresh = workspace();
    const elsewhere = await run(users(api(1000)), { operation: 'read' }, { workspace: fresh, state: last });
    expect(lines(join(fresh, 'records.ndjson')).map((r) => r.data.id)[0]).toBe(501);
    expect(elsewhere.logs[0]!.message).toContain('starts anew');
  });

  it('a first attempt replaces a stale records file; a checkpoint that is not a source one is said and ignored', async () => {
    const dir = workspace();
    writeFileSync(join(dir, 'records.ndjson'), 'stale\n'.repeat(50));
    const result = await run(users(api(3)), { operation: 'read' }, { workspace: dir, state: { cursor: 9 } });
    expect(result.logs[0]).toEqual({
      level: 'warn',
      message:
        'the checkpoint handed in is not a source checkpoint ({ streams, records_bytes }); reading from the start',
    });
    expect(lines(join(dir, 'records.ndjson')).map((r) => r.data.id)).toEqual([1, 2, 3]);
  });

  it('refuses a record or checkpoint of a stream the catalog does not configure, and a path out of the workspace', async () => {
    const catalog: ConfiguredCatalog = { streams: [] };
    const result = await run(users(api(3)), { operation: 'read', catalog }, { workspace: workspace() });
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(TaskError);
    expect(result.error).toMatchObject({ code: 'stream_unknown' });
    const out = await run(
      users(api(3)),
      { operation: 'read', records: '../x.ndjson' },
      { workspace: workspace() },
    );
    expect(out.error).toMatchObject({ code: 'path_outside_workspace' });
  });

  it('is cancelled by its signal, keeping the checkpoints it made', async () => {
    const controller = new AbortController();
    const page = api(1000);
    const source = users(function* (after) {
      if (after === 200) controller.abort(new Error('SIGTERM'));
      yield* page(after);
    });
    const result = await run(
      source,
      { operation: 'read' },
      { workspace: workspace(), signal: controller.signal },
    );
    expect(result.outcome).toBe('cancelled');
    expect(result.states).toHaveLength(3);
  });
});
