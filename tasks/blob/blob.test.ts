// tasks/blob in-process (runTask, the lifecycle the runner starts) against a real S3-compatible
// server (gofakes3 over HTTP, test/setup/s3-server.ts): put (single and multipart), get, list,
// delete, and the errors, each naming its input.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { startS3Server, type S3Server } from '../../test/setup/s3-server.ts';
import { blob } from './index.ts';

let server: S3Server;
const spans = recordTaskSpans();
const workspace = mkdtempSync(join(tmpdir(), 'maestro-blob-'));
const big = randomBytes(11 * 1024 * 1024 + 123); // three parts of 5 MiB
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  server = await startS3Server('reports');
  writeFileSync(join(workspace, 'small.txt'), 'hello, bucket\n');
  writeFileSync(join(workspace, 'big.bin'), big);
}, 30_000);
afterAll(() => server?.stop());

const secrets = () => ({
  AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
});
const run = (inputs: Record<string, unknown>) =>
  runTask(
    blob,
    { bucket: 'reports', endpoint: server.endpoint, ...inputs },
    { workspace, secrets: secrets() },
  );

describe('tasks/blob against an S3-compatible server', () => {
  it('puts a small file in one request and gets it back byte for byte', async () => {
    const put = await run({
      operation: 'put',
      key: 'daily/small.txt',
      file: 'small.txt',
      contentType: 'text/plain',
    });
    expect(put.outcome, String(put.error)).toBe('succeeded');
    expect(put.outputs).toMatchObject({ size: 14, parts: 1, sha256: sha(Buffer.from('hello, bucket\n')) });
    const got = await run({ operation: 'get', key: 'daily/small.txt', file: 'out/copy.txt' });
    expect(got.outputs).toMatchObject({ size: 14, sha256: put.outputs.sha256 });
    expect(readFileSync(join(workspace, 'out/copy.txt'), 'utf8')).toBe('hello, bucket\n');
    expect(got.artifacts).toEqual(['out/copy.txt']);
  });

  it('uploads a file larger than the part size in parts (multipart), with progress; the object is whole', async () => {
    const put = await run({ operation: 'put', key: 'daily/big.bin', file: 'big.bin', partSizeMiB: 5 });
    expect(put.outcome, String(put.error)).toBe('succeeded');
    expect(put.outputs).toMatchObject({ size: big.byteLength, parts: 3, sha256: sha(big) });
    expect(put.messages.filter((m) => m.type === 'progress').map((m) => m.done)).toEqual([1, 2, 3]);
    const object = await server
      .client()
      .send(new GetObjectCommand({ Bucket: 'reports', Key: 'daily/big.bin' }));
    expect(sha(Buffer.from(await object.Body!.transformToByteArray()))).toBe(sha(big));
  });

  it('lists keys under a prefix in order (truncated at maxKeys), and deletes one', async () => {
    const listed = await run({ operation: 'list', prefix: 'daily/' });
    expect(listed.outputs).toEqual({
      keys: [
        { key: 'daily/big.bin', size: big.byteLength },
        { key: 'daily/small.txt', size: 14 },
      ],
      count: 2,
      truncated: false,
    });
    expect((await run({ operation: 'list', prefix: 'daily/', maxKeys: 1 })).outputs).toMatchObject({
      count: 1,
      truncated: true,
    });
    expect((await run({ operation: 'delete', key: 'daily/big.bin' })).outcome).toBe('succeeded');
    expect((await run({ operation: 'list', prefix: 'daily/' })).outputs).toMatchObject({ count: 1 });
  });

  it('a missing key fails naming the object, not retryable; a missing secret names the env: line', async () => {
    const missing = await run({ operation: 'get', key: 'daily/nothing', file: 'x' });
    expect(missing.error).toMatchObject({ code: 'blob_request_failed', retryable: false, fault: 'user' });
    expect((missing.error as Error).message).toMatch(/^get s3:\/\/reports\/daily\/nothing failed: NoSuchKey/);
    const unsigned = await runTask(
      blob,
      { operation: 'list', bucket: 'reports', endpoint: server.endpoint },
      { workspace },
    );
    expect(unsigned.error).toMatchObject({
      code: 'secret_missing',
      hint: expect.stringContaining('AWS_ACCESS_KEY_ID'),
    });
  });

  it('no secret key in any message; a file outside the workspace or credentials in endpoint are refused', async () => {
    const outside = await run({ operation: 'put', key: 'k', file: '../../etc/passwd' });
    expect(outside.error).toMatchObject({
      code: 'path_outside_workspace',
      message: expect.stringMatching(/^\/file: /),
    });
    const inline = await run({
      operation: 'list',
      endpoint: `http://id:${server.credentials.secretAccessKey}@127.0.0.1:1`,
    });
    expect(inline.error).toMatchObject({ code: 'blob_endpoint_invalid' });
    for (const r of [outside, inline, await run({ operation: 'list' })])
      expect(JSON.stringify([r.messages, String(r.error)])).not.toContain(server.credentials.secretAccessKey);
  });

  it('the attack: a signed request over plain http:// beyond loopback is refused before sending', async () => {
    const far = await run({ operation: 'list', endpoint: 'http://s3.example.com:9000' });
    expect(far.error).toMatchObject({ code: 'blob_endpoint_insecure' });
  });

  it('each operation is a span, a child of the attempt’s TRACEPARENT: its provider, operation, bucket, bytes, and a failure’s code', async () => {
    spans.take();
    const put = await runTask(
      blob,
      {
        bucket: 'reports',
        endpoint: server.endpoint,
        operation: 'put',
        key: 'span/small.txt',
        file: 'small.txt',
      },
      { workspace, secrets: { ...secrets(), TRACEPARENT } },
    );
    expect(put.outcome, String(put.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'blob');
    expect(span.name).toBe('blob put');
    expect(span.status.code).toBe(SpanStatusCode.OK);
    expect(span.attributes).toEqual({
      'maestro.blob.provider': 's3',
      'maestro.blob.operation': 'put',
      'aws.s3.bucket': 'reports',
      'maestro.blob.bytes': 14,
    });
    const missing = await runTask(
      blob,
      { bucket: 'reports', endpoint: server.endpoint, operation: 'get', key: 'span/none', file: 'none.txt' },
      { workspace, secrets: { ...secrets(), TRACEPARENT } },
    );
    expect(missing.outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'blob');
    expect([failed.name, failed.status.code, failed.attributes['error.type']]).toEqual([
      'blob get',
      SpanStatusCode.ERROR,
      'blob_request_failed',
    ]);
  });

  it('reports every input problem with its path', async () => {
    const result = await runTask(blob, { operation: 'put', bucket: 'reports', prefix: 'x' });
    expect(result.errors).toEqual([
      { path: '/key', message: 'put needs key' },
      { path: '/file', message: 'put needs file' },
      { path: '/prefix', message: 'only list takes it' },
    ]);
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(blob.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(blob.spec.outputs.properties ?? {}));
    expect([manifest.name, manifest.version, manifest.description]).toEqual([
      blob.name,
      blob.version,
      blob.description,
    ]);
  });
});
