/** The store contract on the embedded SQLite store (through its async adapter). */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { openAsyncStore } from '../../engine/index.ts';
import { migrations } from '../../engine/store/sqlite/migrations.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { labelsVersion, storeContract } from './store-contract.ts';

storeContract('sqlite', {
  labelsVersion: labelsVersion(migrations),
  database: async () => {
    const dataDir = tempDir('maestro-contract-');
    return {
      open: () => openAsyncStore({ dataDir }),
      sql: async (statement) => {
        const db = new DatabaseSync(join(dataDir, 'maestro.db'));
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
    };
  },
});
