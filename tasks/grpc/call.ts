// One gRPC call with @grpc/grpc-js's generic Client: unary (the response) or server-streaming
// (up to maxMessages responses, heartbeating per message). A non-OK status becomes a TaskError
// with the status's name; which statuses are retryable follows gRPC's own guidance (UNAVAILABLE
// and RESOURCE_EXHAUSTED may succeed later; an argument or permission problem will not).
import type { Metadata } from '@grpc/grpc-js';
import { Client, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { TaskError } from '../../sdk/index.ts';
import type { Method } from './load-service.ts';

/** A message as JSON (proto-loader's object form). */
export type Json = Record<string, unknown>;

export interface CallTarget {
  address: string;
  credentials: ChannelCredentials;
  metadata: Metadata;
  deadline: Date;
  signal: AbortSignal;
}

export interface CallResult {
  response?: Json;
  messages?: Json[];
  headers: Record<string, string>;
  truncated?: boolean;
}

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.ABORTED]);
const SYSTEM = new Set<number>([
  ...RETRYABLE,
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.UNKNOWN,
  status.DATA_LOSS,
]);

export async function callMethod(
  target: CallTarget,
  method: Method,
  request: object,
  options: { maxMessages: number; onMessage: () => void },
): Promise<CallResult> {
  const client = new Client(target.address, target.credentials);
  try {
    return method.responseStream
      ? await serverStream(client, target, method, request, options)
      : await unary(client, target, method, request);
  } finally {
    client.close();
  }
}

function unary(client: Client, target: CallTarget, method: Method, request: object): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    let headers: Record<string, string> = {};
    const call = client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      target.metadata,
      { deadline: target.deadline },
      (error, response) =>
        error ? reject(callError(error, method, target)) : resolve({ response: response as Json, headers }),
    );
    call.on('metadata', (m) => (headers = textOf(m)));
    target.signal.addEventListener('abort', () => call.cancel(), { once: true });
  });
}

function serverStream(
  client: Client,
  target: CallTarget,
  method: Method,
  request: object,
  options: { maxMessages: number; onMessage: () => void },
): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const messages: Json[] = [];
    let headers: Record<string, string> = {};
    let truncated = false;
    const call = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      target.metadata,
      { deadline: target.deadline },
    );
    call.on('metadata', (m) => (headers = textOf(m)));
    call.on('data', (message: Json) => {
      if (messages.length >= options.maxMessages) {
        // Enough: stop the server's stream (the CANCELLED that follows is ours, not a failure).
        truncated = true;
        call.cancel();
        return;
      }
      messages.push(message);
      options.onMessage();
    });
    call.on('error', (error: ServiceError) => {
      if (truncated && error.code === status.CANCELLED) resolve({ messages, headers, truncated });
      else reject(callError(error, method, target));
    });
    call.on('end', () => resolve({ messages, headers, truncated }));
    target.signal.addEventListener('abort', () => call.cancel(), { once: true });
  });
}

function callError(error: ServiceError, method: Method, target: CallTarget): Error {
  if (target.signal.aborted) return target.signal.reason as Error;
  const name = status[error.code] ?? String(error.code);
  return new TaskError(
    'grpc_call_failed',
    `${method.path} on ${target.address} ended with ${name}: ${error.details}`,
    {
      fault: SYSTEM.has(error.code) ? 'system' : 'user',
      retryable: RETRYABLE.has(error.code),
      hint:
        error.code === status.DEADLINE_EXCEEDED
          ? 'raise deadlineMs, or check why the server is slow'
          : error.code === status.UNAVAILABLE
            ? 'check url and that the runner may reach the server'
            : 'the server refused the request: check request, metadata and credentials',
      cause: error,
    },
  );
}

/** Text metadata (a `-bin` key is binary, left out). */
function textOf(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap()))
    if (!key.endsWith('-bin') && typeof value === 'string') out[key] = value;
  return out;
}
