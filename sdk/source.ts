/**
 * `defineSource`: a source connector (Airbyte's shape) as a task. Its `operation` input picks the
 * command: `spec` (the config schema), `check(config)` (outputs `status` and `message`),
 * `discover(config)` (outputs the `catalog` of streams) or `read(config, catalog, state)`, which
 * writes records to an NDJSON file of the workspace (`records`, default `records.ndjson`; see
 * connector-protocol.ts for why a file) and checkpoints per-stream state through the task
 * protocol's `state`, so a retry of the read resumes from the last checkpoint.
 */
import type { JSONSchema } from 'json-schema-to-ts';
import type { Infer, ObjectSchema, Task } from './define-task.ts';
import { TaskError } from './errors.ts';
import { workspaceFile } from './workspace-file.ts';
import { compileSchema, describeIssues } from './validate-inputs.ts';
import {
  catalogSchema,
  configuredCatalogSchema,
  configureAll,
  type Catalog,
  type ConfiguredCatalog,
  type StreamStates,
} from './connector-protocol.ts';
import {
  commonOperation,
  connectorTask,
  describedBy,
  type ConnectorDefinition,
  type ConnectorContext,
  type ConnectorEmit,
  type ConnectorRun,
} from './connector.ts';
import { openRecords } from './records-file.ts';

export const SOURCE_OPERATIONS = ['spec', 'check', 'discover', 'read'] as const;
export type SourceOperation = (typeof SOURCE_OPERATIONS)[number];

export interface SourceContext extends ConnectorContext {
  readonly emit: ConnectorEmit & {
    /** One record of a configured stream, appended to the records file. */
    record(stream: string, data: Record<string, unknown>): void;
  };
  /**
   * The stream's state after the records emitted so far: call it once they are all read (the
   * commit rule). The records before it are made durable first; a retry's `read` gets it back.
   */
  checkpoint(stream: string, state: unknown): void;
}

export interface SourceDefinition<C extends ObjectSchema> extends ConnectorDefinition<C> {
  discover(config: NoInfer<Infer<C>>, ctx: ConnectorContext): Catalog | Promise<Catalog>;
  read(
    config: NoInfer<Infer<C>>,
    catalog: ConfiguredCatalog,
    state: StreamStates,
    ctx: SourceContext,
  ): void | Promise<void>;
}

export interface SourceInputs<Config> {
  operation: SourceOperation;
  config?: Partial<Config>;
  /** Which `env:` variable holds each secret property of config (`{ "/apiKey": "API_KEY" }`). */
  configSecrets?: Record<string, string>;
  catalog?: ConfiguredCatalog;
  records?: string;
}

export interface SourceOutputs {
  status: 'succeeded' | 'failed';
  message: string;
  spec: { documentationUrl?: string; connectionSpecification: JSONSchema };
  catalog: Catalog;
  records: number;
  recordsFile: string;
  streams: Record<string, number>;
}

/** A source is a task (runTask, runMain) that also carries its definition, for tests and tools. */
export type Source<Config> = Task<SourceInputs<Config>, SourceOutputs> & {
  readonly connector: { kind: 'source'; config: ObjectSchema };
};

/** The checkpoint a source writes: each stream's state, and how long the records file then was. */
interface SourceCheckpoint {
  streams: Record<string, unknown>;
  records_bytes: number;
}

