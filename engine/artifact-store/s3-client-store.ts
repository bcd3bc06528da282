/**
 * The ArtifactStore on an S3-compatible object store (AWS S3, MinIO, gofakes3, ...), through
 * `@aws-sdk/client-s3`. Objects are `<prefix>sha256/<hex>`: content-addressed, so a put of a
 * digest already there is skipped, and two runs that keep the same bytes share one object.
 *
 * Uploads carry the object's SHA-256 (ChecksumSHA256), which a server that checks it (AWS S3
 * does) verifies; downloads are verified here whatever the server does (verified-write.ts).
 * Credentials are handed in by the composition root as a function, so they are not part of any
 * value a log line or an error could print; `location` never holds them.
 */
import { createReadStream } from 'node:fs';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isMaestroError } from '../../core/index.ts';
import {
  ArtifactStoreError,
  ArtifactUploadTooLargeError,
  DEFAULT_MAX_UPLOAD_BYTES,
  checkUploadName,
  digestHex,
  type ArtifactObject,
  type ArtifactStore,
  type ArtifactUploads,
} from './artifact-store.ts';
import { s3Location, type S3ArtifactStoreOptions } from './s3-options.ts';
import { writeVerified } from './verified-write.ts';

/** The store itself; s3-artifact-store.ts loads this module (and the SDK) on first use. */
export function openS3ClientStore(options: S3ArtifactStoreOptions): ArtifactStore {
  const { bucket, prefix } = options;
  const location = s3Location(options);
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: async () => options.credentials!() } : {}),
    // The SDK's own retries (3 attempts, backoff) cover a dropped connection; a refusal is final.
    maxAttempts: 3,
    // Downloads are checked against the digest the engine kept (verified-write.ts), not against
    // a checksum the server returns beside the bytes: whoever replaced the object set that too.
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const keyOf = (object: ArtifactObject) => `${prefix}sha256/${digestHex(object.digest)}`;
  const failed = (what: string, key: string, cause: unknown): ArtifactStoreError =>
    new ArtifactStoreError(`cannot ${what} ${location}${key}: ${describeS3(cause)}`, {
      cause,
      retryable: !(cause instanceof S3ServiceException) || (cause.$metadata.httpStatusCode ?? 500) >= 500,
      hint: 'check MAESTRO_ARTIFACT_STORE, MAESTRO_ARTIFACT_STORE_ENDPOINT and the AWS_* credentials (docs/runtime.md)',
    });

  return {
    kind: 's3',
    location,
    async put(object, file) {
      const key = keyOf(object);
      if (await exists(client, bucket, key).catch((error) => Promise.reject(failed('look up', key, error))))
        return;
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: createReadStream(file),
            ContentLength: object.size,
            ChecksumSHA256: Buffer.from(digestHex(object.digest), 'hex').toString('base64'),
          }),
        );
      } catch (error) {
        throw failed('upload to', key, error);
      }
    },
    async get(object, target, getOptions = {}) {
      const key = keyOf(object);
      let body: AsyncIterable<Uint8Array>;
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        body = answer.Body as AsyncIterable<Uint8Array>;
      } catch (error) {
        throw failed('download', key, error);
      }
      await writeVerified(body, object, target, location, getOptions.executable).catch((error: unknown) => {
        throw isMaestroError(error) ? error : failed('download', key, error);
      });
    },
    async presignGet(object, ttlSeconds) {
      const key = keyOf(object);
      return presign(client, new GetObjectCommand({ Bucket: bucket, Key: key }), ttlSeconds, (error) =>
        failed('sign a download of', key, error),
      );
    },
    uploads: s3Uploads(client, options, failed),
    close() {
      client.destroy();
    },
  };
}

/**
 * Uploads are `<prefix>uploads/<name>.tar`, beside the content-addressed objects and never read
 * as one: the engine hashes what it extracts. A lifecycle rule on that prefix (docs/runtime.md)
 * removes what an engine that died before reading it left behind.
 */
function s3Uploads(
  client: S3Client,
  options: S3ArtifactStoreOptions,
  failed: (what: string, key: string, cause: unknown) => ArtifactStoreError,
): ArtifactUploads {
  const { bucket, prefix } = options;
  const maxBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const keyOf = (name: string) => `${prefix}uploads/${checkUploadName(name)}.tar`;
  const location = (key: string) => `s3://${bucket}/${key}`;
  return {
    maxBytes,
    async presignPut(name, ttlSeconds) {
      const key = keyOf(name);
      return presign(client, new PutObjectCommand({ Bucket: bucket, Key: key }), ttlSeconds, (error) =>
        failed('sign an upload to', key, error),
      );
    },
    async open(name) {
      const key = keyOf(name);
      const size = await sizeOf(client, bucket, key).catch((error) =>
        Promise.reject(failed('look up', key, error)),
      );
      if (size === undefined) return undefined;
      if (size > maxBytes) throw new ArtifactUploadTooLargeError(location(key), maxBytes, size);
      let body: AsyncIterable<Uint8Array>;
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        body = answer.Body as AsyncIterable<Uint8Array>;
      } catch (error) {
        throw failed('download', key, error);
      }
      // The object can be replaced between the look and the read: the bound holds on the bytes.
      return bounded(body, maxBytes, location(key));
    },
    async remove(name) {
      const key = keyOf(name);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        throw failed('remove', key, error);
      }
    },
  };
}

/** A URL for one request on one key, without credentials, valid for `ttlSeconds`. */
async function presign(
  client: S3Client,
  command: GetObjectCommand | PutObjectCommand,
  ttlSeconds: number,
  failure: (error: unknown) => Error,
): Promise<string> {
  try {
    return await getSignedUrl(client, command, { expiresIn: ttlSeconds });
  } catch (error) {
    throw failure(error);
  }
}

async function* bounded(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  location: string,
): AsyncIterable<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new ArtifactUploadTooLargeError(location, maxBytes, 'more');
    yield chunk;
  }
}

async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  return (await sizeOf(client, bucket, key)) !== undefined;
}

/** The stored object's size, or undefined when there is none. */
async function sizeOf(client: S3Client, bucket: string, key: string): Promise<number | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength ?? 0;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
    throw error;
  }
}

/** The service's error name and status, or the error's message: never a request or its headers. */
function describeS3(error: unknown): string {
  if (error instanceof S3ServiceException)
    return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})`;
  return error instanceof Error ? error.message : String(error);
}
