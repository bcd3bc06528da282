// tasks/grpc in-process (runTask) against a real @grpc/grpc-js server on 127.0.0.1 that the test
// starts: unary and server-streaming calls described by .proto files of a workspace and by the
// server's reflection service (@grpc/reflection), deadlines, metadata, secrets, the span; TLS
// with a private CA (test/helpers/test-ca.ts) against the same server behind TLS; secrets never
// sent in clear beyond loopback (witnessed by a server on this machine's non-loopback address).
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpcJs from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { makeTestCa, type TestCa } from '../../test/helpers/test-ca.ts';
import { grpc } from './index.ts';

/** The protocol's bound on a checkpoint (docs/task-protocol.md, MAX_STATE_BYTES). */
const MAX_CHECKPOINT_BYTES = 1 << 20;

const COMMON = `syntax = "proto3";
package demo.common;
message Money { int64 cents = 1; string currency = 2; }
`;
const ORDERS = `syntax = "proto3";
package demo.orders;
import "common/money.proto";
message PlaceOrder { string item = 1; demo.common.Money price = 2; }
message Placed { string id = 1; demo.common.Money total = 2; string seen_idempotency_key = 3; string seen_auth = 4; }
message Watch { int32 count = 1; int32 delay_ms = 2; }
message Tick { int32 n = 1; }
service Orders {
  rpc Place (PlaceOrder) returns (Placed);
  rpc Ticks (Watch) returns (stream Tick);
  rpc Slow (Watch) returns (Placed);
  rpc Upload (stream Tick) returns (Placed);
}
`;

const workspace = mkdtempSync(join(tmpdir(), 'grpc-task-'));
mkdirSync(join(workspace, 'protos', 'common'), { recursive: true });
writeFileSync(join(workspace, 'protos', 'common', 'money.proto'), COMMON);
writeFileSync(join(workspace, 'protos', 'orders.proto'), ORDERS);

interface Req {
  item?: string;
  price?: unknown;
  count?: number;
  delay_ms?: number;
}

const calls: Array<{ method: string; metadata: Record<string, unknown> }> = [];
let placed = 0;
const spans = new InMemorySpanExporter();
let server: grpcJs.Server;
let url = '';
let bare: grpcJs.Server; // a server without reflection
let bareUrl = '';

function definition() {
  return loadSync(join(workspace, 'protos', 'orders.proto'), {
    includeDirs: [join(workspace, 'protos')],
    keepCase: true,
    longs: String,
  });
}

function handlers(): grpcJs.UntypedServiceImplementation {
  return {
    Place(call: grpcJs.ServerUnaryCall<Req, unknown>, done: grpcJs.sendUnaryData<unknown>) {
      calls.push({ method: 'Place', metadata: call.metadata.getMap() });
      if (call.request.item === 'nothing')
        return done({ code: grpcJs.status.INVALID_ARGUMENT, details: 'no such item' } as grpcJs.ServiceError);
      placed++;
      call.sendMetadata(new grpcJs.Metadata());
      done(null, {
        // 'big' answers with more than a checkpoint may hold (the protocol keeps at most 1 MiB).
        id: call.request.item === 'big' ? 'x'.repeat(MAX_CHECKPOINT_BYTES + 1000) : `order-${placed}`,
        total: call.request.price,
        seen_idempotency_key: String(call.metadata.get('idempotency-key')[0] ?? ''),
        seen_auth: String(call.metadata.get('authorization')[0] ?? ''),
      });
    },
    Ticks(call: grpcJs.ServerWritableStream<Req, unknown>) {
      calls.push({ method: 'Ticks', metadata: call.metadata.getMap() });
      let n = 0;
      const next = () => {
        if (call.cancelled) return;
        if (n >= (call.request.count ?? 0)) return call.end();
        call.write({ n: ++n });
        setTimeout(next, call.request.delay_ms ?? 0);
      };
      next();
    },
    Slow(call: grpcJs.ServerUnaryCall<Req, unknown>, done: grpcJs.sendUnaryData<unknown>) {
      const timer = setTimeout(() => done(null, { id: 'late' }), call.request.delay_ms ?? 0);
      call.on('cancelled', () => clearTimeout(timer));
    },
    Upload(_call: unknown, done: grpcJs.sendUnaryData<unknown>) {
      done(null, {});
    },
  };
}

