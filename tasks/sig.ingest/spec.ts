// The spec of tasks/sig.ingest: task.json holds the same schemas (checked equal by
// tasks/sig.ingest/sig-ingest.test.ts), so the catalog type-checks `with:` at compile time and
// the SDK checks the same at run time.
export const inputs = {
  type: 'object',
  additionalProperties: false,
  required: ['idempotencyKey'],
  properties: {
    endpoint: {
      type: 'string',
      pattern: '^https?://',
      maxLength: 2048,
      description:
        "SIG's base URL, normally `${secrets.SIG_INGEST_URL}` (redacted wherever inputs are stored). Default: the secret SIG_INGEST_URL passed in env:.",
    },
    identity: {
      type: 'string',
      minLength: 1,
      maxLength: 8192,
      description:
        'The bearer credential presented to SIG: the run’s workload identity, `${workload.identity}`. Default: the secret SIG_TOKEN when env: passes it, else none. Sent over https://, or plain http:// only to a loopback address (else `credential_in_clear`, before anything is sent).',
    },
    records: {
      type: 'array',
      maxItems: 100000,
      items: { type: 'object' },
      description:
        'The records (SIG ingest contract v3 `Record`: id, kind, occurredAt, payload, labels, producer). A record without producer gets `producer: { name: <producer> }`.',
    },
    file: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description:
        'A workspace file of records instead of `records`: a JSON array, or one JSON record per line (NDJSON). An artifact of an earlier task is `$MAESTRO_ARTIFACTS/<task>/<path>`; give it relative to the workspace or as `artifacts:<task>/<path>`.',
    },
    idempotencyKey: {
      type: 'string',
      pattern: '^[A-Za-z0-9._:-]{8,100}$',
      description:
        'The key of this ingest, kept across retries and re-runs (for example `nightly.${params.date}`): batch i goes as `<key>.<i>`, and a stream as stream `<key>`, so sending again stores nothing twice.',
    },
    mode: {
      enum: ['batch', 'stream'],
      description:
        'batch: bounded batches, one after another (default); stream: one long-lived NDJSON connection with acknowledgements.',
    },
    batchSize: { type: 'integer', minimum: 1, maximum: 500, description: 'Records per batch (default 500).' },
    version: {
      enum: [1, 2, 3],
      description: 'Pin the contract major instead of negotiating it with `GET /versions`.',
    },
    producer: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'producer.name of records that carry none (default `maestro`).',
    },
  },
} as const;

export const outputs = {
  type: 'object',
  required: ['version', 'accepted'],
  properties: {
    version: { type: 'integer', description: 'The contract major spoken.' },
    accepted: {
      type: 'integer',
      description: 'Records SIG stored as new (this attempt and the ones it resumed).',
    },
    duplicates: { type: 'integer', description: 'Records SIG already had (by id).' },
    replayed: { type: 'integer', description: 'Batches SIG had already stored under their key.' },
    batches: { type: 'integer', description: 'Batches sent by this attempt.' },
    resumedFromBatch: {
      type: 'integer',
      description: 'The batch this attempt started at (0, or the one after the last checkpoint).',
    },
    committedOffset: { type: 'integer', description: 'stream: every record up to this offset is stored.' },
    dropped: { type: 'integer', description: 'Fields left out for an older SIG.' },
  },
} as const;
