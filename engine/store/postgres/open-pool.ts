/**
 * Opens a pool of connections to a PostgreSQL database and brings a schema up to date, refusing
 * a database it cannot use (unreachable, bad credentials, a schema newer than this build) with a
 * StoreUnusableError that names the server but never the password. The one migration runner for
 * every store on PostgreSQL (the engine's, the API's, the schedules', the decision log's, the
 * App's): each names its own version table, so each store's versions advance independently.
 */
import type pg from 'pg';
import { StoreUnusableError } from '../../errors.ts';
import { loadPg } from './load-pg.ts';
import { migrations } from './migrations.ts';

/** The URL without its password, for messages and `Store.location`. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

// json and jsonb come back as their text, exactly as SQLite returns its TEXT columns, so the one
// row mapping (sqlite/rows.ts) parses both; int8 stays a string and is converted there by Number().
const identity = (value: string): string => value;
function typeParsers(driver: typeof pg): { getTypeParser: typeof pg.types.getTypeParser } {
  return {
    getTypeParser: ((oid: number, format?: string) =>
      oid === 114 || oid === 3802
        ? identity
        : driver.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
}

/** One store's forward-only migrations and the table that records which have run. */
export interface PostgresSchema {
  /** e.g. `schema_migrations` (the engine's), `api_schema_migrations`. */
  table: string;
  migrations: readonly { version: number; sql: string }[];
}

/** The engine store's schema. */
export const engineSchema: PostgresSchema = { table: 'schema_migrations', migrations };

export interface PoolOptions {
  /** Connections per process (default 10). */
  max?: number;
  /** The schema to bring up to date (default: the engine store's). */
  schema?: PostgresSchema;
}

export async function openPool(url: string, options: PoolOptions = {}): Promise<pg.Pool> {
  const schema = options.schema ?? engineSchema;
  if (!/^[a-z_]+$/.test(schema.table)) throw new Error(`bad migrations table name ${schema.table}`);
  const driver = await loadPg();
  const pool = new driver.Pool({ connectionString: url, max: options.max ?? 10, types: typeParsers(driver) });
  // An idle client losing its server (a PostgreSQL restart) must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', () => {});
  // A connection the server ends (a restart: 57P01) also emits 'error' on its client, checked out
  // or not; its pending query is rejected either way. pg-pool listens only while a client is idle
  // or inside pool.query, and a client without a listener at that moment ended the process (the
  // replica restart drill, test/replicas-kill.test.ts). Every client gets one for its whole life.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await migrate(pool, url, schema);
  } catch (error) {
    await pool.end();
    if (error instanceof StoreUnusableError) throw error;
    throw new StoreUnusableError(
      `the PostgreSQL database ${redactedUrl(url)} cannot be used: ${messageOf(error)}`,
      {
        cause: error,
        hint: 'check MAESTRO_DATABASE_URL (host, port, user, password, database) and that the server is up',
      },
    );
  }
  return pool;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function migrate(pool: pg.Pool, url: string, schema: PostgresSchema): Promise<void> {
  const { table } = schema;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One migrator at a time across replicas; released at COMMIT.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('maestro.${table}'))`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (version integer PRIMARY KEY, applied_at bigint NOT NULL)`,
    );
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${table}`);
    const current = rows[0]?.v ?? 0;
    const latest = schema.migrations.at(-1)?.version ?? 0;
    if (current > latest)
      throw new StoreUnusableError(
        `the database ${redactedUrl(url)} has schema version ${current}, newer than this maestro knows (${latest}), in ${table}`,
        { hint: 'upgrade maestro, or point MAESTRO_DATABASE_URL at another database' },
      );
    for (const migration of schema.migrations) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${table} (version, applied_at) VALUES ($1, $2)`, [
        migration.version,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
