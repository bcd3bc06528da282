// tasks/blob with provider: azure in-process (runTask) against a real Azurite (the npm
// devDependency, test/setup/azurite.ts: a free port, in memory, an account of this test's own
// random key, so Shared Key signatures are checked): put (single and blocks), get, list,
// delete, a retry that does not upload twice, and credentials refused in with:.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { SpanStatusCode } from '@opentelemetry/api';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { startAzurite, type Azurite } from '../../test/setup/azurite.ts';
import { blob } from './index.ts';

const workspace = mkdtempSync(join(tmpdir(), 'maestro-azblob-'));
const big = randomBytes(11 * 1024 * 1024 + 77); // three blocks of 5 MiB
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let azurite: Azurite;
let account: string;
let key: string;
let endpoint: string;
let container: ContainerClient;
const spans = recordTaskSpans();

beforeAll(async () => {
  azurite = await startAzurite();
  ({ account, key, endpoint } = azurite);
  container = new ContainerClient(`${endpoint}/reports`, new StorageSharedKeyCredential(account, key));
  await container.create();
  writeFileSync(join(workspace, 'small.txt'), 'hello, container\n');
  writeFileSync(join(workspace, 'big.bin'), big);
}, 60_000);
afterAll(() => azurite?.stop());

const secrets = () => ({ AZURE_STORAGE_ACCOUNT: account, AZURE_STORAGE_KEY: key });
const run = (inputs: Record<string, unknown>, options: { signal?: AbortSignal } = {}) =>
  runTask(
    blob,
    { provider: 'azure', bucket: 'reports', endpoint, ...inputs },
    { workspace, secrets: secrets(), ...options },
  );
/**
 * A proxy in front of Azurite that forwards every request until the third Put Block, then aborts
 * `stop` and never answers it. Shared Key signs the path, not the host, so signatures still hold.
 */
