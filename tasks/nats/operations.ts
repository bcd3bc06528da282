// The four things a nats task does, each over an open connection: core publish (flushed, so the
// server has it before the task says so), request/reply, JetStream publish with the server's
// acknowledgement (the message id deduplicates within the stream's window), and consuming from a
// JetStream stream until N messages or until idle.
import type { NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { TaskError } from '../../sdk/index.ts';

export interface Message {
  subject: string;
  data: string;
  headers?: Record<string, string>;
}

function headersOf(map: Record<string, string> | undefined) {
  if (!map || Object.keys(map).length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of Object.entries(map)) h.set(k, v);
  return h;
}

export async function publish(nc: NatsConnection, m: Message) {
  const h = headersOf(m.headers);
  nc.publish(m.subject, m.data, h ? { headers: h } : undefined);
  await nc.flush();
  return { published: true };
}

export async function request(nc: NatsConnection, m: Message, timeoutMs: number) {
  const h = headersOf(m.headers);
  try {
    const reply = await nc.request(m.subject, m.data, { timeout: timeoutMs, ...(h ? { headers: h } : {}) });
    return { reply: reply.string() };
  } catch (error) {
    const text = String((error as Error).message);
    throw new TaskError('nats_no_reply', `no reply on ${m.subject} within ${timeoutMs} ms: ${text}`, {
      fault: /no responders/i.test(text) ? 'user' : 'system',
      retryable: true,
      hint: 'check that a service answers on that subject (timeoutMs to wait longer)',
      cause: error,
    });
  }
}

export async function publishJetStream(
  nc: NatsConnection,
  m: Message,
  msgId: string | undefined,
  timeoutMs: number,
) {
  const h = headersOf(m.headers);
  try {
    const ack = await jetstream(nc).publish(m.subject, m.data, {
      timeout: timeoutMs,
      ...(msgId ? { msgID: msgId } : {}),
      ...(h ? { headers: h } : {}),
    });
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (error) {
    throw new TaskError(
      'nats_not_acknowledged',
      `JetStream did not acknowledge ${m.subject}: ${(error as Error).message}`,
      {
        fault: 'user',
        retryable: true,
        hint: 'a stream must capture the subject (nats stream add); msgId makes a retry safe',
        cause: error,
      },
    );
  }
}

export interface ConsumeRequest {
  stream: string;
  consumer: string | undefined;
  count: number;
  idleMs: number;
  signal: AbortSignal;
  onMessage: (seq: number) => void;
}

/**
 * Messages of `stream` through the durable `consumer` (acknowledged one by one once read, so a
 * retry continues after them: at least once) or, without one, an ordered consumer from the start.
 */
export async function consume(nc: NatsConnection, r: ConsumeRequest) {
  let source;
  try {
    source = r.consumer
      ? await jetstream(nc).consumers.get(r.stream, r.consumer)
      : await jetstream(nc).consumers.get(r.stream);
  } catch (error) {
    throw new TaskError(
      'nats_consumer_missing',
      `cannot read ${r.stream}${r.consumer ? ` through ${r.consumer}` : ''}: ${(error as Error).message}`,
      {
        hint: 'check the stream and the durable consumer names (nats consumer ls <stream>)',
        cause: error,
      },
    );
  }
  const messages: { subject: string; seq: number; data: string }[] = [];
  while (messages.length < r.count) {
    r.signal.throwIfAborted();
    const next = await source.next({ expires: r.idleMs });
    if (next === null) break; // idle: nothing arrived within idleMs
    messages.push({ subject: next.subject, seq: next.seq, data: next.string() });
    if (r.consumer) await next.ackAck();
    r.onMessage(next.seq);
  }
  return { messages, count: messages.length };
}
