// The grpc task's spec (task.json holds the same, checked equal by grpc.test.ts).
import { caProperties } from '../tls/read-ca.ts';

export const grpcSpec = {
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'service', 'method'],
    properties: {
      url: {
        type: 'string',
        pattern: '^https?://',
        description:
          'The server: https://host[:port] (TLS; the system roots, or caFile/caSecret) or http://host:port (plaintext HTTP/2; with metadataSecrets only to a loopback address). No credentials, path or query.',
      },
      service: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$',
        description: 'The service’s full name, package included (helloworld.Greeter).',
      },
      method: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description: 'The method’s name (SayHello).',
      },
      protoFiles: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1 },
        description: 'The .proto files describing the service, relative to the workspace.',
      },
      includeDirs: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'Folders (of the workspace) imports are resolved from (default: the workspace).',
      },
      reflection: {
        type: 'boolean',
        description: 'Ask the server’s reflection service for the descriptors instead of protoFiles.',
      },
      request: {
        type: 'object',
        description: 'The request message as JSON (proto field names; default {}).',
      },
      metadata: {
        type: 'object',
        propertyNames: { pattern: '^[a-z0-9_.-]+$' },
        additionalProperties: { type: 'string' },
        description: 'Request metadata (lower-case keys). Never a credential: see metadataSecrets.',
      },
      metadataSecrets: {
        type: 'object',
        propertyNames: { pattern: '^[a-z0-9_.-]+$' },
        additionalProperties: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        description:
          'Metadata whose values are secrets: key → the environment variable (passed in env:) holding the value, e.g. { authorization: GRPC_AUTHORIZATION }.',
      },
      deadlineMs: {
        type: 'integer',
        minimum: 1,
        maximum: 600000,
        description: 'The call’s deadline (default 10000), reflection included.',
      },
      maxMessages: {
        type: 'integer',
        minimum: 1,
        maximum: 100000,
        description: 'Server-streaming: stop after this many messages (default 1000).',
      },
      ...caProperties,
      idempotencyKey: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description:
          'Sent as the idempotency-key metadata; the answer is checkpointed, so a retry of the task does not call again.',
      },
    },
  },
  outputs: {
    type: 'object',
    properties: {
      response: { type: 'object', description: 'Unary: the response message as JSON.' },
      messages: {
        type: 'array',
        items: { type: 'object' },
        description: 'Server-streaming: the messages in order.',
      },
      count: { type: 'integer', description: 'Server-streaming: how many messages.' },
      status: { type: 'string', description: 'The call’s gRPC status (OK).' },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'The response’s text metadata.',
      },
      replayed: { type: 'boolean', description: 'The answer is an earlier attempt’s (idempotencyKey).' },
    },
  },
} as const;
