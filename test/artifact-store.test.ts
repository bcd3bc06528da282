/**
 * The ArtifactStore port on both implementations: the data directory's content store and S3 on
 * a real S3-compatible server (gofakes3, its own process, test/setup/s3-server.ts) through the
 * real AWS SDK. The attack: someone who can write the bucket replaces an object after its
 * producer kept it; `get` must refuse it and leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  dataDirArtifactStore,
  s3ArtifactStore,
  type ArtifactObject,
  type ArtifactStore,
} from '../engine/index.ts';
import { startS3Server, type S3Server } from './setup/s3-server.ts';
import { tempDir } from './helpers/engine-fixtures.ts';

function objectOf(bytes: Buffer): ArtifactObject {
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

function fileWith(dir: string, name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.stop();
});

interface Impl {
  name: string;
  open(): { store: ArtifactStore; tamper(object: ArtifactObject, bytes: Buffer): Promise<void> };
}

const impls: Impl[] = [
  {
    name: 'data dir',
    open() {
      const dataDir = tempDir('maestro-as-data-');
      return {
        store: dataDirArtifactStore(dataDir),
        async tamper(object, bytes) {
          const path = join(dataDir, 'artifacts', 'sha256', object.digest.slice(7));
          chmodSync(path, 0o644);
          writeFileSync(path, bytes);
        },
      };
    },
  },
  {
    name: 's3 (gofakes3)',
    open() {
      const prefix = `t-${Math.random().toString(36).slice(2)}/`;
      const store = s3ArtifactStore(server.storeOptions(prefix));
      return {
        store,
        async tamper(object, bytes) {
          await server.client().send(
            new PutObjectCommand({
              Bucket: server.bucket,
              Key: `${prefix}sha256/${object.digest.slice(7)}`,
              Body: bytes,
            }),
          );
        },
      };
    },
  },
];

describe.each(impls)('the artifact store on $name', (impl) => {
  it('gives back the bytes it was given, read-only, executable when asked', async () => {
    const { store } = impl.open();
    const dir = tempDir('maestro-as-');
    const bytes = Buffer.from('#!/bin/sh\necho built\n');
    const object = objectOf(bytes);
    await store.put(object, fileWith(dir, 'hello', bytes));
    await store.put(object, fileWith(dir, 'again', bytes)); // content-addressed: a no-op
    await store.get(object, join(dir, 'got'), { executable: true });
    await store.get(object, join(dir, 'plain'));
    expect(readFileSync(join(dir, 'got'))).toEqual(bytes);
    expect(statSync(join(dir, 'got')).mode & 0o777).toBe(0o555);
    expect(statSync(join(dir, 'plain')).mode & 0o777).toBe(0o444);
    store.close();
  });

  it('refuses an object that was replaced after it was kept, and leaves nothing behind', async () => {
    const { store, tamper } = impl.open();
    const dir = tempDir('maestro-as-');
    const bytes = Buffer.from('the real build output\n');
    const object = objectOf(bytes);
    await store.put(object, fileWith(dir, 'out', bytes));
    await tamper(object, Buffer.from('the attacker build out\n'));
    const target = join(dir, 'received');
    await expect(store.get(object, target)).rejects.toMatchObject({ code: 'artifact_digest_mismatch' });
    expect(existsSync(target)).toBe(false);
    // Longer than the object (a truncated hash check would pass on a prefix): refused too.
    await tamper(object, Buffer.concat([bytes, Buffer.from('appended')]));
    await expect(store.get(object, target)).rejects.toMatchObject({ code: 'artifact_digest_mismatch' });
    expect(existsSync(target)).toBe(false);
    store.close();
  });

  it('names a missing object, and refuses a digest that is not sha256:<hex>', async () => {
    const { store } = impl.open();
    const dir = tempDir('maestro-as-');
    const absent = objectOf(Buffer.from('never stored'));
    await expect(store.get(absent, join(dir, 'x'))).rejects.toMatchObject({ code: 'artifact_store_error' });
    await expect(
      store.get({ digest: 'sha256:../../keys/receipt', size: 1 }, join(dir, 'y')),
    ).rejects.toMatchObject({ code: 'artifact_store_error' });
    store.close();
  });
});

describe('the S3 artifact store', () => {
  it('keeps one object per digest under <prefix>sha256/<hex>, checksummed', async () => {
    const prefix = 'layout/';
    const store = s3ArtifactStore(server.storeOptions(prefix));
    const dir = tempDir('maestro-as-');
    const bytes = Buffer.from('one object\n');
    const object = objectOf(bytes);
    await store.put(object, fileWith(dir, 'a', bytes));
    await store.put(object, fileWith(dir, 'b', bytes));
    const client = server.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${prefix}sha256/${object.digest.slice(7)}`]);
    const got = await client.send(
      new GetObjectCommand({ Bucket: server.bucket, Key: listed.Contents![0]!.Key }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(bytes);
    store.close();
  });

  it('presigns a GET of one object that needs no credentials, and holds no secret key', async () => {
    const store = s3ArtifactStore(server.storeOptions('presign/'));
    const dir = tempDir('maestro-as-');
    const bytes = Buffer.from('fetched by a pod\n');
    const object = objectOf(bytes);
    await store.put(object, fileWith(dir, 'p', bytes));
    const url = await store.presignGet!(object, 600);
    expect(url).toContain(`/presign/sha256/${object.digest.slice(7)}?`);
    expect(url).toContain('X-Amz-Expires=600');
    expect(url).not.toContain(server.credentials.secretAccessKey);
    const answer = await fetch(url);
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(bytes);
    store.close();
  });

  it('says which store failed without a credential in the error', async () => {
    const store = s3ArtifactStore({ ...server.storeOptions(''), bucket: 'no-such-bucket' });
    const dir = tempDir('maestro-as-');
    const bytes = Buffer.from('x');
    const error = await store.put(objectOf(bytes), fileWith(dir, 'x', bytes)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'artifact_store_error' });
    const text = JSON.stringify({
      message: (error as Error).message,
      hint: (error as { hint: string }).hint,
    });
    expect(text).toContain('s3://no-such-bucket/');
    expect(text).not.toContain(server.credentials.secretAccessKey);
    expect(text).not.toContain(server.credentials.accessKeyId);
    store.close();
  });
});
