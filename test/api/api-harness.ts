/**
 * The API over real HTTP: the runtime, the API store, the worker and Fastify listening on
 * 127.0.0.1, wired as `maestro server` wires them. Every request the tests send and every answer
 * they get is checked against the committed docs/reference/openapi.json (ajv, draft 2020-12 with
 * formats): an undocumented status, media type or body shape fails the test that caused it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { expect } from 'vitest';
import {
  createApiServer,
  createPlanLayouts,
  createToken,
  openApiStore,
  startWorker,
  type ApiStore,
  type PlanLayouts,
  type Scope,
  type Worker,
} from '../../api/index.ts';
import type { WebhookIngress } from '../../app/index.ts';
import { systemClock } from '../../core/index.ts';
import { openRuntime, runtimeConfigFromEnv, type Runtime } from '../../runtime/index.ts';

export const openapi = JSON.parse(
  readFileSync(new URL('../../docs/reference/openapi.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, Operation>> };

interface Operation {
  security: unknown[];
  'x-maestro-scope': string | null;
  'x-maestro-all-namespaces'?: true;
  'x-maestro-namespace-free'?: true;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content: Record<string, { schema: unknown }> }>;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema(openapi, 'openapi');
const pointer = (...parts: string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

function checkAgainst(ref: string, value: unknown, what: string): void {
  const validate = ajv.getSchema(`openapi#/${ref}`);
  if (!validate) throw new Error(`no schema at ${ref}`);
  if (!validate(value))
    throw new Error(`${what} does not match openapi.json: ${ajv.errorsText(validate.errors)}`);
}

export interface CallOptions {
  token?: string | null;
  params?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  /** Raw body text (sent as is, with `contentType`). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** A stream that does not end by itself (GET /v1/events): stop reading once it has begun. */
  headOnly?: boolean;
}

export interface Answer {
  status: number;
  contentType: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked against openapi.json
  /** The response headers, for an archive. */
  headers?: Headers;
}

export interface ApiHarness {
  url: string;
  dataDir: string;
  runtime: Runtime;
  apiStore: ApiStore;
  /** The server's DAG layouts (bench/console counts the ones computed). */
  layouts: PlanLayouts;
  /** A token with every scope but admin, for every namespace. */
  token: string;
  mint(
    scopes: Scope[],
    options?: { namespaces?: string[]; ttlMs?: number; now?: number; user?: string },
  ): Promise<string>;
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', template: string, options?: CallOptions): Promise<Answer>;
  /** Polls GET /v1/runs/{id} until the run is terminal and its run receipt is stored (5 s at most). */
  settle(runId: string): Promise<Answer>;
  close(): Promise<void>;
}

export const ALL_SCOPES: Scope[] = [
  'workflows:read',
  'workflows:write',
  'runs:read',
  'runs:write',
  'approvals:write',
  'metrics:read',
  'console',
  'runbooks:trigger',
  'sbom:read',
  'budgets:write',
  'usage:read',
];

