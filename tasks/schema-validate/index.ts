// tasks/schema-validate: a JSON value (inline, a workspace file, or an artifact of a task this one
// needs) against a JSON Schema (2020-12), built on the task SDK with the SDK's own checker (every
// violation with its JSON Pointer path, the missing or extra property's name included). Outputs
// `valid`, the number of `errors` and the `violations`. Its spec is task.json's, checked equal by
// tasks/schema-validate/schema-validate.test.ts.
import { readFileSync } from 'node:fs';
import { SpanKind } from '@opentelemetry/api';
import {
  compileSchema,
  defineTask,
  runMain,
  TaskError,
  workspaceFile,
  type ValidationIssue,
} from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { compileAvro } from './avro.ts';

const MAX_VIOLATIONS = 100;

export const schemaValidate = defineTask({
  name: 'schema-validate',
  version: '1.1.0',
  description:
    'Validates a JSON value (inline, from a workspace file or from an artifact) against a JSON Schema (2020-12) or an Avro schema; outputs `valid`, the number of `errors` and each violation with its path.',
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        schema: {
          type: 'object',
          description: 'The schema, inline (a JSON Schema, or an Avro schema with `format: avro`).',
        },
        schemaFile: {
          type: 'string',
          minLength: 1,
          description: 'A schema file (JSON), relative to the workspace (instead of `schema`).',
        },
        format: {
          enum: ['json-schema', 'avro'],
          description:
            'The schema language (default `json-schema`, 2020-12). `avro`: the value is in Avro\'s JSON encoding (a non-null union value wrapped as `{"<branch>": value}`).',
        },
        value: { description: 'The value to validate, inline.' },
        file: {
          type: 'string',
          minLength: 1,
          description: 'A JSON file to validate, relative to the workspace (instead of `value`).',
        },
        artifact: {
          type: 'string',
          pattern: '^[^/]+/.+$',
          description: 'A JSON file a task this one needs kept: `<task>/<path>` (instead of `value`).',
        },
        failOnInvalid: {
          type: 'boolean',
          description: 'Exit with failure when invalid (default false: only set `valid=false`).',
        },
      },
    },
    outputs: {
      type: 'object',
      required: ['valid', 'errors'],
      properties: {
        valid: { type: 'boolean', description: 'The value matches the schema.' },
        errors: { type: 'integer', description: 'How many violations.' },
        violations: {
          type: 'array',
          items: { type: 'object' },
          description: `Each violation, { path, message } (the first ${MAX_VIOLATIONS}).`,
        },
      },
    },
  },
  validate(inputs) {
    const errors: ValidationIssue[] = [];
    if ((inputs.schema === undefined) === (inputs.schemaFile === undefined))
      errors.push({ path: '/schema', message: 'give exactly one of schema and schemaFile' });
    const sources = ['value', 'file', 'artifact'].filter((k) => Object.hasOwn(inputs, k));
    if (sources.length !== 1)
      errors.push({ path: '/value', message: 'give exactly one of value, file and artifact' });
    return { ok: errors.length === 0, errors };
  },
  async execute(inputs, ctx) {
    // No peer: an INTERNAL span, so the check shows in the run's trace with its verdict.
    const source = inputs.file !== undefined ? 'file' : inputs.artifact !== undefined ? 'artifact' : 'value';
    const attributes = {
      'maestro.schema.source': source,
      'maestro.schema.format': inputs.format === 'avro' ? 'avro' : 'json-schema',
    };
    const options = { task: 'schema-validate', kind: SpanKind.INTERNAL, attributes };
    return await inTaskSpan(ctx, 'schema-validate', options, async (span) => {
      const schema =
        inputs.schema ??
        readJson(workspaceFile(ctx.workspace, inputs.schemaFile as string, '/schemaFile'), '/schemaFile');
      const avro = inputs.format === 'avro';
      let check: (value: unknown) => { ok: boolean; errors: ValidationIssue[] };
      try {
        check = avro ? compileAvro(schema) : compileSchema(schema);
      } catch (error) {
        throw new TaskError(
          'schema_invalid',
          `${inputs.schema ? '/schema' : '/schemaFile'} is not a valid ${avro ? 'Avro schema' : 'JSON Schema'}: ${(error as Error).message}`,
          {
            hint: avro
              ? 'check it against the Avro 1.11 specification (every named type needs a name, every field a type)'
              : 'check it against JSON Schema 2020-12 (a draft-07 $schema is not read)',
          },
        );
      }
      const value =
        inputs.file !== undefined
          ? readJson(workspaceFile(ctx.workspace, inputs.file, '/file'), '/file')
          : inputs.artifact !== undefined
            ? readJson(artifactFile(ctx.artifactsDir, inputs.artifact), '/artifact')
            : inputs.value;
      const result = check(value);
      for (const v of result.errors.slice(0, MAX_VIOLATIONS)) ctx.emit.log(`${v.path || '/'} ${v.message}`);
      ctx.emit.log(result.ok ? 'valid' : `invalid (${result.errors.length} errors)`);
      ctx.emit.output('valid', result.ok);
      span.setAttributes({
        'maestro.schema.valid': result.ok,
        'maestro.schema.errors': result.errors.length,
      });
      ctx.emit.output('errors', result.errors.length);
      ctx.emit.output(
        'violations',
        result.errors.slice(0, MAX_VIOLATIONS).map(({ path, message }) => ({ path, message })),
      );
      if (!result.ok && inputs.failOnInvalid)
        throw new TaskError(
          'value_invalid',
          `the value does not match the schema (${result.errors.length} violations)`,
          {
            hint: 'the violations are in the log and the violations output',
          },
        );
    });
  },
});

function artifactFile(artifactsDir: string | undefined, artifact: string): string {
  if (!artifactsDir)
    throw new TaskError(
      'artifact_missing',
      `/artifact: no artifacts were handed to this task (${artifact})`,
      {
        hint: 'list the producing task in needs: and its file in that task’s artifacts:',
      },
    );
  return workspaceFile(artifactsDir, artifact, '/artifact');
}

function readJson(path: string, input: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TaskError(
      'file_unreadable',
      `${input}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TaskError('file_not_json', `${input}: ${path} is not JSON: ${(error as Error).message}`);
  }
}

if (import.meta.main) await runMain(schemaValidate, process.env);
