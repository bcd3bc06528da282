/**
 * The artifact store port: content-addressed objects, put and got by their sha256 digest. The
 * engine keeps every artifact in the data directory (artifact-flow.ts); for tasks on runners
 * that do not share the engine's disk (container, kubernetes) the objects also move through an
 * ArtifactStore the operator configured (MAESTRO_ARTIFACT_STORE, docs/runtime.md).
 *
 * Nothing read back is trusted: `get` hashes the bytes as they arrive and refuses an object
 * whose digest or size is not the one asked for, so a bucket that others can write to cannot
 * hand a dependant different bytes than the producer kept (and the receipt names).
 */
import { createHash } from 'node:crypto';
import { Fault, MaestroError } from '../../core/index.ts';

/** An object as the engine knows it: the digest (`sha256:<hex>`) and size the producer kept. */
export interface ArtifactObject {
  digest: string;
  size: number;
}

export interface ArtifactStore {
  readonly kind: 'data-dir' | 's3';
  /** Where the objects are, for logs: never a credential (`s3://bucket/prefix at https://host`). */
  readonly location: string;
  /** Stores `file`'s bytes as `object` (a no-op when that digest is already there). */
  put(object: ArtifactObject, file: string): Promise<void>;
  /**
   * Writes the object's bytes to `target` (a new file, mode 0444 or 0555 when `executable`),
   * or throws ArtifactDigestMismatchError and leaves nothing at `target`.
   */
  get(object: ArtifactObject, target: string, options?: { executable?: boolean }): Promise<void>;
  /**
   * A URL that reads this one object, without credentials, for `ttlSeconds`: how a task that runs
   * away from the engine's disk (a Kubernetes pod) gets what it receives. Absent when the store
   * cannot give one (the data dir).
   */
  presignGet?(object: ArtifactObject, ttlSeconds: number): Promise<string>;
  /**
   * Uploads: how a pod hands back what it keeps. The engine cannot know the digests before the
   * task has run, so a pod gets one URL that writes one per-attempt object (`uploadName`), not a
   * content-addressed one; the engine then reads that object, checks it, and keeps what it holds
   * under its sha256 like any other artifact (engine/artifact-upload.ts). Absent: the data dir.
   */
  readonly uploads?: ArtifactUploads;
  close(): void;
}

export interface ArtifactUploads {
  /** The largest upload `open` reads (bytes); the pod is told it too, and refuses to send more. */
  readonly maxBytes: number;
  /** A URL that accepts one PUT of the upload `name`, without credentials, for `ttlSeconds`. */
  presignPut(name: string, ttlSeconds: number): Promise<string>;
  /**
   * The upload's bytes, cut off with ArtifactUploadTooLargeError past `maxBytes` (checked on the
   * stored size first, and again as they arrive); undefined when nothing was uploaded.
   */
  open(name: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Removes the upload (done once it is read, or refused); absent already is fine. */
  remove(name: string): Promise<void>;
}

/** The default of MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES: 1 GiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

const UPLOAD_NAME = /^[0-9a-f]{32}$/;

/**
 * The upload name of an attempt: a hash of its id, so it is a safe key whatever the id holds, and
 * the same after a restart (an engine that re-attaches to a Job reads the upload its pod made).
 */
export function uploadName(attemptId: string): string {
  return createHash('sha256').update(`maestro-upload\u0000${attemptId}`).digest('hex').slice(0, 32);
}

/** The name, refused unless it is one `uploadName` makes (it becomes part of an object key). */
export function checkUploadName(name: string): string {
  if (!UPLOAD_NAME.test(name)) throw new ArtifactStoreError(`${JSON.stringify(name)} is not an upload name`);
  return name;
}

/** The operator's store and the runner kinds whose tasks' artifacts move through it. */
export interface RemoteArtifacts {
  store: ArtifactStore;
  runners: readonly string[];
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The hex of a `sha256:<hex>` digest; anything else is refused (it becomes a key or a file name). */
export function digestHex(digest: string): string {
  const hex = DIGEST.exec(digest)?.[1];
  if (!hex) throw new ArtifactStoreError(`${JSON.stringify(digest)} is not a sha256:<64 hex> digest`);
  return hex;
}

/** The bytes read back are not the object asked for (tampered, truncated, or another object). */
export class ArtifactDigestMismatchError extends MaestroError {
  constructor(location: string, expected: ArtifactObject, got: { digest: string; size: number }) {
    super(
      'artifact_digest_mismatch',
      `the artifact store ${location} returned ${got.digest} (${got.size} bytes) for ${expected.digest} (${expected.size} bytes): refused`,
      {
        fault: Fault.system,
        retryable: false,
        hint: 'the object in the store was changed after its producer kept it; re-run the producing task, and check who can write to the bucket',
        details: { expected: expected.digest, got: got.digest },
      },
    );
  }
}

/** The store could not be reached or refused a request. */
export class ArtifactStoreError extends MaestroError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean; hint?: string } = {}) {
    super('artifact_store_error', message, { fault: Fault.system, ...options });
  }
}

/** An upload is larger than the store accepts: refused, never read to the end. */
export class ArtifactUploadTooLargeError extends MaestroError {
  constructor(location: string, maxBytes: number, size: number | 'more') {
    super(
      'artifact_upload_too_large',
      `the upload in ${location} is ${size === 'more' ? 'more than' : `${size} bytes, more than`} the ${maxBytes} bytes accepted: refused`,
      {
        fault: Fault.user,
        retryable: false,
        hint: 'keep fewer or smaller artifacts, or raise MAESTRO_ARTIFACT_UPLOAD_MAX_BYTES (docs/runtime.md)',
        details: { maxBytes, ...(size === 'more' ? {} : { size }) },
      },
    );
  }
}
