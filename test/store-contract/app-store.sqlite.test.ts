/** The App's store contract on SQLite (`<data-dir>/github-app.sqlite`). */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openAppStore, openDeliveryStore } from '../../app/index.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { appStoreContract } from './app-store-contract.ts';

appStoreContract('sqlite', {
  database: async () => {
    const dataDir = tempDir('maestro-app-contract-');
    return {
      open: async () => ({
        app: await openAppStore({ dataDir }),
        deliveries: await openDeliveryStore({ dataDir }),
      }),
      prefix: '',
      futureVersion: "UPDATE app_schema SET version = 999 WHERE component = 'app'",
      sql: async (statement) => {
        const db = new DatabaseSync(join(dataDir, 'github-app.sqlite'));
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
    };
  },
});
