/** The schedule store contract on SQLite (the tables in the App's file). */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openScheduleStore } from '../../engine/index.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { scheduleStoreContract } from './schedule-store-contract.ts';

scheduleStoreContract('sqlite', {
  database: async () => {
    const file = join(tempDir('maestro-schedule-contract-'), 'github-app.sqlite');
    return {
      open: async () => {
        const db = new DatabaseSync(file);
        db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
        return { ...openScheduleStore(db), close: async () => db.close() };
      },
    };
  },
});
