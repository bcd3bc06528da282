// tasks/schema-validate in-process (runTask): every violation with its path, from a value, a
// workspace file and an artifact; files outside the workspace refused.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { SpanStatusCode } from '@opentelemetry/api';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { schemaValidate } from './index.ts';

const spans = recordTaskSpans();

const schema = {
  type: 'object',
  required: ['id', 'rows'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, rows: { type: 'array', items: { type: 'integer', minimum: 0 } } },
};

describe('tasks/schema-validate on the SDK', () => {
  it('reports every violation with its JSON Pointer path, the missing and extra property named', async () => {
    const result = await runTask(schemaValidate, { schema, value: { rows: [1, -2, 'x'], extra: true } });
    expect(result.outcome).toBe('succeeded');
    expect(result.outputs).toEqual({
      valid: false,
      errors: 4,
      violations: [
        { path: '/id', message: 'is required' },
        { path: '/extra', message: 'is not allowed (not in the spec)' },
        { path: '/rows/1', message: 'must be >= 0' },
        { path: '/rows/2', message: 'must be integer' },
      ],
    });
  });

  it('reads the schema and the value from workspace files, or the value from an artifact', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'maestro-sv-'));
    const artifacts = mkdtempSync(join(tmpdir(), 'maestro-sv-art-'));
    writeFileSync(join(workspace, 'schema.json'), JSON.stringify(schema));
    writeFileSync(join(workspace, 'value.json'), JSON.stringify({ id: 'a', rows: [1] }));
    mkdirSync(join(artifacts, 'extract'));
    writeFileSync(join(artifacts, 'extract', 'out.json'), JSON.stringify({ id: 7, rows: [] }));
    const fromFile = await runTask(
      schemaValidate,
      { schemaFile: 'schema.json', file: 'value.json' },
      { workspace },
    );
    expect(fromFile.outputs).toEqual({ valid: true, errors: 0, violations: [] });
    const fromArtifact = await runTask(
      schemaValidate,
      { schemaFile: 'schema.json', artifact: 'extract/out.json', failOnInvalid: true },
      { workspace, artifactsDir: artifacts },
    );
    expect(fromArtifact.outcome).toBe('failed');
    expect(fromArtifact.error).toMatchObject({ code: 'value_invalid' });
    expect(fromArtifact.outputs).toMatchObject({
      valid: false,
      errors: 1,
      violations: [{ path: '/id', message: 'must be string' }],
    });
    const escape = await runTask(
      schemaValidate,
      { schema, artifact: 'extract/../../../etc/passwd' },
      { workspace, artifactsDir: artifacts },
    );
    expect(escape.error).toMatchObject({
      code: 'path_outside_workspace',
      message: expect.stringMatching(/^\/artifact: /),
    });
    const outside = await runTask(schemaValidate, { schema, file: '/etc/passwd' }, { workspace });
    expect(outside.error).toMatchObject({
      code: 'path_outside_workspace',
      message: expect.stringMatching(/^\/file: /),
    });
  });

  it('names the input at fault: an invalid schema, a file that is not JSON, two sources', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'maestro-sv-'));
    writeFileSync(join(workspace, 'bad.json'), '{ nope');
    expect((await runTask(schemaValidate, { schema: { type: 'nonsense' }, value: 1 })).error).toMatchObject({
      code: 'schema_invalid',
      message: expect.stringMatching(/^\/schema is not a valid JSON Schema/),
    });
    expect((await runTask(schemaValidate, { schema, file: 'bad.json' }, { workspace })).error).toMatchObject({
      code: 'file_not_json',
      message: expect.stringMatching(/^\/file: /),
    });
    expect((await runTask(schemaValidate, { value: 1, file: 'x' })).errors).toEqual([
      { path: '/schema', message: 'give exactly one of schema and schemaFile' },
      { path: '/value', message: 'give exactly one of value, file and artifact' },
    ]);
  });

  it('the check is a span, a child of the attempt’s TRACEPARENT, with its verdict; a failure’s code', async () => {
    spans.take();
    await runTask(schemaValidate, { schema, value: { rows: [-1] } }, { secrets: { TRACEPARENT } });
    const span = childSpanOf(spans.take(), 'schema-validate');
    expect([span.name, span.status.code]).toEqual(['schema-validate', SpanStatusCode.OK]);
    expect(span.attributes).toEqual({
      'maestro.schema.source': 'value',
      'maestro.schema.format': 'json-schema',
      'maestro.schema.valid': false,
      'maestro.schema.errors': 2,
    });
    const failing = { schema, value: {}, failOnInvalid: true };
    expect((await runTask(schemaValidate, failing, { secrets: { TRACEPARENT } })).outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'schema-validate');
    expect([failed.status.code, failed.attributes['error.type']]).toEqual([
      SpanStatusCode.ERROR,
      'value_invalid',
    ]);
  });

  const avroSchema = {
    type: 'record',
    name: 'Order',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'lines', type: { type: 'array', items: 'int' } },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'state', type: { type: 'enum', name: 'State', symbols: ['OPEN', 'SHIPPED'] } },
      { name: 'tags', type: { type: 'map', values: 'long' } },
    ],
  };

  it('Avro (format: avro): a value in Avro’s JSON encoding, valid, from a file and an artifact', async () => {
    const order = { id: 'o-1', lines: [1, 2], note: { string: 'gift' }, state: 'OPEN', tags: { a: 1 } };
    const inline = await runTask(schemaValidate, { format: 'avro', schema: avroSchema, value: order });
    expect(inline.outputs).toEqual({ valid: true, errors: 0, violations: [] });
    const workspace = mkdtempSync(join(tmpdir(), 'maestro-sv-avro-'));
    const artifacts = mkdtempSync(join(tmpdir(), 'maestro-sv-avro-art-'));
    writeFileSync(join(workspace, 'order.avsc'), JSON.stringify(avroSchema));
    writeFileSync(join(workspace, 'order.json'), JSON.stringify({ ...order, note: null }));
    mkdirSync(join(artifacts, 'extract'));
    writeFileSync(join(artifacts, 'extract', 'order.json'), JSON.stringify({ ...order, id: 7 }));
    const fromFile = await runTask(
      schemaValidate,
      { format: 'avro', schemaFile: 'order.avsc', file: 'order.json' },
      { workspace },
    );
    expect(fromFile.outputs).toEqual({ valid: true, errors: 0, violations: [] });
    const fromArtifact = await runTask(
      schemaValidate,
      { format: 'avro', schemaFile: 'order.avsc', artifact: 'extract/order.json' },
      { workspace, artifactsDir: artifacts },
    );
    expect(fromArtifact.outputs).toMatchObject({ valid: false, errors: 1, violations: [{ path: '/id' }] });
  });

  it('Avro: every violation with its JSON Pointer path (missing field, array item, union, enum, map value)', async () => {
    spans.take();
    const value = { lines: [1, 'x', 2.5], note: 'unwrapped', state: 'LOST', tags: { 'a/b': 'n' }, extra: 1 };
    const result = await runTask(
      schemaValidate,
      { format: 'avro', schema: avroSchema, value },
      { secrets: { TRACEPARENT } },
    );
    expect(result.outcome).toBe('succeeded');
    expect(result.outputs).toEqual({
      valid: false,
      errors: 6,
      violations: [
        { path: '/id', message: 'is required' },
        { path: '/lines/1', message: 'must be int' },
        { path: '/lines/2', message: 'must be int' },
        {
          path: '/note',
          message: 'must be one of null, string (a non-null branch wrapped as {"<branch>": value})',
        },
        { path: '/state', message: 'must be one of OPEN, SHIPPED' },
        { path: '/tags/a~1b', message: 'must be long' },
      ],
    });
    expect(childSpanOf(spans.take(), 'schema-validate').attributes).toEqual({
      'maestro.schema.source': 'value',
      'maestro.schema.format': 'avro',
      'maestro.schema.valid': false,
      'maestro.schema.errors': 6,
    });
  });

  it('Avro: a schema that is not one is an input error naming the field', async () => {
    const bad = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'nope' }] };
    expect((await runTask(schemaValidate, { format: 'avro', schema: bad, value: {} })).error).toMatchObject({
      code: 'schema_invalid',
      message: '/schema is not a valid Avro schema: undefined type name: nope',
    });
    const workspace = mkdtempSync(join(tmpdir(), 'maestro-sv-avro-'));
    writeFileSync(join(workspace, 'bad.avsc'), JSON.stringify({ type: 'enum', name: 'E' }));
    const fromFile = await runTask(
      schemaValidate,
      { format: 'avro', schemaFile: 'bad.avsc', value: 'A' },
      { workspace },
    );
    expect(fromFile.error).toMatchObject({
      code: 'schema_invalid',
      message: expect.stringMatching(/^\/schemaFile is not a valid Avro schema: /),
    });
    const unknown = await runTask(schemaValidate, { format: 'xsd', schema: {}, value: 1 });
    expect([unknown.outcome, unknown.errors?.[0]?.path]).toEqual(['invalid', '/format']);
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(schemaValidate.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(schemaValidate.spec.outputs.properties ?? {}));
  });
});