export const SOURCE_OUTPUTS = {
  type: 'object',
  properties: {
    status: { enum: ['succeeded', 'failed'] },
    message: { type: 'string' },
    spec: { type: 'object' },
    catalog: catalogSchema,
    records: { type: 'integer', minimum: 0 },
    recordsFile: { type: 'string' },
    streams: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const satisfies ObjectSchema;

export function defineSource<const C extends ObjectSchema>(
  definition: SourceDefinition<C>,
): Source<Infer<C>> {
  const checkCatalog = compileSchema(catalogSchema);
  const task = connectorTask<SourceInputs<Infer<C>>, SourceOutputs>({
    ...describedBy(definition),
    operations: SOURCE_OPERATIONS,
    inputs: {
      catalog: {
        ...configuredCatalogSchema,
        description: 'read: the streams to read (default: every discovered one)',
      },
      records: {
        type: 'string',
        minLength: 1,
        description: 'read: the NDJSON file to write, in the workspace',
      },
    },
    outputs: SOURCE_OUTPUTS,
    async run(operation, inputs, run) {
      const config = inputs.config as never; // checked against spec.config by the lifecycle
      const discover = async () => {
        const catalog = await definition.discover(config, run.connector);
        const checked = checkCatalog(catalog);
        if (!checked.ok)
          throw new TaskError(
            'catalog_invalid',
            `${definition.name}'s discover returned an invalid catalog: ${describeIssues(checked.errors, '(catalog)')}`,
            {
              fault: 'system',
              hint: 'return { streams: [{ name, json_schema, supported_sync_modes }] }',
            },
          );
        return catalog;
      };
      const common = await commonOperation(operation, definition, config, run);
      if (common) return common;
      if (operation === 'discover') {
        const catalog = await discover();
        run.connector.emit.log(
          `discovered ${catalog.streams.length} stream(s): ${catalog.streams.map((s) => s.name).join(', ')}`,
        );
        return { catalog };
      }
      const catalog = (inputs.catalog as ConfiguredCatalog | undefined) ?? configureAll(await discover());
      return read<C>(
        definition,
        config,
        catalog,
        (inputs.records as string | undefined) ?? 'records.ndjson',
        run,
      );
    },
  });
  return Object.assign(task, { connector: { kind: 'source' as const, config: definition.spec.config } });
}

async function read<C extends ObjectSchema>(
  definition: SourceDefinition<C>,
  config: never,
  catalog: ConfiguredCatalog,
  path: string,
  run: ConnectorRun,
): Promise<Record<string, unknown>> {
  const { ctx, connector } = run;
  const from = resumeFrom(ctx.state, connector);
  const file = workspaceFile(ctx.workspace, path, '/records');
  const writer = openRecords(file, from?.records_bytes);
  const states: Record<string, unknown> = { ...from?.streams };
  if (from && !writer.resumed)
    connector.emit.log(
      `resuming from a checkpoint; ${path} starts anew (the records before it are in the earlier attempt's file)`,
    );
  else if (from)
    connector.emit.log(
      `resuming from a checkpoint: ${path} cut back to its ${from.records_bytes} committed bytes`,
    );
  const configured = new Set(catalog.streams.map((s) => s.stream.name));
  const counts: Record<string, number> = Object.fromEntries([...configured].map((name) => [name, 0]));
  const known = (stream: string, what: string) => {
    if (!configured.has(stream))
      throw new TaskError(
        'stream_unknown',
        `${definition.name} ${what} stream ${JSON.stringify(stream)}, which the catalog does not configure`,
        {
          fault: 'system',
          hint: `read only the catalog's streams: ${[...configured].join(', ')}`,
        },
      );
  };
  const sourceCtx: SourceContext = {
    ...connector,
    emit: {
      ...connector.emit,
      record(stream, data) {
        known(stream, 'emitted a record of');
        if (data === null || typeof data !== 'object' || Array.isArray(data))
          throw new TaskError(
            'record_invalid',
            `${definition.name} emitted a record of ${stream} that is not an object`,
            { fault: 'system' },
          );
        writer.append({ stream, data, emitted_at: ctx.clock.now() });
        counts[stream] = (counts[stream] ?? 0) + 1;
      },
    },
    checkpoint(stream, state) {
      known(stream, 'checkpointed');
      states[stream] = state;
      const checkpoint: SourceCheckpoint = { streams: { ...states }, records_bytes: writer.commit() };
      ctx.emit.state(run.mask(checkpoint));
    },
  };
  try {
    await definition.read(config, catalog, Object.freeze({ ...states }), sourceCtx);
    writer.commit();
  } finally {
    writer.close();
  }
  ctx.emit.artifact(path);
  const records = Object.values(counts).reduce((a, b) => a + b, 0);
  connector.emit.log(`read ${records} record(s) into ${path}`);
  return { records, recordsFile: path, streams: counts };
}

/** The checkpoint this attempt starts from; one that is not a source's is said and not used. */
function resumeFrom(state: unknown, connector: ConnectorContext): SourceCheckpoint | undefined {
  if (state === undefined || state === null) return undefined;
  const s = state as Partial<SourceCheckpoint>;
  const ok =
    typeof s === 'object' &&
    s.streams !== null &&
    typeof s.streams === 'object' &&
    !Array.isArray(s.streams) &&
    Number.isInteger(s.records_bytes) &&
    (s.records_bytes as number) >= 0;
  if (ok) return { streams: s.streams as Record<string, unknown>, records_bytes: s.records_bytes as number };
  connector.emit.log(
    'the checkpoint handed in is not a source checkpoint ({ streams, records_bytes }); reading from the start',
    'warn',
  );
  return undefined;
}
