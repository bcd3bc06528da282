// tasks/nats: NATS publish and request/reply, JetStream publish with acknowledgement, and
// consuming N messages (or until idle) from a JetStream stream, built on the task SDK.
// Credentials are secrets in env: (NATS_TOKEN, or NATS_USER and NATS_PASSWORD). A JetStream
// publish with `msgId` is idempotent within the stream's duplicate window: a retried attempt's
// second publish is acknowledged as a duplicate, not stored twice. Its spec is task.json's,
// checked equal by tasks/nats/nats.test.ts. Each operation is a span (tasks/telemetry/span.ts).
import type { NatsConnection } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import { defineTask, runMain, type ValidationIssue } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { connectTo } from './connection.ts';
import { consume, publish, publishJetStream, request } from './operations.ts';

export const nats = defineTask({
  name: 'nats',
  version: '1.0.0',
  description:
    'Publishes to a NATS subject, sends a request and outputs the reply, publishes to JetStream with acknowledgement (msgId deduplicates), or consumes N messages (or until idle) from a JetStream stream.',
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['operation', 'servers'],
      properties: {
        operation: {
          enum: ['publish', 'request', 'jetstream-publish', 'consume'],
          description: 'What to do.',
        },
        servers: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description:
            'nats://host:4222 addresses, without credentials. With credentials, a server beyond loopback must offer TLS (else credential_in_clear, before they are sent).',
        },
        subject: {
          type: 'string',
          minLength: 1,
          description: 'publish, request, jetstream-publish: the subject.',
        },
        data: { type: 'string', description: 'The message body as text (default empty).' },
        json: { description: 'The message body as JSON (instead of data).' },
        headers: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Message headers.',
        },
        msgId: {
          type: 'string',
          minLength: 1,
          maxLength: 200,
          description: 'jetstream-publish: the Nats-Msg-Id the stream deduplicates by (the idempotency key).',
        },
        stream: { type: 'string', minLength: 1, description: 'consume: the JetStream stream.' },
        consumer: {
          type: 'string',
          minLength: 1,
          description:
            'consume: a durable consumer (messages are acknowledged as read); without it, from the start.',
        },
        count: {
          type: 'integer',
          minimum: 1,
          maximum: 10000,
          description: 'consume: at most this many (default 100).',
        },
        idleMs: {
          type: 'integer',
          minimum: 1000,
          maximum: 600000,
          description: 'consume: stop when no message arrives for this long (default 2000).',
        },
        timeoutMs: {
          type: 'integer',
          minimum: 1,
          maximum: 600000,
          description: 'Connect, request and acknowledgement timeout (default 5000).',
        },
      },
    },
    outputs: {
      type: 'object',
      properties: {
        published: { type: 'boolean', description: 'publish: the server has the message.' },
        reply: { type: 'string', description: 'request: the reply’s body.' },
        stream: { type: 'string', description: 'jetstream-publish: the stream that stored it.' },
        seq: { type: 'integer', description: 'jetstream-publish: its sequence number in the stream.' },
        duplicate: { type: 'boolean', description: 'jetstream-publish: msgId had been stored already.' },
        messages: {
          type: 'array',
          items: { type: 'object' },
          description: 'consume: [{ subject, seq, data }] in order.',
        },
        count: { type: 'integer', description: 'consume: how many messages.' },
      },
    },
  },
  validate(inputs) {
    const errors: ValidationIssue[] = [];
    const consuming = inputs.operation === 'consume';
    if (!consuming && inputs.subject === undefined)
      errors.push({ path: '/subject', message: `${inputs.operation} needs subject` });
    if (consuming && inputs.stream === undefined)
      errors.push({ path: '/stream', message: 'consume needs stream' });
    if (inputs.data !== undefined && Object.hasOwn(inputs, 'json'))
      errors.push({ path: '/json', message: 'give data or json, not both' });
    if (inputs.msgId !== undefined && inputs.operation !== 'jetstream-publish')
      errors.push({ path: '/msgId', message: 'only jetstream-publish takes it' });
    for (const name of ['stream', 'consumer', 'count', 'idleMs'] as const)
      if (!consuming && inputs[name] !== undefined)
        errors.push({ path: `/${name}`, message: 'only consume takes it' });
    return { ok: errors.length === 0, errors };
  },
  async execute(inputs, ctx) {
    const timeoutMs = inputs.timeoutMs ?? 5000;
    const receiving = inputs.operation === 'consume';
    const destination = (receiving ? inputs.stream : inputs.subject) as string;
    // The messaging conventions' span: `send <subject>` (a request is a CLIENT call), `receive <stream>`.
    const attributes = {
      'messaging.system': 'nats',
      'messaging.operation.type': receiving ? 'receive' : 'send',
      'messaging.destination.name': destination,
      'maestro.nats.operation': inputs.operation,
    };
    const kind = receiving
      ? SpanKind.CONSUMER
      : inputs.operation === 'request'
        ? SpanKind.CLIENT
        : SpanKind.PRODUCER;
    const name = `${receiving ? 'receive' : 'send'} ${destination}`;
    return await inTaskSpan(ctx, name, { task: 'nats', kind, attributes }, async (span) => {
      const nc: NatsConnection = await connectTo(inputs.servers, timeoutMs, ctx);
      try {
        const message = {
          subject: inputs.subject as string,
          data: Object.hasOwn(inputs, 'json') ? JSON.stringify(inputs.json) : (inputs.data ?? ''),
          ...(inputs.headers ? { headers: inputs.headers } : {}),
        };
        switch (inputs.operation) {
          case 'publish':
            ctx.emit.log(`nats: publish ${message.subject} (${Buffer.byteLength(message.data)} bytes)`);
            return await publish(nc, message);
          case 'request':
            ctx.emit.log(`nats: request ${message.subject}`);
            return await request(nc, message, timeoutMs);
          case 'jetstream-publish': {
            const ack = await publishJetStream(nc, message, inputs.msgId, timeoutMs);
            ctx.emit.log(
              `nats: ${message.subject} stored in ${ack.stream} as ${ack.seq}${ack.duplicate ? ' (a duplicate of msgId, not stored again)' : ''}`,
            );
            span.setAttribute('maestro.nats.seq', ack.seq);
            return ack;
          }
          case 'consume': {
            const read = await consume(nc, {
              stream: inputs.stream as string,
              consumer: inputs.consumer,
              count: inputs.count ?? 100,
              idleMs: inputs.idleMs ?? 2000,
              signal: ctx.signal,
              onMessage: () => ctx.heartbeat(),
            });
            ctx.emit.log(`nats: read ${read.count} message(s) from ${inputs.stream}`);
            ctx.emit.metric('messages', read.count);
            span.setAttribute('messaging.batch.message_count', read.count);
            return read;
          }
        }
      } finally {
        await nc.close().catch(() => undefined);
      }
    });
  },
});

if (import.meta.main) await runMain(nats, process.env);
