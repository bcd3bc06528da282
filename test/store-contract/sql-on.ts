/** Raw SQL on a PostgreSQL database, outside any store (one connection per statement). */
import pg from 'pg';

export function sqlOn(databaseUrl: string): (statement: string) => Promise<void> {
  return async (statement) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
}
