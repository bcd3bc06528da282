// Moving one blob between a workspace file and Azure Blob Storage (provider: azure): a single
// Put Blob up to the part size, blocks above it (Put Block for each, read from the file one at a
// time, then Put Block List: Azure's multipart), a streamed download, list and delete.
//
// A put is idempotent, so a retried attempt does not upload twice: the blob records the sha256 of
// its bytes in its metadata (maestrosha256), and a put finding the same size and sha256 there
// sends nothing (skipped). Block ids carry their index and their bytes' sha256, so a retry after
// a failure part-way stages only the blocks the service does not already hold uncommitted
// (same id = same bytes at the same place), then commits the list.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { saveCounted, type Moved, type PutRequest } from './transfer.ts';

export type AzureMoved = Moved & { skipped: boolean; sent: number };

export async function azurePut(container: ContainerClient, request: PutRequest): Promise<AzureMoved> {
  const { size } = await stat(request.file);
  const sha256 = await fileSha256(request.file, request.signal);
  const blob = container.getBlockBlobClient(request.key);
  const total = Math.max(1, Math.ceil(size / request.partSize));
  const existing = await blob.getProperties({ abortSignal: request.signal }).catch((error: unknown) => {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  });
  if (existing?.metadata?.maestrosha256 === sha256 && existing.contentLength === size)
    return { size, sha256, etag: existing.etag ?? '', parts: total, skipped: true, sent: 0 };
  const options = {
    abortSignal: request.signal,
    metadata: { maestrosha256: sha256 },
    ...(request.contentType ? { blobHTTPHeaders: { blobContentType: request.contentType } } : {}),
  };
  const handle = await open(request.file, 'r');
  try {
    if (size <= request.partSize) {
      const body = await handle.readFile();
      const sent = await blob.uploadData(body, options);
      return { size, sha256, etag: sent.etag ?? '', parts: 1, skipped: false, sent: size };
    }
    const staged = await stagedBlocks(blob, request.signal);
    const ids: string[] = [];
    let sent = 0;
    for (let index = 0; index < total; index++) {
      const length = Math.min(request.partSize, size - index * request.partSize);
      const body = Buffer.alloc(length);
      await handle.read(body, 0, length, index * request.partSize);
      const id = blockId(index, body);
      ids.push(id);
      if (staged.get(id) !== length) {
        await blob.stageBlock(id, body, length, { abortSignal: request.signal });
        sent += length;
      }
      request.onPart?.(index + 1, total);
    }
    const done = await blob.commitBlockList(ids, options);
    return { size, sha256, etag: done.etag ?? '', parts: total, skipped: false, sent };
  } finally {
    await handle.close();
  }
}

/** The blob's uncommitted blocks (id → size); none when the blob does not exist yet. */
async function stagedBlocks(blob: BlockBlobClient, signal: AbortSignal): Promise<Map<string, number>> {
  try {
    const list = await blob.getBlockList('uncommitted', { abortSignal: signal });
    return new Map((list.uncommittedBlocks ?? []).map((b) => [b.name, b.size]));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return new Map();
    throw error;
  }
}

/** Azure wants base64 ids of one length per blob: the index and the bytes' digest, 48 bytes. */
function blockId(index: number, body: Buffer): string {
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 40);
  return Buffer.from(`${String(index).padStart(7, '0')}-${digest}`).toString('base64');
}

export async function azureGet(
  container: ContainerClient,
  request: { key: string; file: string; signal: AbortSignal },
): Promise<Moved> {
  const got = await container
    .getBlockBlobClient(request.key)
    .download(0, undefined, { abortSignal: request.signal });
  const saved = await saveCounted(got.readableStreamBody as Readable, request.file, request.signal);
  return { ...saved, etag: got.etag ?? '', parts: 1 };
}

export async function azureList(
  container: ContainerClient,
  prefix: string | undefined,
  maxKeys: number,
  signal: AbortSignal,
) {
  const keys: { key: string; size: number }[] = [];
  let truncated = false;
  const pages = container
    .listBlobsFlat({ ...(prefix ? { prefix } : {}), abortSignal: signal })
    .byPage({ maxPageSize: Math.min(1000, maxKeys) });
  for await (const page of pages) {
    for (const item of page.segment.blobItems) {
      if (keys.length === maxKeys) {
        truncated = true;
        break;
      }
      keys.push({ key: item.name, size: Number(item.properties.contentLength ?? 0) });
    }
    if (truncated || keys.length === maxKeys) {
      truncated ||= Boolean(page.continuationToken);
      break;
    }
  }
  return { keys, count: keys.length, truncated };
}

export async function azureDelete(container: ContainerClient, key: string, signal: AbortSignal) {
  await container.getBlockBlobClient(key).delete({ abortSignal: signal, deleteSnapshots: 'include' });
}

async function fileSha256(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
