/** The decision log contract on SQLite (`<data-dir>/decisions.db`, as the runtime opens it). */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openPolicyLog } from '../../runtime/index.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { decisionLogContract } from './decision-log-contract.ts';

decisionLogContract('sqlite', {
  database: async () => {
    const dataDir = tempDir('maestro-decision-log-');
    return {
      open: () => openPolicyLog({ dataDir, durability: 'normal' }),
      sql: async (statement) => {
        const db = new DatabaseSync(join(dataDir, 'decisions.db'));
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
    };
  },
});
