// tasks/nats in-process (runTask) against a real nats-server (Debian's, JetStream on, a user with
// a password: test/setup/nats-server.ts): publish, request/reply, JetStream publish deduplicated
// by msgId, consume N or until idle through a durable consumer, and refused credentials.
import { readFileSync } from 'node:fs';
import { connect as dial, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { startNats, type NatsServer } from '../../test/setup/nats-server.ts';
import { nats } from './index.ts';

let server: NatsServer;
let peer: NatsConnection;
const spans = recordTaskSpans();
beforeAll(async () => {
  server = await startNats();
  peer = await connect({ servers: server.url, user: server.user, pass: server.password });
  const jsm = await jetstreamManager(peer);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  await jsm.consumers.add('ORDERS', { durable_name: 'etl', ack_policy: AckPolicy.Explicit });
}, 30_000);
afterAll(async () => {
  await peer?.close();
  await server?.stop();
});

const secrets = () => ({ NATS_USER: server.user, NATS_PASSWORD: server.password });
const run = (inputs: Record<string, unknown>, s: Record<string, string> = secrets()) =>
  runTask(nats, { servers: [server.url], ...inputs }, { secrets: s });

describe('tasks/nats against nats-server', () => {
  it('publishes with headers; a subscriber has it when the task says published', async () => {
    const sub = peer.subscribe('deploys.done', { max: 1 });
    await peer.flush();
    const result = await run({
      operation: 'publish',
      subject: 'deploys.done',
      json: { version: '1.2.3' },
      headers: { 'x-run': 'r-1' },
    });
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toEqual({ published: true });
    for await (const m of sub) {
      expect(m.json()).toEqual({ version: '1.2.3' });
      expect(m.headers?.get('x-run')).toBe('r-1');
    }
  });

  it('sends a request and outputs the reply; no responder is a clear, retryable error', async () => {
    peer.subscribe('svc.upper', { callback: (_e, m) => void m.respond(m.string().toUpperCase()) });
    await peer.flush();
    expect((await run({ operation: 'request', subject: 'svc.upper', data: 'hello' })).outputs).toEqual({
      reply: 'HELLO',
    });
    const none = await run({ operation: 'request', subject: 'svc.nobody', data: 'x', timeoutMs: 500 });
    expect(none.error).toMatchObject({ code: 'nats_no_reply', retryable: true });
  });

  it('publishes to JetStream with acknowledgement; the same msgId again is a duplicate, stored once', async () => {
    const first = await run({
      operation: 'jetstream-publish',
      subject: 'orders.new',
      data: 'order-1',
      msgId: 'run-1/order-1',
    });
    expect(first.outputs).toEqual({ stream: 'ORDERS', seq: 1, duplicate: false });
    const again = await run({
      operation: 'jetstream-publish',
      subject: 'orders.new',
      data: 'order-1',
      msgId: 'run-1/order-1',
    });
    expect(again.outputs).toEqual({ stream: 'ORDERS', seq: 1, duplicate: true });
    await run({ operation: 'jetstream-publish', subject: 'orders.new', data: 'order-2' });
    await run({ operation: 'jetstream-publish', subject: 'orders.paid', data: 'order-1' });
    const jsm = await jetstreamManager(peer);
    expect((await jsm.streams.info('ORDERS')).state.messages).toBe(3);
    const nowhere = await run({
      operation: 'jetstream-publish',
      subject: 'nobody.listens',
      data: 'x',
      timeoutMs: 1000,
    });
    expect(nowhere.error).toMatchObject({ code: 'nats_not_acknowledged' });
  });

  it('consumes N messages through a durable consumer, acknowledged: the next run continues after them, and stops when idle', async () => {
    const firstTwo = await run({
      operation: 'consume',
      stream: 'ORDERS',
      consumer: 'etl',
      count: 2,
      idleMs: 1000,
    });
    expect(firstTwo.outcome, String(firstTwo.error)).toBe('succeeded');
    expect(firstTwo.outputs).toEqual({
      messages: [
        { subject: 'orders.new', seq: 1, data: 'order-1' },
        { subject: 'orders.new', seq: 2, data: 'order-2' },
      ],
      count: 2,
    });
    const rest = await run({
      operation: 'consume',
      stream: 'ORDERS',
      consumer: 'etl',
      count: 10,
      idleMs: 1000,
    });
    expect(rest.outputs).toEqual({
      messages: [{ subject: 'orders.paid', seq: 3, data: 'order-1' }],
      count: 1,
    });
    const fromStart = await run({ operation: 'consume', stream: 'ORDERS', count: 10, idleMs: 1000 });
    expect(fromStart.outputs).toMatchObject({ count: 3 });
  });

  it('a wrong password is refused naming the servers, never quoting it; credentials in servers are refused', async () => {
    const wrong = await run(
      { operation: 'publish', subject: 's', data: 'x' },
      { NATS_USER: 'maestro', NATS_PASSWORD: 'wrong-pass-7c1e' },
    );
    expect(wrong.error).toMatchObject({ code: 'nats_auth_failed', retryable: false });
    expect((wrong.error as Error).message).toContain(`cannot connect to ${server.url}`);
    const unsigned = await run({ operation: 'publish', subject: 's', data: 'x' }, {});
    expect(unsigned.error).toMatchObject({ code: 'nats_auth_failed' });
    const inline = await runTask(nats, {
      operation: 'publish',
      subject: 's',
      servers: [server.url.replace('nats://', `nats://maestro:${server.password}@`)],
    });
    expect(inline.error).toMatchObject({
      code: 'nats_server_invalid',
      message: expect.stringMatching(/^\/servers\/0 holds credentials/),
    });
    for (const r of [wrong, unsigned, inline]) {
      const said = JSON.stringify([String(r.error), r.messages]);
      expect(said).not.toContain('wrong-pass-7c1e');
      expect(said).not.toContain(server.password);
    }
  });

  it('the attack: credentials to a server beyond loopback without TLS are refused before CONNECT (a relay on this machine’s non-loopback address read them)', async () => {
    const relay = await startRelay(Number(new URL(server.url).port));
    try {
      const far = `nats://${lanAddress}:${relay.port}`;
      const publish = { operation: 'publish', subject: 'deploys.far', data: 'x', servers: [far] };
      const withPassword = await runTask(nats, publish, { secrets: secrets() });
      const withToken = await runTask(nats, publish, { secrets: { NATS_TOKEN: 'tok-nats-5d2a' } });
      // Against the old task the relay carried CONNECT with the password, and the publish succeeded.
      expect(relay.carried()).not.toContain(server.password);
      expect(relay.carried()).not.toContain('tok-nats-5d2a');
      for (const r of [withPassword, withToken])
        expect(r.error).toMatchObject({
          code: 'credential_in_clear',
          retryable: false,
          message: expect.stringMatching(
            new RegExp(`^the NATS credentials would go to ${lanAddress!.replace(/\./g, '\\.')} in clear`),
          ),
        });
      // The relay was reached (so the refusal is the credentials'): a connection without them goes.
      expect(relay.carried()).toContain('INFO');
      const bare = await runTask(nats, publish, { secrets: {} });
      expect(bare.error).toMatchObject({ code: 'nats_auth_failed' });
      expect(relay.carried()).toContain('CONNECT');
    } finally {
      await relay.close();
    }
  });

  it('each operation is a span with the messaging conventions, a child of the attempt’s TRACEPARENT; a failure’s code', async () => {
    spans.take();
    const published = await run(
      { operation: 'jetstream-publish', subject: 'orders.span', data: 'x', msgId: 'span-1' },
      { ...secrets(), TRACEPARENT },
    );
    expect(published.outcome, String(published.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'nats');
    expect([span.name, span.kind, span.status.code]).toEqual([
      'send orders.span',
      SpanKind.PRODUCER,
      SpanStatusCode.OK,
    ]);
    expect(span.attributes).toEqual({
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'orders.span',
      'maestro.nats.operation': 'jetstream-publish',
      'maestro.nats.seq': published.outputs.seq,
    });
    const refused = await run({ operation: 'publish', subject: 's', data: 'x' }, { TRACEPARENT });
    expect(refused.outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'nats');
    expect([failed.status.code, failed.attributes['error.type']]).toEqual([
      SpanStatusCode.ERROR,
      'nats_auth_failed',
    ]);
  });

  it('reports every input problem with its path', async () => {
    const result = await runTask(nats, {
      operation: 'publish',
      servers: ['nats://x'],
      data: 'a',
      json: 1,
      msgId: 'm',
      count: 3,
    });
    expect(result.errors).toEqual([
      { path: '/subject', message: 'publish needs subject' },
      { path: '/json', message: 'give data or json, not both' },
      { path: '/msgId', message: 'only jetstream-publish takes it' },
      { path: '/count', message: 'only consume takes it' },
    ]);
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(nats.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(nats.spec.outputs.properties ?? {}));
    expect([manifest.name, manifest.version, manifest.description]).toEqual([
      nats.name,
      nats.version,
      nats.description,
    ]);
  });
});

/** This machine's first non-loopback IPv4 address: a server there is "another host". */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/**
 * A man in the middle on `lanAddress`: relays every connection to the nats-server on loopback and
 * keeps what both sides said, as anyone on the path could.
 */
async function startRelay(target: number) {
  if (!lanAddress) throw new Error('this machine has no non-loopback address for the relay');
  const bytes: Buffer[] = [];
  const sockets: Socket[] = [];
  const relay: Server = createServer((client) => {
    const upstream = dial(target, '127.0.0.1');
    sockets.push(client, upstream);
    client.on('data', (d: Buffer) => void (bytes.push(d), upstream.write(d)));
    upstream.on('data', (d: Buffer) => void (bytes.push(d), client.write(d)));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, lanAddress, resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    carried: () => Buffer.concat(bytes).toString('latin1'),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}