async function listen(
  s: grpcJs.Server,
  host = '127.0.0.1',
  creds = grpcJs.ServerCredentials.createInsecure(),
): Promise<string> {
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync(`${host}:0`, creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  return `http://${host}:${port}`;
}

/** This machine's first non-loopback IPv4 address, where one exists. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
let lan: grpcJs.Server | undefined; // plaintext, on lanAddress
let lanUrl = '';
let tls: grpcJs.Server; // TLS with the test CA's certificate for 127.0.0.1
let tlsUrl = '';
let ca: TestCa;

beforeAll(async () => {
  const pkg = definition();
  server = new grpcJs.Server();
  const loaded = grpcJs.loadPackageDefinition(pkg) as unknown as {
    demo: { orders: { Orders: { service: grpcJs.ServiceDefinition } } };
  };
  server.addService(loaded.demo.orders.Orders.service, handlers());
  new ReflectionService(pkg).addToServer(server);
  url = await listen(server);
  bare = new grpcJs.Server();
  bare.addService(loaded.demo.orders.Orders.service, handlers());
  bareUrl = await listen(bare);
  ca = makeTestCa();
  tls = new grpcJs.Server();
  tls.addService(loaded.demo.orders.Orders.service, handlers());
  const tlsCreds = grpcJs.ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(ca.certPem), private_key: Buffer.from(ca.keyPem) }],
    false,
  );
  tlsUrl = (await listen(tls, '127.0.0.1', tlsCreds)).replace('http://', 'https://');
  if (lanAddress) {
    lan = new grpcJs.Server();
    lan.addService(loaded.demo.orders.Orders.service, handlers());
    lanUrl = await listen(lan, lanAddress);
  }
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(provider);
});
afterAll(() => {
  server.forceShutdown();
  bare.forceShutdown();
  tls?.forceShutdown();
  lan?.forceShutdown();
  ca?.remove();
  rmSync(workspace, { recursive: true, force: true });
});

const fromFiles = { protoFiles: ['protos/orders.proto'], includeDirs: ['protos'] };

describe('tasks/grpc against a @grpc/grpc-js server', () => {
  it('a unary call from .proto files of the workspace: the response as JSON, int64 as a string, metadata sent', async () => {
    calls.length = 0;
    const result = await runTask(
      grpc,
      {
        url,
        service: 'demo.orders.Orders',
        method: 'Place',
        ...fromFiles,
        request: { item: 'book', price: { cents: '9007199254740993', currency: 'EUR' } },
        metadata: { 'x-request-source': 'maestro' },
      },
      { workspace },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs.response).toMatchObject({
      id: expect.stringMatching(/^order-\d+$/),
      total: { cents: '9007199254740993', currency: 'EUR' }, // past 2^53: no precision lost
    });
    expect(result.outputs.status).toBe('OK');
    expect(calls[0]?.metadata['x-request-source']).toBe('maestro');
  });

  it('a server-streaming call by reflection: every message in order, a heartbeat each, maxMessages stops it', async () => {
    const all = await runTask(grpc, {
      url,
      service: 'demo.orders.Orders',
      method: 'Ticks',
      reflection: true,
      request: { count: 5, delay_ms: 1 },
    });
    expect(all.outcome, String(all.error)).toBe('succeeded');
    expect(all.outputs.messages).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(all.outputs.count).toBe(5);
    expect(all.heartbeats).toBe(5);
    const some = await runTask(grpc, {
      url,
      service: 'demo.orders.Orders',
      method: 'Ticks',
      reflection: true,
      request: { count: 1000, delay_ms: 1 },
      maxMessages: 3,
    });
    expect(some.outputs).toMatchObject({ count: 3, messages: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    expect(some.logs.map((l) => l.message)).toContain('grpc: stopped the stream after maxMessages (3)');
  });

  it('reflection on a server without it fails with a hint to give protoFiles; a wrong method lists the right ones', async () => {
    const none = await runTask(grpc, {
      url: bareUrl,
      service: 'demo.orders.Orders',
      method: 'Place',
      reflection: true,
    });
    expect(none.error).toMatchObject({
      code: 'grpc_reflection_failed',
      hint: expect.stringContaining('protoFiles'),
    });
    const wrong = await runTask(
      grpc,
      { url, service: 'demo.orders.Orders', method: 'Cancel', ...fromFiles },
      { workspace },
    );
    expect(wrong.error).toMatchObject({
      code: 'grpc_method_unknown',
      hint: 'its methods: Place, Ticks, Slow, Upload',
    });
    const client = await runTask(
      grpc,
      { url, service: 'demo.orders.Orders', method: 'Upload', ...fromFiles },
      { workspace },
    );
    expect(client.error).toMatchObject({ code: 'grpc_method_unsupported' });
  });

  it('the deadline ends a slow call with DEADLINE_EXCEEDED; a refusal is the status, not retryable', async () => {
    const slow = await runTask(
      grpc,
      {
        url,
        service: 'demo.orders.Orders',
        method: 'Slow',
        ...fromFiles,
        request: { delay_ms: 60_000 },
        deadlineMs: 200,
      },
      { workspace },
    );
    expect(slow.error).toMatchObject({ code: 'grpc_call_failed', fault: 'system' });
    expect((slow.error as Error).message).toContain('DEADLINE_EXCEEDED');
    const refused = await runTask(
      grpc,
      { url, service: 'demo.orders.Orders', method: 'Place', ...fromFiles, request: { item: 'nothing' } },
      { workspace },
    );
    expect(refused.error).toMatchObject({ code: 'grpc_call_failed', retryable: false, fault: 'user' });
    expect((refused.error as Error).message).toBe(
      `/demo.orders.Orders/Place on ${url.slice('http://'.length)} ended with INVALID_ARGUMENT: no such item`,
    );
    const down = await runTask(
      grpc,
      {
        url: 'http://127.0.0.1:1',
        service: 'demo.orders.Orders',
        method: 'Place',
        ...fromFiles,
        deadlineMs: 5000,
      },
      { workspace },
    );
    expect(down.error).toMatchObject({ code: 'grpc_call_failed', retryable: true });
  });

  it('idempotencyKey goes out as metadata and a retry returns the checkpointed answer without calling again', async () => {
    calls.length = 0;
    const inputs = {
      url,
      service: 'demo.orders.Orders',
      method: 'Place',
      ...fromFiles,
      request: { item: 'pen' },
      idempotencyKey: 'run-7/place',
    };
    const first = await runTask(grpc, inputs, { workspace });
    expect(first.outputs.response).toMatchObject({ seen_idempotency_key: 'run-7/place' });
    expect(first.states).toHaveLength(1);
    const retry = await runTask(grpc, inputs, { workspace, state: first.states[0] });
    expect(retry.outputs).toMatchObject({ replayed: true, response: first.outputs.response });
    expect(calls).toHaveLength(1);
  });

  it('a credential is refused in metadata (with: is stored) and sent from a secret through metadataSecrets, never logged', async () => {
    const inline = await runTask(
      grpc,
      {
        url,
        service: 'demo.orders.Orders',
        method: 'Place',
        ...fromFiles,
        metadata: { authorization: 'Bearer s3cr3t' },
      },
      { workspace },
    );
    expect(inline.outcome).toBe('invalid');
    expect(inline.errors).toEqual([
      {
        path: '/metadata/authorization',
        message: 'is a credential, which with: would store with the plan: name its secret in metadataSecrets',
      },
    ]);
    const inUrl = await runTask(grpc, {
      url: 'http://user:pw@127.0.0.1:1',
      service: 'demo.orders.Orders',
      method: 'Place',
      reflection: true,
    });
    expect(inUrl.errors[0]).toMatchObject({ path: '/url' });
    const viaSecret = await runTask(
      grpc,
      {
        url,
        service: 'demo.orders.Orders',
        method: 'Place',
        ...fromFiles,
        request: { item: 'key' },
        metadataSecrets: { authorization: 'GRPC_AUTH' },
      },
      { workspace, secrets: { GRPC_AUTH: 'Bearer s3cr3t-token' } },
    );
    expect(viaSecret.outputs.response).toMatchObject({ seen_auth: 'Bearer s3cr3t-token' });
    expect(JSON.stringify(viaSecret.logs)).not.toContain('s3cr3t');
    const escape = await runTask(
      grpc,
      { url, service: 'demo.orders.Orders', method: 'Place', protoFiles: ['../../etc/passwd'] },
      { workspace },
    );
    expect(escape.error).toMatchObject({ code: 'path_outside_workspace' });
  });

  it('the attack: metadataSecrets over plaintext http:// to a host beyond loopback are refused before anything is sent', async () => {
    calls.length = 0;
    const call = (target: string) =>
      runTask(
        grpc,
        {
          url: target,
          service: 'demo.orders.Orders',
          method: 'Place',
          ...fromFiles,
          request: { item: 'leak' },
          metadataSecrets: { authorization: 'GRPC_AUTH' },
        },
        { workspace, secrets: { GRPC_AUTH: 'Bearer s3cr3t-over-the-wire' } },
      );
    const targets = ['http://grpc.example:50051', ...(lanUrl ? [lanUrl] : [])];
    for (const target of targets) {
      const refused = await call(target);
      expect(refused.outcome, target).toBe('invalid');
      expect(refused.errors).toEqual([
        {
          path: '/url',
          message: `http:// would send metadataSecrets to ${new URL(target).hostname} in clear: use https:// (plaintext only to a loopback address)`,
        },
      ]);
    }
    // The server on this machine's own network address never saw the call (nor the secret).
    expect(calls).toEqual([]);
    // Plaintext to loopback still works (a server beside the runner), and without secrets anywhere.
    expect((await call(url)).outcome).toBe('succeeded');
    if (lanUrl)
      expect(
        (
          await runTask(
            grpc,
            { url: lanUrl, service: 'demo.orders.Orders', method: 'Place', ...fromFiles },
            { workspace },
          )
        ).outcome,
      ).toBe('succeeded');
  });

  it('TLS with a private CA from the workspace or a secret; the system roots, or another CA, refuse the server', async () => {
    writeFileSync(join(workspace, 'ca.pem'), ca.caPem);
    writeFileSync(join(workspace, 'other-ca.pem'), ca.otherCaPem);
    writeFileSync(join(workspace, 'key.pem'), ca.keyPem);
    calls.length = 0;
    const call = (extra: Record<string, unknown>, secrets: Record<string, string> = {}) =>
      runTask(
        grpc,
        {
          url: tlsUrl,
          service: 'demo.orders.Orders',
          method: 'Place',
          ...fromFiles,
          request: { item: 'tls' },
          metadataSecrets: { authorization: 'GRPC_AUTH' },
          deadlineMs: 5000,
          ...extra,
        },
        { workspace, secrets: { GRPC_AUTH: 'Bearer over-tls', ...secrets } },
      );
    const fromFile = await call({ caFile: 'ca.pem' });
    expect(fromFile.outcome, String(fromFile.error)).toBe('succeeded');
    expect(fromFile.outputs.response).toMatchObject({ seen_auth: 'Bearer over-tls' });
    const fromSecret = await call({ caSecret: 'GRPC_CA' }, { GRPC_CA: ca.caPem });
    expect(fromSecret.outcome, String(fromSecret.error)).toBe('succeeded');
    for (const untrusted of [{}, { caFile: 'other-ca.pem' }]) {
      const refused = await call(untrusted);
      expect(refused.error, JSON.stringify(untrusted)).toMatchObject({
        code: 'grpc_call_failed',
        retryable: true,
      });
      expect((refused.error as Error).message).toContain('UNAVAILABLE');
    }
    expect(calls).toHaveLength(2); // only the two trusted calls reached the service
    const key = await call({ caFile: 'key.pem' });
    expect(key.error).toMatchObject({
      code: 'tls_ca_invalid',
      message: '/caFile (key.pem) holds no PEM certificate',
    });
    expect(JSON.stringify([key, String(key.error)])).not.toContain(ca.keyPem.split('\n')[1]);
    const plain = await runTask(grpc, {
      url,
      service: 'demo.orders.Orders',
      method: 'Place',
      reflection: true,
      caFile: 'ca.pem',
    });
    expect(plain.errors).toEqual([{ path: '/caFile', message: 'is for TLS: give an https:// url' }]);
  });

  it('an answer too large to checkpoint is not lost silently: a retry refuses instead of calling again', async () => {
    calls.length = 0;
    const inputs = {
      url,
      service: 'demo.orders.Orders',
      method: 'Place',
      ...fromFiles,
      request: { item: 'big' },
      idempotencyKey: 'run-8/big',
    };
    const first = await runTask(grpc, inputs, { workspace });
    expect(first.outcome, String(first.error)).toBe('succeeded');
    expect(String((first.outputs.response as { id: string }).id)).toHaveLength(MAX_CHECKPOINT_BYTES + 1000);
    // Every checkpoint fits the protocol's bound (a larger one the runner drops, and the retry
    // would call again): here, that the call was made and how large its answer was.
    expect(first.states.map((s) => Buffer.byteLength(JSON.stringify(s)) <= MAX_CHECKPOINT_BYTES)).toEqual([
      true,
    ]);
    expect(first.logs.map((l) => l.message)).toContainEqual(
      expect.stringContaining('too large to checkpoint'),
    );
    const retry = await runTask(grpc, inputs, { workspace, state: first.states[0] });
    expect(retry.error).toMatchObject({ code: 'grpc_answer_not_checkpointed', retryable: false });
    expect(calls).toHaveLength(1);
  });

  it('the call is a span, a child of the attempt’s TRACEPARENT, with the RPC conventions’ attributes', async () => {
    spans.reset();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const result = await runTask(
      grpc,
      { url, service: 'demo.orders.Orders', method: 'Place', ...fromFiles, request: { item: 'span' } },
      { workspace, secrets: { TRACEPARENT: `00-${traceId}-b7ad6b7169203331-01` } },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('demo.orders.Orders/Place');
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span?.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'demo.orders.Orders',
      'rpc.method': 'Place',
      'server.address': '127.0.0.1',
      'rpc.grpc.status_code': 0,
    });
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(grpc.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(grpc.spec.outputs.properties ?? {}));
    expect([manifest.name, manifest.version, manifest.description]).toEqual([
      grpc.name,
      grpc.version,
      grpc.description,
    ]);
  });
});
