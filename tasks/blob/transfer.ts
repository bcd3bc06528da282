// Moving one object between a workspace file and S3: a single PUT up to the part size, a
// multipart upload above it (parts read from the file one at a time, so memory stays at one
// part), and a streamed GET. Each computes the sha256 of the bytes it moved, the output a later
// task (or a receipt reader) checks the object by.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export type Moved = {
  size: number;
  sha256: string;
  etag: string;
  parts: number;
};

export interface PutRequest {
  bucket: string;
  key: string;
  file: string;
  contentType?: string;
  partSize: number;
  signal: AbortSignal;
  onPart?: (done: number, total: number) => void;
}

export async function putFile(client: S3Client, request: PutRequest): Promise<Moved> {
  const { size } = await stat(request.file);
  const handle = await open(request.file, 'r');
  try {
    if (size <= request.partSize) {
      const body = await handle.readFile();
      const sent = await client.send(
        new PutObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          Body: body,
          ContentLength: size,
          ...(request.contentType ? { ContentType: request.contentType } : {}),
        }),
        { abortSignal: request.signal },
      );
      return { size, sha256: sha256Hex(body), etag: sent.ETag ?? '', parts: 1 };
    }
    return await putMultipart(client, request, handle, size);
  } finally {
    await handle.close();
  }
}

async function putMultipart(
  client: S3Client,
  request: PutRequest,
  handle: Awaited<ReturnType<typeof open>>,
  size: number,
): Promise<Moved> {
  const { bucket: Bucket, key: Key, signal } = request;
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      ...(request.contentType ? { ContentType: request.contentType } : {}),
    }),
    { abortSignal: signal },
  );
  const UploadId = created.UploadId as string;
  const hash = createHash('sha256');
  const total = Math.ceil(size / request.partSize);
  const parts: { ETag: string; PartNumber: number }[] = [];
  try {
    for (let PartNumber = 1; PartNumber <= total; PartNumber++) {
      const length = Math.min(request.partSize, size - (PartNumber - 1) * request.partSize);
      const body = Buffer.alloc(length);
      await handle.read(body, 0, length, (PartNumber - 1) * request.partSize);
      hash.update(body);
      const sent = await client.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: length }),
        { abortSignal: signal },
      );
      parts.push({ ETag: sent.ETag as string, PartNumber });
      request.onPart?.(PartNumber, total);
    }
    const done = await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      { abortSignal: signal },
    );
    return { size, sha256: hash.digest('hex'), etag: done.ETag ?? '', parts: total };
  } catch (error) {
    // Leave no half-uploaded parts behind to be billed for (best effort: the error is the news).
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw error;
  }
}

export async function getFile(
  client: S3Client,
  request: { bucket: string; key: string; file: string; signal: AbortSignal },
): Promise<Moved> {
  const got = await client.send(new GetObjectCommand({ Bucket: request.bucket, Key: request.key }), {
    abortSignal: request.signal,
  });
  const saved = await saveCounted(got.Body as Readable, request.file, request.signal);
  return { ...saved, etag: got.ETag ?? '', parts: 1 };
}

/** Streams a downloaded body into `file`, hashing and counting it on the way (both providers). */
export async function saveCounted(
  body: Readable,
  file: string,
  signal: AbortSignal,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.byteLength;
      callback(null, chunk);
    },
  });
  await pipeline(body, counting, createWriteStream(file), { signal });
  return { size, sha256: hash.digest('hex') };
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
