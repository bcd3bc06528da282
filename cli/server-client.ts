/**
 * The CLI's client of `maestro server` (`--server <url>`, the token from MAESTRO_TOKEN): JSON
 * requests with the API's generated types, the log stream as server-sent events, and every
 * problem+json answer turned into the CLI's usual error (its `code`, detail and hint; exit 1 for
 * a 4xx, 3 for a 5xx or an unreachable server). The token goes in the Authorization header only:
 * never in a message, a URL or the output.
 */
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import { Fault, isLoopbackHost, MaestroError, UsageError, type ApiBody } from '../core/index.ts';
import type { CliIo } from './io.ts';

import { TOKEN_ENV } from './commands/server-option.ts';
export { TOKEN_ENV };

/** An error the server answered (problem+json), kept with its stable code. */
export class ServerProblemError extends MaestroError {
  readonly status: number;
  readonly problem: ApiBody.Problem;
  constructor(problem: ApiBody.Problem) {
    super(problem.code, problem.detail, {
      fault: problem.status >= 500 ? Fault.system : Fault.user,
      retryable: problem.status === 503,
      ...(problem.hint ? { hint: problem.hint } : {}),
    });
    this.status = problem.status;
    this.problem = problem;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body, or raw text with its media type. */
  json?: unknown;
  text?: { body: string; contentType: string };
  headers?: Record<string, string>;
  /** Ends the request (a log stream that is followed). */
  signal?: AbortSignal;
}

export interface ServerClient {
  /** The server's URL as given (no trailing slash), for messages. */
  url: string;
  request<T>(method: 'GET' | 'POST' | 'PUT', path: string, options?: RequestOptions): Promise<T>;
  /** The events of a server-sent-events route, as they arrive. */
  events(path: string, options?: RequestOptions): AsyncIterable<EventSourceMessage>;
}

function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server ${text} is not a URL`, {
      hint: 'for example --server http://127.0.0.1:8080',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--server ${text} is not an http:// or https:// URL`);
  if (url.username || url.password)
    throw new UsageError('--server must not carry credentials', { hint: `put the token in ${TOKEN_ENV}` });
  return url;
}

export function openServerClient(server: string, io: CliIo): ServerClient {
  const base = parseServerUrl(server);
  const token = io.env[TOKEN_ENV];
  if (!token)
    throw new UsageError(`--server needs a token in ${TOKEN_ENV}, which is not set`, {
      hint: `create one with \`maestro tokens create\` where the server runs, then export ${TOKEN_ENV}`,
    });
  if (base.protocol === 'http:' && !isLoopbackHost(base.hostname))
    io.stderr(`warning: the token is sent to ${base.host} over plain http; use https beyond this machine\n`);
  const root = base.href.replace(/\/+$/, '');

  const send = async (method: string, path: string, o: RequestOptions, accept: string): Promise<Response> => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const headers: Record<string, string> = { accept, authorization: `Bearer ${token}`, ...o.headers };
    let body: string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    } else if (o.text) {
      body = o.text.body;
      headers['content-type'] = o.text.contentType;
    }
    let response: Response;
    try {
      response = await fetch(`${root}${path}${search.size ? `?${search}` : ''}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (error) {
      // undici puts the socket's error (ECONNREFUSED, ENOTFOUND) in `cause`, or in its `errors`.
      const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
        .cause;
      const reason = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
      throw new MaestroError('server_unreachable', `cannot reach the server at ${root} (${reason})`, {
        fault: Fault.system,
        retryable: true,
        hint: 'check --server, and that `maestro server` is running there',
        cause: error,
      });
    }
    if (!response.ok) throw await problemOf(response, `${method} ${path}`);
    return response;
  };

  return {
    url: root,
    async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, o: RequestOptions = {}): Promise<T> {
      const response = await send(method, path, o, 'application/json');
      return (await response.json()) as T;
    },
    async *events(path: string, o: RequestOptions = {}): AsyncIterable<EventSourceMessage> {
      const response = await send('GET', path, o, 'text/event-stream');
      if (!response.body) return;
      const stream = response.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream());
      for await (const message of stream) yield message;
    },
  };
}

async function problemOf(response: Response, what: string): Promise<MaestroError> {
  const text = await response.text();
  const media = response.headers.get('content-type') ?? '';
  if (media.startsWith('application/problem+json')) {
    try {
      return new ServerProblemError(JSON.parse(text) as ApiBody.Problem);
    } catch {
      // Not JSON after all: reported below like any other unexpected answer.
    }
  }
  return new MaestroError(
    'server_bad_answer',
    `the server answered ${what} with ${response.status} (${media || 'no type'})`,
    {
      fault: response.status >= 500 ? Fault.system : Fault.user,
      hint: 'is --server the URL of `maestro server`?',
    },
  );
}
