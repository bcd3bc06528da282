/**
 * `defineDestination`: a destination connector (Airbyte's shape) as a task. `spec` and `check`
 * as for a source; `write(config, catalog, records, ctx)` is handed the records of a source's
 * NDJSON file (`records` in the workspace, or `artifact`, `<task>/<path>` of
 * `$MAESTRO_ARTIFACTS`) as an async iterable. `ctx.checkpoint()` says every record handed so far
 * is written: a retry's `records` start right after the last one so committed.
 */
import type { JSONSchema } from 'json-schema-to-ts';
import type { Infer, ObjectSchema, Task } from './define-task.ts';
import { TaskError } from './errors.ts';
import { workspaceFile } from './workspace-file.ts';
import { configuredCatalogSchema, type ConfiguredCatalog, type RecordLine } from './connector-protocol.ts';
import {
  commonOperation,
  connectorTask,
  describedBy,
  type ConnectorDefinition,
  type ConnectorContext,
  type ConnectorRun,
} from './connector.ts';
import { readRecords } from './records-file.ts';

export const DESTINATION_OPERATIONS = ['spec', 'check', 'write'] as const;
export type DestinationOperation = (typeof DESTINATION_OPERATIONS)[number];

export interface DestinationContext extends ConnectorContext {
  /** Every record handed to `write` so far is written (the commit rule): a retry starts after them. */
  checkpoint(): void;
}

export interface DestinationDefinition<C extends ObjectSchema> extends ConnectorDefinition<C> {
  write(
    config: NoInfer<Infer<C>>,
    catalog: ConfiguredCatalog | undefined,
    records: AsyncIterable<RecordLine>,
    ctx: DestinationContext,
  ): void | Promise<void>;
}

export interface DestinationInputs<Config> {
  operation: DestinationOperation;
  config?: Partial<Config>;
  /** Which `env:` variable holds each secret property of config (`{ "/apiKey": "API_KEY" }`). */
  configSecrets?: Record<string, string>;
  catalog?: ConfiguredCatalog;
  records?: string;
  artifact?: string;
}

export interface DestinationOutputs {
  status: 'succeeded' | 'failed';
  message: string;
  spec: { documentationUrl?: string; connectionSpecification: JSONSchema };
  records: number;
}

export type Destination<Config> = Task<DestinationInputs<Config>, DestinationOutputs> & {
  readonly connector: { kind: 'destination'; config: ObjectSchema };
};

export const DESTINATION_OUTPUTS = {
  type: 'object',
  properties: {
    status: { enum: ['succeeded', 'failed'] },
    message: { type: 'string' },
    spec: { type: 'object' },
    records: { type: 'integer', minimum: 0 },
  },
} as const satisfies ObjectSchema;

export function defineDestination<const C extends ObjectSchema>(
  definition: DestinationDefinition<C>,
): Destination<Infer<C>> {
  const task = connectorTask<DestinationInputs<Infer<C>>, DestinationOutputs>({
    ...describedBy(definition),
    operations: DESTINATION_OPERATIONS,
    inputs: {
      catalog: {
        ...configuredCatalogSchema,
        description: "write: the streams to accept (default: every record's)",
      },
      records: {
        type: 'string',
        minLength: 1,
        description: 'write: the NDJSON records file, in the workspace',
      },
      artifact: {
        type: 'string',
        minLength: 1,
        description: "write: the records file as <task>/<path> of a needed task's artifacts",
      },
    },
    outputs: DESTINATION_OUTPUTS,
    validate(inputs) {
      const given = ['records', 'artifact'].filter((k) => Object.hasOwn(inputs, k));
      if (inputs.operation === 'write' && given.length !== 1)
        return {
          ok: false,
          errors: [{ path: '/records', message: 'write needs exactly one of records and artifact' }],
        };
      return { ok: true, errors: [] };
    },
    async run(operation, inputs, run) {
      const config = inputs.config as never; // checked against spec.config by the lifecycle
      const common = await commonOperation(operation, definition, config, run);
      if (common) return common;
      return write<C>(definition, config, inputs, run);
    },
  });
  return Object.assign(task, { connector: { kind: 'destination' as const, config: definition.spec.config } });
}

async function write<C extends ObjectSchema>(
  definition: DestinationDefinition<C>,
  config: never,
  inputs: Record<string, unknown>,
  run: ConnectorRun,
): Promise<Record<string, unknown>> {
  const { ctx, connector } = run;
  const file = recordsPath(ctx, inputs);
  const catalog = inputs.catalog as ConfiguredCatalog | undefined;
  const streams = catalog ? new Set(catalog.streams.map((s) => s.stream.name)) : undefined;
  const skip = resumeAt(ctx.state, connector);
  let handed = skip;
  let count = 0;
  async function* records(): AsyncGenerator<RecordLine> {
    for await (const { line, record } of readRecords(
      file,
      skip,
      inputs.artifact ? '/artifact' : '/records',
    )) {
      if (streams && !streams.has(record.stream))
        throw new TaskError(
          'stream_unknown',
          `line ${line}: a record of stream ${JSON.stringify(record.stream)}, which the catalog does not configure`,
        );
      handed = line;
      count++;
      yield record;
    }
  }
  const destinationCtx: DestinationContext = {
    ...connector,
    checkpoint: () => ctx.emit.state({ lines: handed }),
  };
  await definition.write(config, catalog, records(), destinationCtx);
  connector.emit.log(`wrote ${count} record(s)${skip > 0 ? ` after line ${skip} (the checkpoint)` : ''}`);
  return { records: count };
}

function recordsPath(ctx: ConnectorRun['ctx'], inputs: Record<string, unknown>): string {
  if (typeof inputs.records === 'string') return workspaceFile(ctx.workspace, inputs.records, '/records');
  if (!ctx.artifactsDir)
    throw new TaskError(
      'artifact_missing',
      `/artifact: no artifacts were handed to this task (${String(inputs.artifact)})`,
      {
        hint: "list the source's task in needs: and its records file in that task's artifacts:",
      },
    );
  return workspaceFile(ctx.artifactsDir, inputs.artifact as string, '/artifact');
}

/** The line a retry starts after: a destination's checkpoint is `{ lines }`. */
function resumeAt(state: unknown, connector: ConnectorContext): number {
  if (state === undefined || state === null) return 0;
  const lines = (state as { lines?: unknown }).lines;
  if (typeof lines === 'number' && Number.isInteger(lines) && lines >= 0) return lines;
  connector.emit.log(
    'the checkpoint handed in is not a destination checkpoint ({ lines }); writing from the start',
    'warn',
  );
  return 0;
}
