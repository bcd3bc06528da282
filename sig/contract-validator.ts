import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  CONTRACTS,
  CONTRACT_VERSIONS,
  SHARED_SCHEMAS,
  contractDocuments,
  openApiBase,
  type ContractName,
  type ContractVersion,
} from './contract-documents.ts';

/** One field that failed a contract: a JSON Pointer into the request (`/body/records/0/kind`). */
export interface ContractProblem {
  pointer: string;
  message: string;
}

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  segments: string[];
  pathParams: Array<{ name: string; schema: ValidateFunction }>;
  /** Content type to the body schema's absolute reference. */
  bodies: Map<string, string>;
  /** Status to the response schema's absolute reference (the first content type). */
  responses: Map<string, string>;
}

export interface CheckedRequest {
  operation: Operation;
  params: Record<string, string>;
  problems: ContractProblem[];
}

interface ParameterDoc {
  name: string;
  in: string;
  schema?: Record<string, unknown>;
  $ref?: string;
}

/**
 * Every SIG contract compiled once with ajv (2020-12, all errors, formats): the OpenAPI documents
 * give the operations; their relative `$ref`s are resolved against the document's URL to the
 * payload schemas' `$id`s. A validator of OpenAPI documents for ajv exists in several libraries,
 * but none resolves our split documents and also checks NDJSON lines, so this is ~150 lines here.
 */
export class ContractRegistry {
  readonly #ajv = new Ajv2020({ allErrors: true, strict: false });
  readonly #operations = new Map<string, Operation[]>();

  constructor() {
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.#ajv);
    for (const schema of SHARED_SCHEMAS) this.#ajv.addSchema(schema);
    for (const name of CONTRACTS)
      for (const version of CONTRACT_VERSIONS) {
        this.#ajv.addSchema(contractDocuments(name, version).payloads);
        this.#operations.set(key(name, version), this.#readOperations(name, version));
      }
  }

  operations(name: ContractName, version: ContractVersion): Operation[] {
    return this.#operations.get(key(name, version)) ?? [];
  }

  /** The operation a method and path name, with its path parameters, or undefined. */
  match(name: ContractName, version: ContractVersion, method: string, pathname: string) {
    const segments = pathname.split('/').slice(1);
    for (const operation of this.operations(name, version)) {
      if (operation.method !== method || operation.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = operation.segments.every((s, i) => {
        const actual = decodeURIComponent(segments[i]!);
        if (s.startsWith('{')) return ((params[s.slice(1, -1)] = actual), true);
        return s === actual;
      });
      if (ok) return { operation, params };
    }
    return undefined;
  }

  /** Path parameters and the body (as parsed JSON, or one NDJSON line) against the operation. */
  checkRequest(operation: Operation, params: Record<string, string>, contentType: string, body: unknown) {
    const problems: ContractProblem[] = [];
    for (const p of operation.pathParams)
      if (!p.schema(params[p.name])) problems.push(...toProblems(p.schema.errors, `/path/${p.name}`));
    const ref = operation.bodies.get(contentType);
    if (operation.bodies.size > 0 && !ref)
      problems.push({
        pointer: '/headers/content-type',
        message: `must be one of ${[...operation.bodies.keys()].join(', ')}`,
      });
    if (ref) problems.push(...this.check(ref, body, '/body'));
    return problems;
  }

  /** A value against a schema by absolute reference (`https://…/ingest.schema.json#/$defs/Record`). */
  check(ref: string, value: unknown, prefix = ''): ContractProblem[] {
    const validate = this.#validator(ref);
    return validate(value) ? [] : toProblems(validate.errors, prefix);
  }

  /** A reference to a payload definition of a contract version, for `check`. */
  payloadRef(name: ContractName, version: ContractVersion, definition: string): string {
    return `${contractDocuments(name, version).payloads.$id}#/$defs/${definition}`;
  }

  #validator(ref: string): ValidateFunction {
    const found = this.#ajv.getSchema(ref);
    if (found) return found;
    return this.#ajv.compile({ $ref: ref });
  }

  #readOperations(name: ContractName, version: ContractVersion): Operation[] {
    const doc = contractDocuments(name, version).openapi as {
      paths: Record<string, Record<string, unknown>>;
      components?: { parameters?: Record<string, ParameterDoc>; responses?: Record<string, unknown> };
    };
    const base = openApiBase(name, version);
    const resolveRef = (ref: string) => new URL(ref, base).href;
    const local = <T>(value: T | { $ref: string }): T => {
      const ref = (value as { $ref?: string }).$ref;
      if (!ref?.startsWith('#/')) return value as T;
      return ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], doc) as T;
    };
    const schemaOf = (content: Record<string, { schema: { $ref: string } }> | undefined) =>
      new Map(Object.entries(content ?? {}).map(([type, media]) => [type, resolveRef(media.schema.$ref)]));
    const operations: Operation[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      const shared = (item.parameters as ParameterDoc[] | undefined) ?? [];
      for (const method of ['get', 'post', 'put', 'delete'] as const) {
        const op = item[method] as
          | {
              operationId: string;
              parameters?: ParameterDoc[];
              requestBody?: { content: never };
              responses: Record<string, never>;
            }
          | undefined;
        if (!op) continue;
        const pathParams = [...shared, ...(op.parameters ?? [])]
          .map((p) => local<ParameterDoc>(p))
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: this.#ajv.compile(resolveLocalRefs(p.schema ?? {}, local)) }));
        const responses = new Map<string, string>();
        for (const [status, response] of Object.entries(op.responses)) {
          const content = local<{ content?: never }>(response).content;
          const first = [...schemaOf(content).values()][0];
          if (first) responses.set(status, first);
        }
        operations.push({
          operationId: op.operationId,
          method: method.toUpperCase(),
          template,
          segments: template.split('/').slice(1),
          pathParams,
          bodies: schemaOf(op.requestBody?.content),
          responses,
        });
      }
    }
    return operations;
  }
}

function key(name: ContractName, version: ContractVersion): string {
  return `${name}@${version}`;
}

/** Inlines `#/components/…` references of a parameter schema (they point into the OpenAPI document). */
function resolveLocalRefs(schema: Record<string, unknown>, local: <T>(v: T) => T): Record<string, unknown> {
  return typeof schema.$ref === 'string' && schema.$ref.startsWith('#/') ? local(schema) : schema;
}

function toProblems(errors: ErrorObject[] | null | undefined, prefix: string): ContractProblem[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'required'
        ? `/${(e.params as { missingProperty: string }).missingProperty}`
        : e.keyword === 'additionalProperties'
          ? `/${(e.params as { additionalProperty: string }).additionalProperty}`
          : '';
    const message =
      e.keyword === 'additionalProperties' ? 'is not allowed by the contract' : (e.message ?? 'is invalid');
    return { pointer: `${prefix}${e.instancePath}${extra}` || '/', message };
  });
}
