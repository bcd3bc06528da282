import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Spool, SpoolFile } from './spool.ts';

/** A body received in full: its size, both digests, and its bytes on demand. */
export interface ReceivedBody {
  size: number;
  /** HMAC-SHA256 of the bytes with the webhook secret (what `X-Hub-Signature-256` must equal). */
  hmac: Buffer;
  /** `sha256:<hex>` of the bytes (the replay key). */
  digest: string;
  /** The bytes (from memory, or read back from the spool file, which is then deleted). */
  read(): Promise<Buffer>;
  /** Drops the bytes (deletes the spool file). */
  discard(): Promise<void>;
}

/** Why a body was not received. */
export type BodyFailure = 'too_large' | 'aborted' | 'client_closed' | 'spool_failed';

export class BodyNotReceivedError extends Error {
  readonly reason: BodyFailure;
  constructor(reason: BodyFailure) {
    super(`request body not received: ${reason}`);
    this.reason = reason;
  }
}

export interface ReceiveOptions {
  secret: string;
  maxBytes: number;
  /** Bytes kept in memory; past this the body goes to a spool file. */
  memoryBytes: number;
  spool: Spool;
  /** Aborting stops reading and deletes what was spooled (the deadline uses it). */
  signal: AbortSignal;
  /** Told the size of every chunk read (see collect-garbage.ts). */
  onBytes?: (bytes: number) => void;
}

/**
 * Reads a request body as it streams: each chunk updates the HMAC and the SHA-256, then stays in
 * memory until `memoryBytes`, after which everything goes to a spool file. While a chunk is being
 * written the request is paused, so a fast sender cannot pile chunks up in memory: the kernel's
 * socket buffers hold the backlog instead. Memory per body is therefore `memoryBytes` plus one
 * chunk, however large the body or slow the disk. (Hand-written rather than a body-parser: none
 * hashes, spools past a threshold and honours a deadline together, and that is the whole job.)
 */
export function receiveBody(request: Readable, options: ReceiveOptions): Promise<ReceivedBody> {
  const hmac = createHmac('sha256', options.secret);
  const sha = createHash('sha256');
  let size = 0;
  let memory: Buffer[] = [];
  let memorySize = 0;
  let file: SpoolFile | undefined;
  let writing: Promise<void> = Promise.resolve();
  let failed = false;

  const discard = async () => {
    memory = [];
    await writing.catch(() => {});
    if (file) await options.spool.remove(file);
  };

  return new Promise<ReceivedBody>((resolve, reject) => {
    const detach = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      options.signal.removeEventListener('abort', onAbort);
    };
    const fail = (reason: BodyFailure) => {
      if (failed) return;
      failed = true;
      detach();
      request.pause();
      void discard().finally(() => reject(new BodyNotReceivedError(reason)));
    };
    const spill = (chunk: Buffer) => {
      request.pause();
      writing = writing
        .then(async () => {
          if (!file) {
            file = await options.spool.create();
            const held = Buffer.concat(memory);
            memory = [];
            await file.handle.write(held);
          }
          await file.handle.write(chunk);
        })
        .then(
          () => {
            if (!failed) request.resume();
          },
          () => fail('spool_failed'),
        );
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) return fail('too_large');
      hmac.update(chunk);
      sha.update(chunk);
      options.onBytes?.(chunk.length);
      if (file || memorySize + chunk.length > options.memoryBytes) return spill(chunk);
      memory.push(chunk);
      memorySize += chunk.length;
    };
    const onEnd = () => {
      detach();
      void writing.then(() => {
        if (failed) return;
        const held = memory;
        resolve({
          size,
          hmac: hmac.digest(),
          digest: `sha256:${sha.digest('hex')}`,
          read: async () => {
            if (!file) return Buffer.concat(held);
            await file.handle.close();
            try {
              return await readFile(file.path);
            } finally {
              await options.spool.remove(file);
            }
          },
          discard,
        });
      });
    };
    const onError = () => fail('client_closed');
    const onClose = () => {
      if (!request.readableEnded) fail('client_closed');
    };
    const onAbort = () => fail('aborted');
    if (options.signal.aborted) return fail('aborted');
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
    options.signal.addEventListener('abort', onAbort);
  });
}