async function cancelOnThirdBlock(target: string, stop: AbortController) {
  const upstream = new URL(target);
  let blocks = 0;
  const server = createServer((req, res) => {
    if (req.method === 'PUT' && /[?&]comp=block(&|$)/.test(req.url ?? '') && ++blocks >= 3) {
      stop.abort(new Error('cancelled at the third block'));
      return; // held: the client's abort closes it
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}${upstream.pathname}`,
    get blocks() {
      return blocks;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}
const leaks = (r: unknown) => JSON.stringify(r, (_k, v: unknown) => (v instanceof Error ? String(v) : v));

describe('tasks/blob provider azure against Azurite', () => {
  it('puts a small file, gets it back byte for byte, lists, deletes', async () => {
    const put = await run({ operation: 'put', key: 'daily/small.txt', file: 'small.txt' });
    expect(put.outcome, String(put.error)).toBe('succeeded');
    expect(put.outputs).toMatchObject({
      size: 17,
      parts: 1,
      skipped: false,
      sha256: sha(Buffer.from('hello, container\n')),
    });
    const got = await run({ operation: 'get', key: 'daily/small.txt', file: 'out/copy.txt' });
    expect(got.outputs).toMatchObject({ size: 17, sha256: put.outputs.sha256 });
    expect(readFileSync(join(workspace, 'out/copy.txt'), 'utf8')).toBe('hello, container\n');
    expect((await run({ operation: 'list', prefix: 'daily/' })).outputs).toEqual({
      keys: [{ key: 'daily/small.txt', size: 17 }],
      count: 1,
      truncated: false,
    });
    expect((await run({ operation: 'delete', key: 'daily/small.txt' })).outcome).toBe('succeeded');
    expect((await run({ operation: 'list', prefix: 'daily/' })).outputs).toMatchObject({ count: 0 });
    const missing = await run({ operation: 'get', key: 'daily/small.txt', file: 'x' });
    expect(missing.error).toMatchObject({ code: 'blob_request_failed', retryable: false });
    expect((missing.error as Error).message).toMatch(/BlobNotFound/);
  });

  it('a large file goes in blocks; a retry after a failure part-way stages only the missing block, and a second put sends nothing', async () => {
    // Cancel the put when it asks to stage its third block (the list is never committed). A
    // proxy decides this on the request itself: watching Azurite's uncommitted list from here
    // raced the upload under load (the put sometimes committed before the abort landed).
    const stop = new AbortController();
    const proxy = await cancelOnThirdBlock(endpoint, stop);
    const first = runTask(
      blob,
      {
        provider: 'azure',
        bucket: 'reports',
        endpoint: proxy.endpoint,
        operation: 'put',
        key: 'big.bin',
        file: 'big.bin',
        partSizeMiB: 5,
      },
      { workspace, secrets: secrets(), signal: stop.signal },
    );
    const failed = await first;
    await proxy.close();
    expect(proxy.blocks).toBe(3);
    expect(failed.outcome).not.toBe('succeeded');
    const retry = await run({ operation: 'put', key: 'big.bin', file: 'big.bin', partSizeMiB: 5 });
    expect(retry.outcome, String(retry.error)).toBe('succeeded');
    expect(retry.outputs).toMatchObject({ size: big.byteLength, parts: 3, skipped: false, sha256: sha(big) });
    const sent = retry.messages.find((m) => m.type === 'metric') as { value: number };
    expect(sent.value).toBeLessThan(big.byteLength); // the staged blocks were not sent again
    const committed = await container.getBlockBlobClient('big.bin').getBlockList('committed');
    expect(committed.committedBlocks).toHaveLength(3);
    expect(sha(await container.getBlockBlobClient('big.bin').downloadToBuffer())).toBe(sha(big));
    const again = await run({ operation: 'put', key: 'big.bin', file: 'big.bin', partSizeMiB: 5 });
    expect(again.outputs).toMatchObject({ skipped: true, sha256: sha(big) });
    expect((again.messages.find((m) => m.type === 'metric') as { value: number }).value).toBe(0);
  }, 60_000);

  it('each operation is a span, a child of the attempt’s TRACEPARENT: provider, operation, bytes sent; a failure’s code', async () => {
    spans.take();
    const options = { workspace, secrets: { ...secrets(), TRACEPARENT } };
    const inputs = {
      provider: 'azure',
      bucket: 'reports',
      endpoint,
      operation: 'put',
      key: 'span/small.txt',
      file: 'small.txt',
    };
    expect((await runTask(blob, inputs, options)).outcome).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'blob');
    expect([span.name, span.status.code]).toEqual(['blob put', SpanStatusCode.OK]);
    expect(span.attributes).toEqual({
      'cloud.provider': 'azure',
      'maestro.blob.operation': 'put',
      'maestro.blob.bytes_sent': 17,
    });
    const missing = { ...inputs, operation: 'get', key: 'span/none', file: 'none.txt' };
    expect((await runTask(blob, missing, options)).outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'blob');
    expect([failed.name, failed.status.code, failed.attributes['error.type']]).toEqual([
      'blob get',
      SpanStatusCode.ERROR,
      'blob_request_failed',
    ]);
  });

  it('a wrong key is refused by the server; the key never appears in outputs, messages or errors', async () => {
    const wrong = await runTask(
      blob,
      { provider: 'azure', bucket: 'reports', endpoint, operation: 'list' },
      {
        workspace,
        secrets: { AZURE_STORAGE_ACCOUNT: account, AZURE_STORAGE_KEY: randomBytes(32).toString('base64') },
      },
    );
    expect(wrong.error).toMatchObject({ code: 'blob_request_failed', fault: 'user' });
    const ok = await run({ operation: 'put', key: 'k.txt', file: 'small.txt' });
    for (const r of [wrong, ok, await run({ operation: 'list' })]) expect(leaks(r)).not.toContain(key);
  });

  it('credentials in with: are refused before any request: a SAS or key in the endpoint, a connection string', async () => {
    const sas = `sv=2024-01-01&sig=${encodeURIComponent(key)}`;
    const inputs = [
      `${endpoint}?${sas}`,
      `http://u:${encodeURIComponent(key)}@127.0.0.1:1/${account}`,
      `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${endpoint};`,
    ];
    for (const bad of inputs) {
      const r = await run({ operation: 'list', endpoint: bad });
      expect(r.error).toMatchObject({ code: 'blob_endpoint_invalid' });
      expect(leaks(r)).not.toContain(key);
    }
    const extra = await runTask(blob, {
      provider: 'azure',
      bucket: 'reports',
      operation: 'list',
      accountKey: key,
    });
    expect(extra.outcome).not.toBe('succeeded');
  });

  it('http:// beyond loopback is refused (credentials would cross in clear); a SAS in env: works', async () => {
    const far = await run({ operation: 'list', endpoint: 'http://storage.example.com/acct' });
    expect(far.error).toMatchObject({ code: 'blob_endpoint_insecure' });
    const sasToken = container.generateSasUrl
      ? new URL(
          await container.generateSasUrl({
            permissions: (await import('@azure/storage-blob')).ContainerSASPermissions.parse('rl'),
            expiresOn: new Date(Date.now() + 3600_000),
          }),
        ).search
      : '';
    const viaSas = await runTask(
      blob,
      { provider: 'azure', bucket: 'reports', endpoint, operation: 'list' },
      { workspace, secrets: { AZURE_STORAGE_SAS_TOKEN: sasToken } },
    );
    expect(viaSas.outcome, String(viaSas.error)).toBe('succeeded');
    const sig = new URLSearchParams(sasToken).get('sig') as string;
    expect(leaks(viaSas)).not.toContain(sig);
    const none = await runTask(
      blob,
      { provider: 'azure', bucket: 'reports', endpoint, operation: 'list' },
      { workspace },
    );
    expect(none.error).toMatchObject({ code: 'secret_missing' });
  });
});
