/**
 * The data a connector exchanges, shaped after Airbyte's protocol so a reader of either knows the
 * other (the names on the wire are Airbyte's snake_case, in both SDKs): a **catalog** of streams
 * (`discover`), the **configured catalog** a `read` is asked for (which streams, in which sync
 * mode, on which cursor), a **connection status** (`check`), **records** and per-stream **state**.
 *
 * Records do not travel as task-protocol messages: the messages file is bounded (8 MiB) and is
 * for reports, not data. A read writes them to an NDJSON file of the workspace (one
 * `{ stream, data, emitted_at }` per line), which the manifest keeps with `artifacts:` and a
 * destination reads from `$MAESTRO_ARTIFACTS`. State does travel as the protocol's checkpoint
 * (`ctx.emit.state`), so a retry resumes from it.
 */
export type SyncMode = 'full_refresh' | 'incremental';

/** One stream a source can read (Airbyte's `AirbyteStream`). */
export interface Stream {
  name: string;
  /** The JSON Schema of one record's `data`. */
  json_schema: Record<string, unknown>;
  supported_sync_modes: SyncMode[];
  /** True when the source decides the cursor (the configured `cursor_field` is ignored). */
  source_defined_cursor?: boolean;
  default_cursor_field?: string[];
  source_defined_primary_key?: string[][];
}

/** What `discover` returns. */
export interface Catalog {
  streams: Stream[];
}

/** One stream as a read is asked to read it (Airbyte's `ConfiguredAirbyteStream`). */
export interface ConfiguredStream {
  stream: Stream;
  sync_mode: SyncMode;
  cursor_field?: string[];
  primary_key?: string[][];
}

export interface ConfiguredCatalog {
  streams: ConfiguredStream[];
}

/** What `check` returns (Airbyte's `AirbyteConnectionStatus`). */
export interface ConnectionStatus {
  status: 'succeeded' | 'failed';
  message?: string;
}

/** One line of a records file. */
export interface RecordLine {
  stream: string;
  data: Record<string, unknown>;
  /** Milliseconds since the epoch, from the task's clock. */
  emitted_at: number;
}

/** Each stream's state as the source last checkpointed it; `{}` on a first attempt. */
export type StreamStates = Readonly<Record<string, unknown>>;

const syncModes = { type: 'array', items: { enum: ['full_refresh', 'incremental'] }, minItems: 1 } as const;
const fieldPath = { type: 'array', items: { type: 'string' } } as const;
const keyPaths = { type: 'array', items: fieldPath } as const;

/** JSON Schema of a `Stream`: what discover must return, and the stream of a configured one. */
export const streamSchema = {
  type: 'object',
  required: ['name', 'json_schema', 'supported_sync_modes'],
  properties: {
    name: { type: 'string', minLength: 1 },
    json_schema: { type: 'object' },
    supported_sync_modes: syncModes,
    source_defined_cursor: { type: 'boolean' },
    default_cursor_field: fieldPath,
    source_defined_primary_key: keyPaths,
  },
} as const;

export const catalogSchema = {
  type: 'object',
  required: ['streams'],
  properties: { streams: { type: 'array', items: streamSchema } },
} as const;

/** JSON Schema of a configured catalog: the `catalog` input of read and write. */
export const configuredCatalogSchema = {
  type: 'object',
  required: ['streams'],
  additionalProperties: false,
  properties: {
    streams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['stream', 'sync_mode'],
        additionalProperties: false,
        properties: {
          stream: streamSchema,
          sync_mode: { enum: ['full_refresh', 'incremental'] },
          cursor_field: fieldPath,
          primary_key: keyPaths,
          destination_sync_mode: { enum: ['append', 'overwrite', 'append_dedup'] },
        },
      },
    },
  },
} as const;

/**
 * The catalog a read uses when the manifest gives none: every discovered stream, incremental
 * where it supports it (on its default cursor), else full refresh.
 */
export function configureAll(catalog: Catalog): ConfiguredCatalog {
  return {
    streams: catalog.streams.map((stream) => {
      const incremental = stream.supported_sync_modes.includes('incremental');
      return {
        stream,
        sync_mode: incremental ? 'incremental' : 'full_refresh',
        ...(incremental && stream.default_cursor_field ? { cursor_field: stream.default_cursor_field } : {}),
      };
    }),
  };
}
