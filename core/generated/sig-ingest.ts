// Generated from schemas/sig/ingest/v3/ingest.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * One record: something that happened, measured or was produced, as SIG stores it.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "Record".
 */
export type Record = Record1 & {
  /**
   * The producer's id of the record, unique per source; SIG keeps the first record with an id and answers later ones as duplicates.
   */
  id: string;
  /**
   * What the record is.
   */
  kind: 'event' | 'metric' | 'log' | 'trace';
  /**
   * @deprecated
   * Deprecated in v3: use producer.name. Still accepted; SIG copies it into producer.name.
   */
  source?: string;
  /**
   * When it happened (RFC 3339).
   */
  occurredAt: string;
  /**
   * The record's data.
   */
  payload: {};
  /**
   * Labels SIG indexes the record by (added in v2).
   */
  labels?: {
    [k: string]: string;
  };
  /**
   * Who produced the record (added in v3, replaces source).
   */
  producer?: {
    name: string;
    /**
     * Which replica or run of the producer.
     */
    instance?: string;
  };
};
export type Record1 = {
  [k: string]: unknown;
};
/**
 * One line of a stream's request body (newline-delimited JSON): an open frame first, then record frames with consecutive offsets.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamFrame".
 */
export type StreamFrame = StreamOpen | StreamRecord;
/**
 * One line of a stream's response body (newline-delimited JSON).
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamReply".
 */
export type StreamReply = StreamReady | StreamAck | StreamError;

/**
 * SIG ingest contract, version 3: the records Maestro sends to SIG, in batches (POST /v1/ingest/batches) or over a stream (POST /v1/ingest/streams/{streamId}).
 */
export interface SigIngestV3 {
  [k: string]: unknown;
}
/**
 * A bounded batch of records. Sending the same idempotencyKey again with the same records is answered with the first answer and stores nothing twice; with other records it is a 409.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "Batch".
 */
export interface Batch {
  /**
   * The record schema the records follow.
   */
  schemaVersion: 1 | 2 | 3;
  /**
   * Chosen by the client once per batch and kept across its retries.
   */
  idempotencyKey: string;
  /**
   * @minItems 1
   * @maxItems 500
   */
  records: [Record, ...Record[]];
}
/**
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "BatchResult".
 */
export interface BatchResult {
  batchId: string;
  /**
   * Records stored by this batch.
   */
  accepted: number;
  /**
   * Records whose id SIG already had (from another batch or the stream).
   */
  duplicates: number;
  /**
   * True when this answer is the stored answer to an earlier request with the same idempotencyKey.
   */
  replayed: boolean;
  /**
   * Deprecated fields the batch used (added in v3).
   */
  warnings?: string[];
}
/**
 * The first line: which record schema the records follow.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamOpen".
 */
export interface StreamOpen {
  type: 'open';
  schemaVersion: 1 | 2 | 3;
}
/**
 * One record at its offset.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamRecord".
 */
export interface StreamRecord {
  type: 'record';
  /**
   * The record's position in the stream, from 0; a resumed stream starts at the ready frame's nextOffset.
   */
  offset: number;
  record: Record;
}
/**
 * The first line: where to resume and how many records may be in flight.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamReady".
 */
export interface StreamReady {
  type: 'ready';
  /**
   * The first offset SIG does not have yet: where a client resumes.
   */
  nextOffset: number;
  /**
   * How many records the client may send beyond the last acknowledged one (back-pressure).
   */
  window: number;
}
/**
 * Records up to offset are stored; window may have changed.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamAck".
 */
export interface StreamAck {
  type: 'ack';
  /**
   * Every record up to and including this offset is stored.
   */
  offset: number;
  window: number;
}
/**
 * The last line when SIG refuses a frame; offset names it.
 *
 * This interface was referenced by `SigIngestV3`'s JSON-Schema
 * via the `definition` "StreamError".
 */
export interface StreamError {
  type: 'error';
  code: string;
  detail: string;
  offset?: number;
}
