import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { runMoneyProperties } from './storeProperties.ts';

runMoneyProperties('sqlite', async () => {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'reelay-money-'));
  const file = path.join(dir, 'reelay.db');
  return {
    open: async () => new SqliteStore(file, { synchronous: 'NORMAL' }),
    cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }),
  };
});
