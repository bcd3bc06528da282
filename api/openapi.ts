/**
 * The OpenAPI 3.1 document, generated from the route table and the API's JSON Schemas. Written
 * here rather than with @fastify/swagger: the route table already holds every fact the document
 * needs (scopes, media types, statuses), our schemas are draft 2020-12 with `$ref`s into one
 * file, which swagger would have to be taught to rewrite anyway, and it saves a dependency.
 * OpenAPI 3.1 is JSON Schema 2020-12, so the definitions go in unchanged.
 */
import { API_SCHEMA_ID, apiSchema } from './api-schemas.ts';
import { ROUTES, type RouteSpec } from './route-table.ts';

type Json = Record<string, unknown>;

/** `https://…/api.schema.json#/$defs/X` and `#/$defs/X` become `#/components/schemas/X`. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string'
        ? inner
            .replace(`${API_SCHEMA_ID}#/$defs/`, '#/components/schemas/')
            .replace('#/$defs/', '#/components/schemas/')
        : rewriteRefs(inner);
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, '{$1}');
}

function parameters(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, name] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!name) continue;
    const def = apiSchema.$defs[name] as { properties: Record<string, Json>; required?: string[] };
    for (const [prop, schema] of Object.entries(def.properties))
      out.push({
        name: prop,
        in: where,
        required: where === 'path' || (def.required ?? []).includes(prop),
        schema,
      });
  }
  if (route.operationId === 'streamLogs' || route.operationId === 'streamEvents')
    out.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      description: 'Resume after this event id (what an EventSource sends on reconnect).',
      schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
    });
  if (route.operationId === 'createRun')
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Same key and body: the same run; same key, another body: 409.',
      schema: { type: 'string', maxLength: 200 },
    });
  if (route.scope && route.method !== 'GET')
    out.push({
      name: 'X-CSRF-Token',
      in: 'header',
      required: false,
      description:
        'Required when the request is authenticated by the session cookie (the csrfToken of GET /v1/session); not with a bearer token.',
      schema: { type: 'string' },
    });
  return out;
}

function operation(route: RouteSpec): Json {
  const responses: Json = {};
  for (const [status, name] of Object.entries(route.responses)) {
    const media = name === 'Problem' ? 'application/problem+json' : 'application/json';
    responses[status] = { description: name, content: { [media]: { schema: ref(name) } } };
  }
  for (const [status, raw] of Object.entries(route.rawResponses ?? {}))
    responses[status] = {
      description: raw.description,
      content: { [raw.media]: { schema: { type: 'string' } } },
    };
  const op: Json = {
    operationId: route.operationId,
    summary: route.summary,
    security: route.scope ? [{ token: [route.scope] }, { session: [route.scope] }] : [],
    'x-maestro-scope': route.scope,
    ...(route.allNamespaces ? { 'x-maestro-all-namespaces': true } : {}),
    ...(route.namespaceFree ? { 'x-maestro-namespace-free': true } : {}),
    responses,
  };
  const params = parameters(route);
  if (params.length) op.parameters = params;
  if (route.body) {
    const content: Json = {};
    for (const [media, schema] of Object.entries(route.body))
      content[media] = { schema: typeof schema === 'string' ? ref(schema) : schema };
    op.requestBody = { required: true, content };
  }
  return op;
}

export function buildOpenApi(version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.url);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Summit Maestro API',
      version,
      description:
        'The REST API of `maestro server` (docs/server.md). Errors are application/problem+json with a stable `code`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: 'http://127.0.0.1:8080' }],
    components: {
      securitySchemes: {
        token: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token from `maestro tokens create` (mst_…).',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'maestro-session',
          description:
            'The console session cookie from POST /v1/session (`__Host-maestro-session` over TLS); state-changing requests also need X-CSRF-Token.',
        },
      },
      schemas: rewriteRefs(apiSchema.$defs),
    },
    paths,
  };
}
