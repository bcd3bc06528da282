// The kafka task's spec (task.json holds the same, checked equal by kafka.test.ts).
import { caProperties } from '../tls/read-ca.ts';

const name = { type: 'string', minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' } as const;

export const kafkaSpec = {
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['operation', 'brokers', 'topic'],
    properties: {
      operation: { enum: ['produce', 'consume'], description: 'What to do.' },
      brokers: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9.-]+:[0-9]+$' },
        description: 'Bootstrap brokers as host:port (no credentials).',
      },
      topic: { ...name, description: 'The topic.' },
      messages: {
        type: 'array',
        minItems: 1,
        maxItems: 10000,
        description: 'produce: the messages, in order.',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            key: { type: 'string', description: 'The message key (partitioning).' },
            value: { type: 'string', description: 'The value as text.' },
            json: { description: 'The value as JSON (instead of value).' },
            headers: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'Message headers.',
            },
            partition: { type: 'integer', minimum: 0, description: 'A partition (default: by key).' },
          },
        },
      },
      groupId: {
        ...name,
        description: 'consume: the consumer group; its committed offsets are where the next run continues.',
      },
      count: {
        type: 'integer',
        minimum: 1,
        maximum: 10000,
        description: 'consume: at most this many (default 100).',
      },
      idleMs: {
        type: 'integer',
        minimum: 500,
        maximum: 600000,
        description: 'consume: stop when no message arrives for this long (default 5000).',
      },
      fromBeginning: {
        type: 'boolean',
        description:
          'consume: a group without committed offsets starts at the oldest message (default true), else at the newest.',
      },
      tls: {
        type: 'boolean',
        description: 'Connect with TLS (the system roots, or caFile/caSecret). Default false.',
      },
      ...caProperties,
      sasl: {
        enum: ['plain', 'scram-sha-256', 'scram-sha-512'],
        description:
          'SASL mechanism; the credentials are the secrets KAFKA_USERNAME and KAFKA_PASSWORD. Without tls, only to loopback brokers.',
      },
      idempotencyKey: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description:
          'produce: sent as the idempotency-key header of each message, for consumers that deduplicate across runs (within a run, a retry of the task never produces again: the acknowledgement is checkpointed).',
      },
      timeoutMs: {
        type: 'integer',
        minimum: 1,
        maximum: 600000,
        description: 'Connection and request timeout (default 10000).',
      },
    },
  },
  outputs: {
    type: 'object',
    properties: {
      produced: { type: 'integer', description: 'produce: messages the brokers acknowledged.' },
      offsets: {
        type: 'array',
        items: { type: 'object' },
        description: 'produce: [{ partition, baseOffset }] as acknowledged.',
      },
      messages: {
        type: 'array',
        items: { type: 'object' },
        description: 'consume: [{ partition, offset, key, value, headers }] in order per partition.',
      },
      count: { type: 'integer', description: 'consume: how many messages.' },
      replayed: {
        type: 'boolean',
        description: 'produce: the acknowledgement is an earlier attempt’s (nothing was produced again).',
      },
    },
  },
} as const;
