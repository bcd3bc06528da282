import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Record<string, unknown>;
  $ref?: string;
}

interface Operation {
  method: string;
  template: string;
  segments: string[];
  operationId: string;
  parameters: Parameter[];
  bodyRequired: boolean;
  bodyPointer?: string;
}

export interface CheckedRequest {
  operationId: string;
  template: string;
  params: Record<string, string>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * Checks requests against GitHub's published OpenAPI description (@octokit/openapi,
 * api.github.com.json): the method and path must name an operation, every query parameter must
 * be declared and valid, path parameters must match their schemas, and the JSON body must
 * validate against the operation's request-body schema (ajv, all errors).
 */
export class OpenApiCheck {
  readonly #operations: Operation[] = [];
  readonly #ajv: Ajv;
  readonly #doc: { components: { parameters: Record<string, Parameter> } };
  readonly #validators = new Map<string, ValidateFunction>();

  constructor() {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    this.#doc = doc;
    this.#ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, coerceTypes: false });
    (addFormats as unknown as (ajv: Ajv) => void)(this.#ajv);
    this.#ajv.addSchema(doc, 'gh');
    for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      const shared = (item.parameters as Parameter[] | undefined) ?? [];
      for (const method of METHODS) {
        const op = item[method] as
          | {
              operationId: string;
              parameters?: Parameter[];
              requestBody?: { required?: boolean; content?: Record<string, unknown> };
            }
          | undefined;
        if (!op) continue;
        const hasJson = op.requestBody?.content?.['application/json'] !== undefined;
        this.#operations.push({
          method: method.toUpperCase(),
          template,
          segments: template.split('/').slice(1),
          operationId: op.operationId,
          parameters: [...shared, ...(op.parameters ?? [])].map((p) => this.#resolve(p)),
          bodyRequired: op.requestBody?.required === true,
          ...(hasJson
            ? {
                bodyPointer: `gh#/paths/${escape(template)}/${method}/requestBody/content/application~1json/schema`,
              }
            : {}),
        });
      }
    }
  }

  /** Returns the matched operation, or throws with every reason the request is not allowed. */
  check(method: string, url: URL, body: unknown): CheckedRequest {
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const candidates = this.#operations
      .filter((op) => op.method === method && op.segments.length === segments.length)
      .map((op) => ({ op, params: matchSegments(op.segments, segments) }))
      .filter((c): c is { op: Operation; params: Record<string, string> } => c.params !== undefined)
      .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length);
    const found = candidates[0];
    if (!found) throw new Error(`${method} ${url.pathname} is not an operation of GitHub's REST API`);
    const { op, params } = found;
    const problems: string[] = [];
    for (const p of op.parameters.filter((p) => p.in === 'path')) {
      const value = params[p.name];
      if (value !== undefined && p.schema && !this.#valid(p.schema, coerce(p.schema, value)))
        problems.push(`path parameter ${p.name}=${JSON.stringify(value)} does not match its schema`);
    }
    const declared = new Map(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    for (const [name, value] of url.searchParams) {
      const p = declared.get(name);
      if (!p) problems.push(`query parameter ${name} is not declared for ${op.operationId}`);
      else if (p.schema && !this.#valid(p.schema, coerce(p.schema, value)))
        problems.push(`query parameter ${name}=${JSON.stringify(value)} does not match its schema`);
    }
    for (const p of declared.values())
      if (p.required && !url.searchParams.has(p.name)) problems.push(`query parameter ${p.name} is required`);
    if (body !== undefined && !op.bodyPointer) problems.push(`${op.operationId} takes no JSON body`);
    if (body === undefined && op.bodyRequired) problems.push(`${op.operationId} requires a JSON body`);
    if (body !== undefined && op.bodyPointer) {
      const validate = this.#validator(op.bodyPointer);
      if (!validate(body))
        problems.push(
          `body does not match ${op.operationId}: ${this.#ajv.errorsText(validate.errors, { separator: '; ' })}`,
        );
    }
    if (problems.length > 0)
      throw new Error(`${method} ${url.pathname}${url.search}: ${problems.join(' | ')}`);
    return { operationId: op.operationId, template: op.template, params };
  }

  #resolve(p: Parameter): Parameter {
    if (!p.$ref) return p;
    const name = p.$ref.replace('#/components/parameters/', '');
    return this.#doc.components.parameters[name]!;
  }

  #valid(schema: Record<string, unknown>, value: unknown): boolean {
    const key = JSON.stringify(schema);
    let validate = this.#validators.get(key);
    if (!validate) {
      validate = this.#ajv.compile(rebase(schema));
      this.#validators.set(key, validate);
    }
    return validate(value);
  }

  #validator(pointer: string): ValidateFunction {
    let validate = this.#validators.get(pointer);
    if (!validate) {
      validate = this.#ajv.getSchema(pointer);
      if (!validate) throw new Error(`no schema at ${pointer}`);
      this.#validators.set(pointer, validate);
    }
    return validate;
  }
}

function escape(template: string): string {
  return template.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Parameter schemas may hold local $refs: point them at the registered document. */
function rebase(schema: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', '"$ref":"gh#/'));
}

function matchSegments(template: string[], actual: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i += 1) {
    const t = template[i]!;
    const a = actual[i]!;
    const name = /^\{(.+)\}$/.exec(t)?.[1];
    if (name) {
      if (a === '') return undefined;
      params[name] = a;
    } else if (t !== a) return undefined;
  }
  return params;
}

function coerce(schema: Record<string, unknown>, value: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number')
    return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (schema.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}
