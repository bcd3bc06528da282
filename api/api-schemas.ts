/**
 * The API's JSON Schemas (schemas/api/api.schema.json) and the ajv the server validates requests
 * with: draft 2020-12 (Fastify's own ajv is draft-07), no removal of unknown fields (Fastify's
 * default removes them silently; here they are a 400 naming them), every error collected.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

export const API_SCHEMA_ID = 'https://maestro.dev/schemas/api/api.schema.json';

export interface ApiSchemaDocument {
  $defs: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export const apiSchema = JSON.parse(
  readFileSync(new URL('../schemas/api/api.schema.json', import.meta.url), 'utf8'),
) as ApiSchemaDocument;

export function createApiAjv(options: { coerceTypes: boolean }): Ajv2020 {
  // Formats are not checked here (ajv-formats is a development dependency): the handlers parse
  // the few formatted inputs (`since`, `until`) themselves and name them when they are wrong.
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    validateFormats: false,
    coerceTypes: options.coerceTypes,
  });
  ajv.addSchema(apiSchema);
  return ajv;
}

export function definitionRef(name: string): { $ref: string } {
  return { $ref: `${API_SCHEMA_ID}#/$defs/${name}` };
}

/** ajv's errors as `{pointer, message}`, naming an unknown field in its pointer. */
export function describeErrors(
  where: string,
  errors: readonly ErrorObject[],
): { pointer: string; message: string }[] {
  return errors
    .filter((e) => e.keyword !== 'oneOf' || errors.length === 1)
    .map((e) => {
      const extra = e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : undefined;
      const pointer = `${where}${e.instancePath}${extra ? `/${extra}` : ''}`;
      const message = extra ? `unknown field ${JSON.stringify(extra)}` : (e.message ?? 'is invalid');
      return { pointer, message };
    });
}

export type { ValidateFunction };
