/** The API store contract on SQLite (`<data-dir>/api.sqlite`). */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { openApiStore } from '../../api/index.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { apiStoreContract } from './api-store-contract.ts';

apiStoreContract('sqlite', {
  database: async () => {
    const dataDir = tempDir('maestro-api-contract-');
    return {
      open: () => openApiStore({ dataDir }),
      versionTable: 'schema_migrations',
      tablePrefix: '',
      sql: async (statement) => {
        const db = new DatabaseSync(join(dataDir, 'api.sqlite'));
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
    };
  },
});