export async function startApi(
  options: {
    bodyLimit?: number;
    worker?: boolean;
    metricsPublic?: boolean;
    /** MAESTRO_DATABASE_URL: the runs and the API's own state on PostgreSQL. */
    databaseUrl?: string;
    /** The teams file's text, written to <data-dir>/teams.yaml and given as MAESTRO_TEAMS_FILE. */
    teams?: string;
    /** The runbooks file's text, written to <data-dir>/runbooks.yaml and given as MAESTRO_RUNBOOKS_FILE. */
    runbooks?: string;
    /** The `app` role's webhook ingress on its path, as `maestro server` mounts it. */
    webhook?: { path: string; ingress: WebhookIngress };
    /** Adds routes before the server listens (the console, as `maestro server` mounts it). */
    mount?: (fastify: FastifyInstance) => Promise<void>;
    /** More of the server's environment (MAESTRO_SECRET_<NAME> secrets for trusted runs, ...). */
    env?: Record<string, string>;
    /** A data dir prepared beforehand (tokens made with `maestro tokens create` for a secret). */
    dataDir?: string;
  } = {},
): Promise<ApiHarness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'maestro-api-'));
  const teamsFile = options.teams === undefined ? undefined : join(dataDir, 'teams.yaml');
  if (teamsFile) writeFileSync(teamsFile, options.teams!);
  const runbooksFile = options.runbooks === undefined ? undefined : join(dataDir, 'runbooks.yaml');
  if (runbooksFile) writeFileSync(runbooksFile, options.runbooks!);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dataDir,
    LANG: 'C.UTF-8',
    MAESTRO_DATA_DIR: dataDir,
    ...(options.databaseUrl ? { MAESTRO_DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  const logger = pino({ level: 'silent' });
  // As `maestro server` opens it: with the approval signer.
  const runtime = await openRuntime(runtimeConfigFromEnv(env, { cwd: dataDir, flags: { concurrency: 2 } }), {
    logger,
    approvals: true,
  });
  const apiStore = await openApiStore({ dataDir, databaseUrl: runtime.config.databaseUrl });
  const worker: Worker | undefined =
    options.worker === false ? undefined : startWorker(runtime.engine, logger, { pollMs: 100 });
  const layouts = createPlanLayouts({ logger, store: apiStore });
  const fastify: FastifyInstance = await createApiServer({
    context: {
      runtime,
      apiStore,
      clock: systemClock,
      logger,
      wake: (id) => worker?.wake(id),
      layouts,
      ...(teamsFile ? { teamsFile } : {}),
      ...(runbooksFile ? { runbooksFile } : {}),
    },
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.metricsPublic ? { metricsPublic: true } : {}),
    ...(worker ? { worker } : {}),
    ...(options.webhook ? { webhook: options.webhook } : {}),
  });
  await options.mount?.(fastify);
  const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
  const mint: ApiHarness['mint'] = async (scopes, o = {}) =>
    (
      await createToken(apiStore, {
        name: 'test',
        scopes,
        user: o.user ?? 'tester',
        namespaces: o.namespaces ?? [],
        ttlMs: o.ttlMs ?? 3_600_000,
        now: o.now ?? Date.now(),
      })
    ).token;
  const token = await mint(ALL_SCOPES);

  const call: ApiHarness['call'] = async (method, template, o = {}) => {
    const operation = openapi.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${template} is not in openapi.json`);
    let path = template;
    for (const [k, v] of Object.entries(o.params ?? {})) path = path.replace(`{${k}}`, encodeURIComponent(v));
    const search = new URLSearchParams(
      Object.entries(o.query ?? {}).map(([k, v]): [string, string] => [k, String(v)]),
    );
    const headers: Record<string, string> = { ...o.headers };
    const bearer = o.token === undefined ? token : o.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let body: string | undefined;
    if (o.raw !== undefined) {
      body = o.raw;
      headers['content-type'] = o.contentType ?? 'application/json';
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
      checkAgainst(
        pointer(
          'paths',
          template,
          method.toLowerCase(),
          'requestBody',
          'content',
          'application/json',
          'schema',
        ),
        o.body,
        `the request to ${method} ${template}`,
      );
    }
    const response = await fetch(`${url}${path}${search.size ? `?${search}` : ''}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!;
    if (o.headOnly && contentType === 'text/event-stream') await response.body?.cancel();
    const bytes =
      o.headOnly && contentType === 'text/event-stream'
        ? Buffer.alloc(0)
        : Buffer.from(await response.arrayBuffer());
    const text = bytes.toString('utf8');
    const documented = operation.responses[String(response.status)];
    if (!documented)
      throw new Error(`${method} ${template} answered ${response.status}, not documented: ${text}`);
    if (!(contentType in documented.content))
      throw new Error(
        `${method} ${template} ${response.status} answered ${contentType}, documented ${Object.keys(documented.content)}`,
      );
    // Server-sent events and the metrics are text; their shape is checked by the tests that read them.
    if (contentType === 'text/event-stream' || contentType === 'text/plain')
      return { status: response.status, contentType, body: text };
    // An archive (the disclosure bundle): its bytes, checked by the test that reads them.
    if (contentType === 'application/gzip')
      return { status: response.status, contentType, body: bytes, headers: response.headers };
    const parsed = JSON.parse(text) as unknown;
    checkAgainst(
      pointer(
        'paths',
        template,
        method.toLowerCase(),
        'responses',
        String(response.status),
        'content',
        contentType,
        'schema',
      ),
      parsed,
      `the answer of ${method} ${template} (${response.status})`,
    );
    return { status: response.status, contentType, body: parsed };
  };

  return {
    url,
    dataDir,
    runtime,
    apiStore,
    layouts,
    token,
    mint,
    call,
    async settle(runId) {
      // The run receipt attests the run's end, so it is signed and stored just after the terminal
      // state: wait for it too (a few seconds at most), so later reads see what this one saw.
      let endedAt: number | undefined;
      for (;;) {
        const answer = await call('GET', '/v1/runs/{id}', { params: { id: runId } });
        expect(answer.status).toBe(200);
        if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(answer.body.run.status)) {
          endedAt ??= Date.now();
          const signed = (answer.body.receipts as { task: string | null }[]).some((r) => r.task === null);
          if (signed || !runtime.signer || Date.now() - endedAt > 5000) return answer;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await fastify.close();
      await worker?.close();
      await runtime.close();
      await apiStore.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const HELLO = readFileSync(
  new URL('../../examples/quickstart/.maestro/workflows/hello.yaml', import.meta.url),
  'utf8',
);

export function manifest(name: string, tasks: string, extra = ''): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: ${name}
  namespace: quickstart
spec:
${extra}  defaults:
    runner: local
    timeout: 30s
  tasks:
${tasks}`;
}
