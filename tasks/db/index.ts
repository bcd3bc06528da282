// tasks/db: parameterised SQL against PostgreSQL (pg) or SQLite (node:sqlite), built on the task
// SDK. Params are always sent apart from the SQL text (never spliced in); the statements run in
// one transaction; an idempotency key is recorded in that same transaction, so a retried or
// re-run task applies its change at most once. The connection URL with its password comes from a
// secret (env:), never from `with:` (which is stored with the plan): a `url` holding a password is
// refused. Its spec is task.json's, checked equal by tasks/db/db.test.ts.
import { defineTask, runMain, TaskError, workspaceFile, type ValidationIssue } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { resolveTarget, type DbInputs } from './connection.ts';
import { runPostgres } from './postgres.ts';
import { runSqlite } from './sqlite.ts';
import { writeRows } from './rows-file.ts';
import type { Execution, Statement } from './statements.ts';

const param = { type: ['string', 'number', 'boolean', 'null'] } as const;

export const db = defineTask({
  name: 'db',
  version: '1.0.0',
  description:
    "Runs parameterised SQL against PostgreSQL or SQLite in one transaction; outputs the last statement's rows (or writes them to a CSV/JSON file), the rows affected, and skips a run whose idempotency key was already applied.",
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['driver'],
      properties: {
        driver: { enum: ['postgres', 'sqlite'], description: 'Which database.' },
        url: {
          type: 'string',
          minLength: 1,
          description:
            'postgres: a postgres:// URL without a password; sqlite: the database file, relative to the workspace.',
        },
        urlSecret: {
          type: 'string',
          pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
          description:
            'postgres: the environment variable (a secret passed in env:) holding the URL with its credentials. Default DATABASE_URL when url is absent. Beyond loopback the URL must ask for verified TLS (sslmode=verify-full), else credential_in_clear.',
        },
        sql: {
          type: 'string',
          minLength: 1,
          description: 'One statement; $1, $2 (postgres) or ? (sqlite) are its params.',
        },
        params: {
          type: 'array',
          items: param,
          description: "The values of sql's placeholders, in order: never spliced into the SQL text.",
        },
        statements: {
          type: 'array',
          minItems: 1,
          description: "Statements run in order; the rows output is the last one's.",
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['sql'],
            properties: { sql: { type: 'string', minLength: 1 }, params: { type: 'array', items: param } },
          },
        },
        transaction: {
          type: 'boolean',
          description: 'Run every statement in one transaction, all or nothing (default true).',
        },
        idempotencyKey: {
          type: 'string',
          minLength: 1,
          maxLength: 200,
          description:
            'Applied at most once per database: recorded in the table maestro_task_idempotency in the same transaction; a later run with the same key changes nothing and outputs skipped=true.',
        },
        resultFile: {
          type: 'string',
          minLength: 1,
          description:
            'Write the rows to this workspace file instead of the rows output (declare it in artifacts: to keep it).',
        },
        format: { enum: ['json', 'csv'], description: "resultFile's format (default json)." },
        maxRows: {
          type: 'integer',
          minimum: 0,
          description:
            'At most this many rows in the rows output (default 1000); more fail the task: use resultFile.',
        },
      },
    },
    outputs: {
      type: 'object',
      required: ['rowCount', 'affected', 'skipped'],
      properties: {
        rows: { type: 'array', items: { type: 'object' }, description: "The last statement's rows." },
        rowCount: { type: 'integer', description: 'How many rows the last statement returned.' },
        affected: {
          type: 'integer',
          description: 'Rows inserted, updated or deleted by all the statements.',
        },
        skipped: { type: 'boolean', description: 'The idempotency key had been applied: nothing ran.' },
        resultFile: { type: 'string', description: 'The file the rows were written to.' },
      },
    },
  },
  validate(inputs) {
    const errors: ValidationIssue[] = [];
    if ((inputs.sql === undefined) === (inputs.statements === undefined))
      errors.push({ path: '/sql', message: 'give exactly one of sql and statements' });
    if (inputs.params !== undefined && inputs.sql === undefined)
      errors.push({ path: '/params', message: 'params go with sql (each of statements has its own)' });
    if (inputs.driver === 'sqlite' && inputs.url === undefined)
      errors.push({
        path: '/url',
        message: 'sqlite needs url: the database file, relative to the workspace',
      });
    if (inputs.driver === 'sqlite' && inputs.urlSecret !== undefined)
      errors.push({ path: '/urlSecret', message: 'only postgres reads its URL from a secret' });
    if (inputs.url !== undefined && inputs.urlSecret !== undefined)
      errors.push({ path: '/urlSecret', message: 'give url or urlSecret, not both' });
    if (inputs.idempotencyKey !== undefined && inputs.transaction === false)
      errors.push({ path: '/idempotencyKey', message: 'an idempotency key needs transaction: true' });
    if (inputs.format !== undefined && inputs.resultFile === undefined)
      errors.push({ path: '/format', message: 'format is the format of resultFile, which is not set' });
    return { ok: errors.length === 0, errors };
  },
  async execute(inputs, ctx) {
    // The database conventions' span: its system, the statements, and what they returned.
    const attributes = {
      'db.system.name': inputs.driver === 'postgres' ? 'postgresql' : 'sqlite',
      'db.operation.batch.size': inputs.statements?.length ?? 1,
    };
    return await inTaskSpan(ctx, `db ${inputs.driver}`, { task: 'db', attributes }, async (span) => {
      const target = resolveTarget(inputs as DbInputs, ctx);
      const statements: Statement[] = inputs.statements ?? [
        { sql: inputs.sql as string, params: inputs.params },
      ];
      const plan = {
        statements,
        transaction: inputs.transaction ?? true,
        idempotencyKey: inputs.idempotencyKey,
        signal: ctx.signal,
      };
      ctx.emit.log(`db: ${statements.length} statement(s) on ${target.describe}`);
      const done: Execution =
        target.driver === 'postgres' ? await runPostgres(target.url, plan) : runSqlite(target.file, plan);
      if (done.skipped) {
        ctx.emit.log(
          `db: idempotency key ${JSON.stringify(inputs.idempotencyKey)} already applied; nothing ran`,
        );
        span.setAttribute('maestro.db.skipped', true);
        return { rowCount: 0, affected: 0, skipped: true };
      }
      ctx.emit.metric('rows', done.rows.length, 'rows');
      ctx.emit.metric('affected', done.affected, 'rows');
      span.setAttributes({
        'db.response.returned_rows': done.rows.length,
        'maestro.db.affected': done.affected,
      });
      const summary = { rowCount: done.rows.length, affected: done.affected, skipped: false };
      if (inputs.resultFile !== undefined) {
        const file = workspaceFile(ctx.workspace, inputs.resultFile, '/resultFile');
        writeRows(file, done, inputs.format ?? 'json');
        ctx.emit.artifact(inputs.resultFile);
        return { ...summary, resultFile: inputs.resultFile };
      }
      const maxRows = inputs.maxRows ?? 1000;
      if (done.rows.length > maxRows)
        throw new TaskError(
          'db_too_many_rows',
          `the last statement returned ${done.rows.length} rows, over /maxRows (${maxRows})`,
          {
            hint: 'write them to a file with resultFile (and keep it with artifacts:), or raise maxRows',
          },
        );
      return { ...summary, rows: done.rows };
    });
  },
});

if (import.meta.main) await runMain(db, process.env);
