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
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isMaestroError } from '../../core/index.ts';
import { ArtifactStoreError, digestHex, type ArtifactObject, type ArtifactStore } from './artifact-store.ts';
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
      try {
        return await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
          expiresIn: ttlSeconds,
        });
      } catch (error) {
        throw failed('sign a download of', key, error);
      }
    },
    close() {
      client.destroy();
    },
  };
}

async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
    throw error;
  }
}

/** The service's error name and status, or the error's message: never a request or its headers. */
function describeS3(error: unknown): string {
  if (error instanceof S3ServiceException)
    return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})`;
  return error instanceof Error ? error.message : String(error);
}
