import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineDestination, runTask, type RecordLine, type RunTaskOptions, type Task } from './index.ts';

const PASSWORD = 'hunter2-but-longer';

/** A destination into an in-memory table, which can break once after `failAfter` rows. */
function warehouse(table: RecordLine[], failAfter?: number) {
  let failed = false;
  return defineDestination({
    name: 'warehouse',
    version: '1.0.0',
    spec: {
      config: {
        type: 'object',
        required: ['password'],
        properties: {
          password: { type: 'string', airbyte_secret: true },
          batch: { type: 'integer', default: 2 },
        },
      },
    },
    check: (config) => {
      expectTypeOf(config.password).toEqualTypeOf<string>();
      return { status: 'succeeded' };
    },
    async write(config, _catalog, records, ctx) {
      let pending: RecordLine[] = [];
      for await (const record of records) {
        if (table.length + pending.length === failAfter && !failed) {
          failed = true;
          throw new Error(`connection lost (password ${config.password})`);
        }
        pending.push(record);
        if (pending.length === (config.batch ?? 2)) {
          table.push(...pending); // the commit: then the checkpoint
          pending = [];
          ctx.checkpoint();
        }
      }
      table.push(...pending);
    },
  });
}

function recordsFile(dir: string, count: number, stream = 'users'): void {
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ stream, data: { id: i + 1 }, emitted_at: 0 }),
  );
  writeFileSync(join(dir, 'records.ndjson'), `${lines.join('\n')}\n`);
}

const given = { config: {}, configSecrets: { '/password': 'WH_PASSWORD' } };
const run = <I, O>(task: Task<I, O>, inputs: object, options: RunTaskOptions = {}) =>
  runTask(task, { ...given, ...inputs }, { secrets: { WH_PASSWORD: PASSWORD }, ...options });
const ids = (table: RecordLine[]) => table.map((r) => r.data.id);

describe('defineDestination', () => {
  it('writes the records of a workspace file; a retry resumes after the last checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-dest-'));
    recordsFile(dir, 7);
    const table: RecordLine[] = [];
    const first = await run(
      warehouse(table, 4),
      { operation: 'write', records: 'records.ndjson' },
      { workspace: dir },
    );
    expect(first.outcome).toBe('failed');
    expect((first.error as Error).message).toBe('connection lost (password ***)');
    expect(first.states).toEqual([{ lines: 2 }, { lines: 4 }]);
    const retry = await run(
      warehouse(table),
      { operation: 'write', records: 'records.ndjson' },
      { workspace: dir, state: first.states.at(-1) },
    );
    expect(retry.outcome, String(retry.error)).toBe('succeeded');
    expect(retry.outputs).toEqual({ records: 3 });
    expect(ids(table)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(retry.logs.at(-1)!.message).toBe('wrote 3 record(s) after line 4 (the checkpoint)');
  });

  it("reads a needed task's artifact, and refuses a stream the catalog does not configure", async () => {
    const artifacts = mkdtempSync(join(tmpdir(), 'maestro-dest-art-'));
    mkdirSync(join(artifacts, 'extract'));
    recordsFile(join(artifacts, 'extract'), 3, 'orders');
    const table: RecordLine[] = [];
    const ok = await run(
      warehouse(table),
      { operation: 'write', artifact: 'extract/records.ndjson' },
      { artifactsDir: artifacts },
    );
    expect(ok.outputs.records).toBe(3);
    const stream = { name: 'users', json_schema: {}, supported_sync_modes: ['full_refresh'] as const };
    const refused = await run(
      warehouse([]),
      {
        operation: 'write',
        artifact: 'extract/records.ndjson',
        catalog: {
          streams: [
            {
              stream: { ...stream, supported_sync_modes: [...stream.supported_sync_modes] },
              sync_mode: 'full_refresh',
            },
          ],
        },
      },
      { artifactsDir: artifacts },
    );
    expect(refused.error).toMatchObject({ code: 'stream_unknown' });
    const none = await run(warehouse([]), {
      operation: 'write',
      artifact: 'extract/records.ndjson',
    });
    expect(none.error).toMatchObject({ code: 'artifact_missing' });
  });

  it('write needs exactly one records file; a missing or broken one is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-dest-'));
    const neither = await run(warehouse([]), { operation: 'write' });
    expect(neither.outcome).toBe('invalid');
    expect(neither.errors).toEqual([
      { path: '/records', message: 'write needs exactly one of records and artifact' },
    ]);
    const missing = await run(
      warehouse([]),
      { operation: 'write', records: 'none.ndjson' },
      { workspace: dir },
    );
    expect(missing.error).toMatchObject({ code: 'records_missing' });
    writeFileSync(join(dir, 'bad.ndjson'), '{"stream":"a","data":{}}\nnot json\n');
    const bad = await run(warehouse([]), { operation: 'write', records: 'bad.ndjson' }, { workspace: dir });
    expect((bad.error as Error).message).toBe('/records: line 2 is not JSON');
    writeFileSync(join(dir, 'bad.ndjson'), '{"stream":"a","data":[1]}\n');
    const notRecord = await run(
      warehouse([]),
      { operation: 'write', records: 'bad.ndjson' },
      { workspace: dir },
    );
    expect(notRecord.error).toMatchObject({ code: 'records_invalid' });
  });

  it('spec and check, as for a source; a checkpoint that is not a destination one is ignored', async () => {
    const spec = await runTask(warehouse([]), { operation: 'spec' });
    expect(spec.outputs.spec!.connectionSpecification).toMatchObject({ required: ['password'] });
    expect((await run(warehouse([]), { operation: 'check' })).outputs.status).toBe('succeeded');
    const dir = mkdtempSync(join(tmpdir(), 'maestro-dest-'));
    recordsFile(dir, 2);
    const table: RecordLine[] = [];
    const odd = await run(
      warehouse(table),
      { operation: 'write', records: 'records.ndjson' },
      { workspace: dir, state: 'x' },
    );
    expect(odd.logs[0]!.level).toBe('warn');
    expect(ids(table)).toEqual([1, 2]);
  });
});
